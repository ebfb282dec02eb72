"""Sous-traitants' drafts (A10, A11) go to their titulaire first (15 days, tacit validation), then to the MOE;
cotraitants' drafts (A13) go to the MOE, and the mandataire follows them read-only."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from choeur.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import InvoiceStatus as S
from choeur.invoices.lifecycle import invoice_payment_clock_view
from choeur.invoices.signals import invoice_status_changed
from choeur.invoices.validation_circuit import invoice_validate, validation_queue
from choeur.works import circuit
from choeur.works.enums import DossierStatus, EventKind, PartyRole
from choeur.works.periodic import titulaire_validations
from choeur.works.selectors import describe_expected, dossier_get_for_user, works_queue, works_validation_queue
from choeur.works.services import PartyInput, marche_create, works_moe_take, works_moe_transmit, works_piece_deposit
from choeur.works.validation import works_piece_sync, works_validations_due, works_valideur_decide
from tests.invoices.factories import member_of
from tests.works.factories import a4_lines, company, groupement_market, works_market

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub():
    """A market whose titulaire has a sous-traitant paid directly."""
    m = works_market()
    sous_traitant = company(raison_sociale="Électricité Durand")
    marche = marche_create(
        by=m.user("moe"),
        structure=m.moe,
        numero="MT-2026-010",
        objet="Gymnase",
        parties=[
            PartyInput(PartyRole.MOA, m.moa),
            PartyInput(PartyRole.MOE, m.moe),
            PartyInput(PartyRole.TITULAIRE, m.titulaire),
            PartyInput(PartyRole.SOUS_TRAITANT, sous_traitant, works_for=m.titulaire, paiement_direct=True),
        ],
    )
    m.marche = marche
    m.extra["sous_traitant"] = sous_traitant
    m.users["sous_traitant"] = member_of(sous_traitant, EspaceCode.FACTURES_TRAVAUX)
    return m


def deposit_a10(m, cadre="A10"):
    return works_piece_deposit(
        marche=m.marche, cadre=cadre, by=m.user("sous_traitant"), structure=m.extra["sous_traitant"],
        lines=a4_lines(),
    )  # fmt: skip


def test_a10_goes_to_the_titulaire_first(sub):
    piece = deposit_a10(sub)
    invoice, dossier = piece.invoice, piece.dossier
    assert invoice.status == S.A_VALIDER_1
    assert invoice.valideur == sub.titulaire and invoice.valideur2 is None
    assert invoice.supplier == sub.extra["sous_traitant"] and invoice.moe == sub.moe
    assert dossier.waiting_for == circuit.VALIDEUR
    assert abs(dossier.deadline - (invoice.status_changed_at + timedelta(days=15))) < timedelta(seconds=5)
    assert dossier.moe_received_at is None  # the MOE's 7 days have not started
    # The MOE's queue is empty; the titulaire's validation queue holds the dossier.
    assert not works_queue(user=sub.user("moe")).exists()
    assert list(works_validation_queue(user=sub.user("titulaire"))) == [dossier]
    assert "validation du projet du sous-traitant par Bâtiments Martin SA" in describe_expected(dossier)
    # The MOE cannot act before the titulaire.
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(dossier=dossier, cadre="A15", by=sub.user("moe"), structure=sub.moe)
    assert "attend la validation de Bâtiments Martin SA" in exc.value.message
    with pytest.raises(ApplicationError):
        works_moe_take(dossier=dossier, by=sub.user("moe"), structure=sub.moe)


def test_titulaire_validates_then_the_moe_processes(sub):
    piece = deposit_a10(sub)
    dossier = piece.dossier
    with pytest.raises(PermissionDeniedError) as exc:
        works_valideur_decide(dossier=dossier, by=sub.user("moe"), structure=sub.moe, decision="VALIDATION")
    assert "se valide par Bâtiments Martin SA" in exc.value.message
    works_valideur_decide(
        dossier=dossier, by=sub.user("titulaire"), structure=sub.titulaire, decision="VALIDATION", certified=True
    )
    piece.invoice.refresh_from_db()
    dossier.refresh_from_db()
    assert piece.invoice.status == S.MISE_A_DISPOSITION_MOE
    history = list(piece.invoice.status_changes.order_by("id").values_list("transition", flat=True))
    assert history[-3:] == ["soumettre_valideur", "valider_1", "mettre_a_disposition_moe"]
    assert dossier.waiting_for == PartyRole.MOE and dossier.moe_received_at is not None
    assert dossier.moe_deadline == dossier.moe_received_at + timedelta(days=7)
    assert dossier.events.filter(kind=EventKind.VALIDATION, message__contains="a validé la pièce A10").exists()
    assert list(works_queue(user=sub.user("moe"))) == [dossier]
    assert not works_validation_queue(user=sub.user("titulaire")).exists()
    a15 = works_moe_transmit(dossier=dossier, by=sub.user("moe"), structure=sub.moe)
    assert a15.invoice.status == S.TRANSMISE_MOA and a15.invoice.supplier == sub.extra["sous_traitant"]
    # The payment clock started at the MOE's reception, after the titulaire's validation.
    view = invoice_payment_clock_view(invoice=piece.invoice)
    assert abs(view["start"] - dossier.moe_received_at) < timedelta(seconds=2)
    assert view["start"] > piece.invoice.deposited_at


def test_titulaire_refuses_with_a_coded_reason(sub):
    piece = deposit_a10(sub)
    dossier = piece.dossier
    with pytest.raises(ApplicationError) as exc:
        works_valideur_decide(dossier=dossier, by=sub.user("titulaire"), structure=sub.titulaire, decision="REFUS")
    assert "choisissez un motif" in exc.value.message and "HORS_ACTE_SOUS_TRAITANCE" in exc.value.message
    works_valideur_decide(
        dossier=dossier, by=sub.user("titulaire"), structure=sub.titulaire, decision="REFUS",
        motif="HORS_ACTE_SOUS_TRAITANCE", comment="Lot 3 non sous-traité",
    )  # fmt: skip
    piece.invoice.refresh_from_db()
    dossier.refresh_from_db()
    assert piece.invoice.status == S.REFUSEE_1
    assert dossier.status == DossierStatus.REFUSE and dossier.waiting_for == ""
    event = dossier.events.get(kind=EventKind.REFUS)
    assert "périmètre de l'acte spécial de sous-traitance" in event.message and "Lot 3" in event.message
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(dossier=dossier, cadre="A15", by=sub.user("moe"), structure=sub.moe)
    assert "est arrêté" in exc.value.message


def test_tacit_validation_after_15_days_sends_it_to_the_moe(sub):
    piece = deposit_a10(sub)
    dossier = piece.dossier
    deadline = dossier.deadline
    assert works_validations_due(now=deadline - timedelta(minutes=1)) == 0
    piece.invoice.refresh_from_db()
    assert piece.invoice.status == S.A_VALIDER_1
    with time_machine.travel(deadline + timedelta(hours=1)):
        titulaire_validations(now=timezone.now(), since=None)
        titulaire_validations(now=timezone.now(), since=None)  # twice: nothing more happens
    piece.invoice.refresh_from_db()
    dossier.refresh_from_db()
    assert piece.invoice.status == S.MISE_A_DISPOSITION_MOE
    transitions = list(piece.invoice.status_changes.values_list("transition", flat=True))
    assert transitions.count("valider_tacitement_1") == 1 and transitions.count("mettre_a_disposition_moe") == 1
    assert dossier.waiting_for == PartyRole.MOE
    assert dossier.events.filter(kind=EventKind.VALIDATION, message__contains="validée tacitement").count() == 1


def test_validation_in_factures_a_valider_moves_the_dossier(sub, django_capture_on_commit_callbacks):
    piece = deposit_a10(sub)
    titulaire_user = member_of(sub.titulaire, EspaceCode.FACTURES_A_VALIDER)
    assert piece.invoice in validation_queue(user=titulaire_user)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_validate(
            invoice=piece.invoice, by=titulaire_user, structure=sub.titulaire, decision="VALIDATION",
            channel="PORTAIL",
        )  # fmt: skip
    piece.invoice.refresh_from_db()
    assert piece.invoice.status == S.MISE_A_DISPOSITION_MOE
    piece.dossier.refresh_from_db()
    assert piece.dossier.waiting_for == PartyRole.MOE


def test_periodic_job_catches_up_a_validation_made_elsewhere(sub):
    piece = deposit_a10(sub)
    receivers = invoice_status_changed.receivers
    invoice_validate(invoice=piece.invoice, by=None, structure=sub.titulaire, decision="VALIDATION", channel="API")
    assert invoice_status_changed.receivers == receivers
    piece.invoice.refresh_from_db()
    assert piece.invoice.status == S.VALIDEE_1  # no commit in the test: the signal did not run
    assert works_validations_due(now=timezone.now()) == 1
    piece.invoice.refresh_from_db()
    assert piece.invoice.status == S.MISE_A_DISPOSITION_MOE
    assert works_piece_sync(invoice=piece.invoice).waiting_for == PartyRole.MOE  # idempotent


def test_subcontractor_of_a_cotraitant_needs_the_cotraitant_then_the_mandataire():
    g = groupement_market(works_market(), numero="GRP-9", objet="Piscine", sous_traitant=True)
    marche, mandataire, cotraitant, sous_traitant, users = (
        g.marche,
        g.mandataire,
        g.cotraitant,
        g.sous_traitant,
        g.users,
    )
    piece = works_piece_deposit(
        marche=marche, cadre="A10", by=users[sous_traitant], structure=sous_traitant, lines=a4_lines()
    )
    dossier = piece.dossier
    assert (piece.invoice.valideur, piece.invoice.valideur2) == (cotraitant, mandataire)
    # The cotraitant sees its sous-traitant's dossier because it validates it.
    assert dossier_get_for_user(user=users[cotraitant], dossier_id=dossier.pk) == dossier
    with pytest.raises(PermissionDeniedError):
        works_valideur_decide(dossier=dossier, by=users[mandataire], structure=mandataire, decision="VALIDATION")
    works_valideur_decide(dossier=dossier, by=users[cotraitant], structure=cotraitant, decision="VALIDATION")
    piece.invoice.refresh_from_db()
    dossier.refresh_from_db()
    assert piece.invoice.status == S.A_VALIDER_2 and dossier.waiting_for == circuit.VALIDEUR
    assert list(works_validation_queue(user=users[mandataire])) == [dossier]
    works_valideur_decide(dossier=dossier, by=users[mandataire], structure=mandataire, decision="VALIDATION")
    piece.invoice.refresh_from_db()
    assert piece.invoice.status == S.MISE_A_DISPOSITION_MOE


def test_a11_final_draft_follows_the_same_validation(sub):
    piece = deposit_a10(sub, cadre="A11")
    assert piece.invoice.status == S.A_VALIDER_1 and piece.dossier.kind == "FINAL"
    works_valideur_decide(
        dossier=piece.dossier, by=sub.user("titulaire"), structure=sub.titulaire, decision="VALIDATION"
    )
    piece.invoice.refresh_from_db()
    assert piece.invoice.status == S.MISE_A_DISPOSITION_MOE


def test_a_subcontractor_not_on_the_sheet_is_refused_in_french(sub):
    outsider = company(raison_sociale="Plomberie Absente")
    user = member_of(outsider, EspaceCode.FACTURES_TRAVAUX)
    with pytest.raises(PermissionDeniedError) as exc:
        works_piece_deposit(marche=sub.marche, cadre="A10", by=user, structure=outsider, lines=a4_lines())
    message = exc.value.message
    assert "Plomberie Absente n'est pas partie au marché MT-2026-010" in message
    assert "fiche d'identité du marché" in message


def test_cotraitant_draft_goes_to_the_moe_and_the_mandataire_sees_it_read_only():
    g = groupement_market(works_market(), numero="GRP-11", objet="École")
    marche, mandataire, cotraitant, users = g.marche, g.mandataire, g.cotraitant, g.users
    piece = works_piece_deposit(
        marche=marche, cadre="A13", by=users[cotraitant], structure=cotraitant, lines=a4_lines()
    )
    dossier = piece.dossier
    assert piece.invoice.status == S.MISE_A_DISPOSITION_MOE and piece.invoice.valideur is None
    assert dossier.waiting_for == PartyRole.MOE
    assert dossier_get_for_user(user=users[mandataire], dossier_id=dossier.pk) == dossier
    # Read-only: the mandataire can neither deposit in it nor answer for the MOE.
    with pytest.raises(PermissionDeniedError):
        works_piece_deposit(dossier=dossier, cadre="A15", by=users[mandataire], structure=mandataire)
    with pytest.raises(PermissionDeniedError):
        works_moe_transmit(dossier=dossier, by=users[mandataire], structure=mandataire)
    # Another cotraitant's dossier is not visible to a cotraitant.
    other = company()
    with pytest.raises(NotFoundError):
        dossier_get_for_user(user=member_of(other), dossier_id=dossier.pk)
