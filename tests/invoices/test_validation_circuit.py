"""The valideurs' circuit of A9/A12 invoices: validation, refusal, « pas le bon valideur », correction by the
supplier, two levels, the 15-day tacit validation and its periodic job."""

import datetime

import pytest
import time_machine

from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from choeur.core.models import AuditEntry, ScheduledRun
from choeur.core.scheduler import registered_jobs, scheduler_tick
from choeur.directory.enums import EspaceCode, Habilitation, Role, SubscriptionStatus
from choeur.directory.models import EspaceSubscription
from choeur.invoices import circuit_periodic
from choeur.invoices.enums import ActorRole, Cadre, Channel, InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.selectors import invoices_received
from choeur.invoices.services import invoice_send
from choeur.invoices.validation_circuit import (
    REFUSAL_MOTIFS,
    invoice_get_for_valideur,
    invoice_get_for_valideur_correction,
    invoice_validate,
    invoice_validate_tacitly,
    invoice_valideur_correct,
    invoices_seen_by_valideur,
    invoices_validate_tacitly_due,
    invoices_validation_due,
    invoices_valideur_to_correct,
    refusal_motifs_for,
    validation_days_left,
    validation_deadline,
    validation_queue,
)
from tests.directory.factories import RattachementFactory, ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of, open_espace

pytestmark = pytest.mark.django_db

S = InvoiceStatus
SENT_AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def sent_a9(**kwargs):
    """A real A9 sent through `invoice_send` on SENT_AT: it waits for its valideur (A_VALIDER_1)."""
    draft = InvoiceFactory(with_lines=True, a9=True, invoice_date=SENT_AT.date(), **kwargs)
    with time_machine.travel(SENT_AT, tick=False):
        return invoice_send(invoice=draft, by=issuer_for(draft.supplier))


def transitions(invoice):
    return [c.transition for c in InvoiceStatusChange.objects.for_invoice(invoice)]


@pytest.fixture
def invoice():
    return sent_a9()


@pytest.fixture
def titulaire(invoice):
    """A person of the valideur structure with « Factures à valider » (modification)."""
    return member_of(invoice.valideur, EspaceCode.FACTURES_A_VALIDER)


# --- Validation ------------------------------------------------------------------------------------------


def test_validation_by_the_titulaire_sends_the_invoice_to_its_recipient(invoice, titulaire):
    assert invoice.status == S.A_VALIDER_1
    assert not invoices_received(user=member_of(invoice.recipient)).exists()

    result = invoice_validate(
        invoice=invoice,
        by=titulaire,
        structure=invoice.valideur,
        decision="VALIDATION",
        comment="Conforme à l'acte spécial.",
        channel=Channel.PORTAIL,
        certified=True,
    )

    assert result.status == S.MISE_A_DISPOSITION
    assert transitions(result) == ["deposer", "soumettre_valideur", "valider_1", "mettre_a_disposition"]
    change = InvoiceStatusChange.objects.get(invoice=invoice, transition="valider_1")
    assert change.actor_user == titulaire
    assert change.actor_structure == invoice.valideur
    assert change.actor_role == ActorRole.VALIDEUR
    assert change.comment == "Conforme à l'acte spécial."
    assert change.data["titulaire_certifie"] is True
    assert change.data["niveau"] == 1
    assert list(invoices_received(user=member_of(invoice.recipient))) == [result]
    assert not validation_queue(user=titulaire).exists()


def test_two_levels_cotraitant_then_mandataire():
    cotraitant, mandataire = StructureFactory(), StructureFactory()
    invoice = sent_a9(valideur=cotraitant, valideur2=mandataire)
    cotraitant_user = member_of(cotraitant, EspaceCode.FACTURES_A_VALIDER)
    mandataire_user = member_of(mandataire, EspaceCode.FACTURES_A_VALIDER)
    # The mandataire does not see the invoice before its turn, and may not act on it.
    assert not validation_queue(user=mandataire_user).exists()
    assert not invoices_seen_by_valideur(structure=mandataire).exists()
    with pytest.raises(PermissionDeniedError, match="n'est pas le valideur de niveau 1"):
        invoice_validate(
            invoice=invoice, by=mandataire_user, structure=mandataire, decision="VALIDATION", channel="PORTAIL"
        )

    after_1 = invoice_validate(
        invoice=invoice, by=cotraitant_user, structure=cotraitant, decision="VALIDATION", channel="PORTAIL"
    )
    assert after_1.status == S.A_VALIDER_2
    assert list(validation_queue(user=mandataire_user)) == [after_1]
    assert not validation_queue(user=cotraitant_user).exists()
    with pytest.raises(PermissionDeniedError, match="n'est pas le valideur de niveau 2"):
        invoice_validate(
            invoice=invoice, by=cotraitant_user, structure=cotraitant, decision="VALIDATION", channel="PORTAIL"
        )

    after_2 = invoice_validate(
        invoice=invoice, by=mandataire_user, structure=mandataire, decision="VALIDATION", channel="PORTAIL"
    )
    assert after_2.status == S.MISE_A_DISPOSITION
    assert transitions(after_2)[1:] == [
        "soumettre_valideur",
        "valider_1",
        "soumettre_valideur_2",
        "valider_2",
        "mettre_a_disposition",
    ]
    assert set(invoices_seen_by_valideur(structure=mandataire)) == {after_2}


def test_a12_cotraitant_invoice_is_validated_by_the_mandataire():
    draft = InvoiceFactory(with_lines=True, a12=True)
    invoice = invoice_send(invoice=draft, by=issuer_for(draft.supplier))
    mandataire = member_of(invoice.valideur, EspaceCode.FACTURES_A_VALIDER)
    result = invoice_validate(
        invoice=invoice, by=mandataire, structure=invoice.valideur, decision="VALIDATION", channel=Channel.API
    )
    assert result.status == S.MISE_A_DISPOSITION


# --- Refusal ---------------------------------------------------------------------------------------------


def test_refusal_needs_a_coded_reason_of_the_cadre(invoice, titulaire):
    common = {"invoice": invoice, "by": titulaire, "structure": invoice.valideur, "channel": "PORTAIL"}
    with pytest.raises(ApplicationError, match="choisissez un motif") as missing:
        invoice_validate(**common, decision="REFUS")
    assert missing.value.field == "motif"
    with pytest.raises(ApplicationError, match="Motif de refus inconnu pour le cadre A9") as unknown:
        invoice_validate(**common, decision="REFUS", motif="PAS_CONTENT")
    assert "HORS_ACTE_SOUS_TRAITANCE" in unknown.value.message
    # A cotraitant's reason is not one of an A9's.
    with pytest.raises(ApplicationError, match="Motif de refus inconnu"):
        invoice_validate(**common, decision="REFUS", motif="HORS_PART_COTRAITANT")
    with pytest.raises(ApplicationError, match="précisez la raison du refus") as no_comment:
        invoice_validate(**common, decision="REFUS", motif="AUTRE")
    assert no_comment.value.field == "comment"
    assert Invoice.objects.get(pk=invoice.pk).status == S.A_VALIDER_1

    refused = invoice_validate(
        **common, decision="REFUS", motif="hors_acte_sous_traitance", comment="Lot 3 non sous-traité."
    )
    assert refused.status == S.REFUSEE_1
    change = InvoiceStatusChange.objects.get(invoice=invoice, transition="refuser_1")
    assert change.motif == "HORS_ACTE_SOUS_TRAITANCE"
    assert change.data["motif_libelle"] == "Prestations hors du périmètre de l'acte spécial de sous-traitance"
    assert change.comment == "Lot 3 non sous-traité."
    # A refusal stops the circuit: no routing, the recipient never sees it.
    assert not invoices_received(user=member_of(invoice.recipient)).exists()


def test_refusal_motif_by_its_numeric_id(invoice, titulaire):
    refused = invoice_validate(
        invoice=invoice, by=titulaire, structure=invoice.valideur, decision="REFUS", motif="7", channel="API"
    )
    assert InvoiceStatusChange.objects.get(invoice=refused, transition="refuser_1").motif == "DOUBLON"


def test_refusal_motifs_per_cadre():
    a9 = {m.code for m in refusal_motifs_for("A9")}
    a12 = {m.code for m in refusal_motifs_for(Cadre.A12)}
    assert "HORS_ACTE_SOUS_TRAITANCE" in a9 and "HORS_ACTE_SOUS_TRAITANCE" not in a12
    assert "HORS_PART_COTRAITANT" in a12 and "HORS_PART_COTRAITANT" not in a9
    assert {"PRESTATIONS_NON_REALISEES", "DOUBLON", "AUTRE"} <= a9 & a12
    assert len({m.id for m in REFUSAL_MOTIFS}) == len(REFUSAL_MOTIFS)
    with pytest.raises(ApplicationError, match="Le cadre A1 n'a pas de valideur"):
        refusal_motifs_for("A1")


# --- Wrong valideur and its correction -------------------------------------------------------------------


def test_wrong_valideur_then_supplier_corrects_and_the_new_one_validates(invoice):
    wrong_user = member_of(invoice.valideur, EspaceCode.FACTURES_A_VALIDER)
    declined = invoice.valideur
    result = invoice_validate(
        invoice=invoice,
        by=wrong_user,
        structure=declined,
        decision="ERREUR_VALIDEUR",
        comment="Nous ne sommes pas titulaires de ce marché.",
        channel="PORTAIL",
    )
    assert result.status == S.ERREUR_FOURNISSEUR_SUR_VALIDEUR
    supplier_user = issuer_for(invoice.supplier)
    assert list(invoices_valideur_to_correct(user=supplier_user)) == [result]

    right = StructureFactory(raison_sociale="Bâtiments Réunis")
    right_service = ServiceFactory(structure=right, code="TRAVAUX")
    # Naming the structure that just declined, or the supplier itself, is refused with a French reason.
    with pytest.raises(ApplicationError, match="a indiqué ne pas être le valideur"):
        invoice_valideur_correct(
            invoice=invoice, by=supplier_user, structure=invoice.supplier, valideur=declined, channel="PORTAIL"
        )
    with pytest.raises(ApplicationError, match="ne peut pas valider sa propre facture"):
        invoice_valideur_correct(
            invoice=invoice, by=supplier_user, structure=invoice.supplier, valideur=invoice.supplier, channel="PORTAIL"
        )
    with pytest.raises(ApplicationError, match="n'appartient pas"):
        invoice_valideur_correct(
            invoice=invoice,
            by=supplier_user,
            structure=invoice.supplier,
            valideur=right,
            valideur_service=ServiceFactory(structure=StructureFactory()),
            channel="PORTAIL",
        )

    with time_machine.travel(SENT_AT + datetime.timedelta(days=10), tick=False):
        corrected = invoice_valideur_correct(
            invoice=invoice,
            by=supplier_user,
            structure=invoice.supplier,
            valideur=right,
            valideur_service=right_service,
            channel="PORTAIL",
        )
    corrected.refresh_from_db()
    assert corrected.status == S.A_VALIDER_1
    assert (corrected.valideur, corrected.valideur_service) == (right, right_service)
    # A new 15-day window for the new valideur.
    assert validation_deadline(corrected) == SENT_AT + datetime.timedelta(days=25)
    assert AuditEntry.objects.for_object(corrected).filter(action="invoices.invoice.valideur_correct").exists()
    assert not invoices_valideur_to_correct(user=supplier_user).exists()
    # The structure that declined no longer sees it to validate; the new one does.
    assert not validation_queue(user=wrong_user).exists()
    right_user = member_of(right, EspaceCode.FACTURES_A_VALIDER)
    assert invoice_get_for_valideur(user=right_user, invoice_id=invoice.pk) == corrected
    done = invoice_validate(invoice=corrected, by=right_user, structure=right, decision="VALIDATION", channel="API")
    assert done.status == S.MISE_A_DISPOSITION


def test_level_2_error_is_corrected_on_the_level_2_valideur():
    cotraitant, mandataire = StructureFactory(), StructureFactory()
    invoice = sent_a9(valideur=cotraitant, valideur2=mandataire)
    invoice_validate(invoice=invoice, by=None, structure=cotraitant, decision="VALIDATION", channel="API")
    result = invoice_validate(
        invoice=invoice, by=None, structure=mandataire, decision="ERREUR_VALIDEUR", channel="API"
    )
    assert result.status == S.ERREUR_COTRAITANT_SUR_VALIDEUR
    new_mandataire = StructureFactory()
    corrected = invoice_valideur_correct(
        invoice=invoice, by=None, structure=invoice.supplier, valideur=new_mandataire, channel="API"
    )
    corrected.refresh_from_db()
    assert (corrected.valideur, corrected.valideur2) == (cotraitant, new_mandataire)
    # The cotraitant's validation stands: the new mandataire validates next, with its own 15 days.
    assert corrected.status == S.A_VALIDER_2
    change = corrected.status_changes.order_by("-id").first()
    assert (change.transition, change.from_status) == ("corriger_valideur_2", S.ERREUR_COTRAITANT_SUR_VALIDEUR)
    assert validation_deadline(corrected) == corrected.status_changed_at + datetime.timedelta(days=15)
    with pytest.raises(PermissionDeniedError, match="n'est pas le valideur de niveau 2"):
        invoice_validate(invoice=corrected, by=None, structure=cotraitant, decision="VALIDATION", channel="API")
    done = invoice_validate(invoice=corrected, by=None, structure=new_mandataire, decision="VALIDATION", channel="API")
    assert done.status == S.MISE_A_DISPOSITION


def test_only_the_supplier_corrects_and_only_after_an_error(invoice):
    supplier_user = issuer_for(invoice.supplier)
    with pytest.raises(ApplicationError, match="n'est pas à corriger"):
        invoice_valideur_correct(
            invoice=invoice, by=supplier_user, structure=invoice.supplier, valideur=StructureFactory(), channel="API"
        )
    invoice_validate(invoice=invoice, by=None, structure=invoice.valideur, decision="ERREUR_VALIDEUR", channel="API")
    outsider = StructureFactory()
    with pytest.raises(PermissionDeniedError, match="Seul le fournisseur"):
        invoice_valideur_correct(
            invoice=invoice, by=None, structure=outsider, valideur=StructureFactory(), channel="API"
        )
    stranger = RattachementFactory(structure=StructureFactory()).user
    with pytest.raises(PermissionDeniedError, match="« Factures émises »"):
        invoice_valideur_correct(
            invoice=invoice, by=stranger, structure=invoice.supplier, valideur=StructureFactory(), channel="PORTAIL"
        )
    with pytest.raises(NotFoundError):
        invoice_get_for_valideur_correction(user=stranger, invoice_id=invoice.pk)


# --- Rights and races ------------------------------------------------------------------------------------


def test_a_reader_of_the_espace_sees_the_queue_but_cannot_validate(invoice):
    open_espace(invoice.valideur, EspaceCode.FACTURES_A_VALIDER)
    reader = RattachementFactory(structure=invoice.valideur, role=Role.UTILISATEUR_SIMPLE)
    espace = invoice.valideur.espaces.get(code=EspaceCode.FACTURES_A_VALIDER)
    EspaceSubscription.objects.create(
        rattachement=reader,
        espace=espace,
        habilitation=Habilitation.CONSULTATION_UNIQUEMENT,
        status=SubscriptionStatus.VALIDEE,
    )
    assert list(validation_queue(user=reader.user)) == [invoice]
    with pytest.raises(PermissionDeniedError, match="« Factures à valider » avec l'habilitation « modification »"):
        invoice_validate(
            invoice=invoice, by=reader.user, structure=invoice.valideur, decision="VALIDATION", channel="PORTAIL"
        )
    # A member without the espace sees nothing.
    other = RattachementFactory(structure=invoice.valideur, role=Role.UTILISATEUR_SIMPLE).user
    assert not validation_queue(user=other).exists()
    with pytest.raises(NotFoundError):
        invoice_get_for_valideur(user=other, invoice_id=invoice.pk)


def test_stale_screen_and_already_processed(invoice, titulaire):
    common = {"invoice": invoice, "by": titulaire, "structure": invoice.valideur, "channel": "PORTAIL"}
    with pytest.raises(ConflictError, match="entre-temps"):
        invoice_validate(**common, decision="VALIDATION", expected_status=S.A_VALIDER_2)
    invoice_validate(**common, decision="VALIDATION", expected_status=S.A_VALIDER_1)
    with pytest.raises(ApplicationError, match="n'est pas à valider"):
        invoice_validate(**common, decision="REFUS", motif="DOUBLON")
    with pytest.raises(ApplicationError, match="Décision inconnue"):
        invoice_validate(**common, decision="SUSPENSION")


# --- Deadline and tacit validation ------------------------------------------------------------------------


def test_deadline_is_15_days_after_reaching_the_valideur(invoice):
    assert validation_deadline(invoice) == SENT_AT + datetime.timedelta(days=15)
    assert validation_days_left(invoice, now=SENT_AT) == 15
    assert validation_days_left(invoice, now=SENT_AT + datetime.timedelta(days=14)) == 1
    # The last day (the deadline falls at 10:00, Paris time, on 17 March).
    assert validation_days_left(invoice, now=SENT_AT + datetime.timedelta(days=14, hours=23)) == 0
    assert validation_days_left(invoice, now=SENT_AT + datetime.timedelta(days=16)) == -1
    invoice_validate(invoice=invoice, by=None, structure=invoice.valideur, decision="VALIDATION", channel="API")
    invoice.refresh_from_db()
    assert validation_deadline(invoice) is None


def test_tacit_validation_after_15_days_under_a_fake_clock(invoice):
    day_14 = SENT_AT + datetime.timedelta(days=14, hours=23, minutes=59)
    assert not invoices_validation_due(now=day_14).exists()
    assert invoice_validate_tacitly(invoice=invoice, now=day_14) is None
    assert Invoice.objects.get(pk=invoice.pk).status == S.A_VALIDER_1

    day_15 = SENT_AT + datetime.timedelta(days=15)
    assert list(invoices_validation_due(now=day_15)) == [invoice]
    with time_machine.travel(day_15, tick=False):
        result = invoice_validate_tacitly(invoice=invoice, now=day_15)
    assert result.status == S.MISE_A_DISPOSITION
    tacit = InvoiceStatusChange.objects.get(invoice=invoice, transition="valider_tacitement_1")
    assert (tacit.from_status, tacit.to_status) == (S.A_VALIDER_1, S.ABSENCE_VALIDATION_1_HORS_DELAI)
    assert (tacit.actor_role, tacit.channel, tacit.actor_user) == (ActorRole.SYSTEME, Channel.SYSTEME, None)
    assert tacit.created_at == day_15
    assert "15 jours" in tacit.comment
    # Idempotent: a second pass does nothing.
    assert invoice_validate_tacitly(invoice=invoice, now=day_15) is None
    assert not invoices_validation_due(now=day_15 + datetime.timedelta(days=30)).exists()
    assert InvoiceStatusChange.objects.filter(invoice=invoice).count() == 4


def test_tacit_validation_at_both_levels_gives_each_valideur_its_15_days():
    invoice = sent_a9(valideur2=StructureFactory())
    day_15 = SENT_AT + datetime.timedelta(days=15)
    with time_machine.travel(day_15, tick=False):
        assert [i.status for i in invoices_validate_tacitly_due(now=day_15)] == [S.A_VALIDER_2]
    invoice.refresh_from_db()
    # Level 2 has its own 15 days from when it reached it.
    assert validation_deadline(invoice) == day_15 + datetime.timedelta(days=15)
    assert invoices_validate_tacitly_due(now=day_15 + datetime.timedelta(days=14)) == []
    day_30 = day_15 + datetime.timedelta(days=15)
    with time_machine.travel(day_30, tick=False):
        assert [i.status for i in invoices_validate_tacitly_due(now=day_30)] == [S.MISE_A_DISPOSITION]
    assert transitions(invoice)[-4:] == [
        "valider_tacitement_1",
        "soumettre_valideur_2",
        "valider_tacitement_2",
        "mettre_a_disposition",
    ]


def test_an_answered_invoice_is_not_validated_tacitly(invoice):
    invoice_validate(
        invoice=invoice, by=None, structure=invoice.valideur, decision="REFUS", motif="DOUBLON", channel="API"
    )
    late = SENT_AT + datetime.timedelta(days=40)
    assert invoice_validate_tacitly(invoice=invoice, now=late) is None
    assert Invoice.objects.get(pk=invoice.pk).status == S.REFUSEE_1


def test_the_periodic_job_applies_tacit_validations_once_per_slot_and_catches_up():
    first, second = sent_a9(), sent_a9()
    assert registered_jobs()["invoices.tacit_validation"].func is circuit_periodic.tacit_validation
    jobs = {"invoices.tacit_validation": registered_jobs()["invoices.tacit_validation"]}

    # Day 10: nothing due yet, the job runs and leaves both invoices.
    day_10 = SENT_AT + datetime.timedelta(days=10)
    with time_machine.travel(day_10, tick=False):
        assert scheduler_tick(now=day_10, jobs=jobs) == ["invoices.tacit_validation"]
    assert set(Invoice.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        S.A_VALIDER_1
    }

    # The scheduler was down from day 10 to day 20: the first tick after catches up on both.
    day_20 = SENT_AT + datetime.timedelta(days=20)
    with time_machine.travel(day_20, tick=False):
        assert scheduler_tick(now=day_20, jobs=jobs) == ["invoices.tacit_validation"]
        # A second scheduler in the same slot does nothing.
        assert scheduler_tick(now=day_20 + datetime.timedelta(minutes=1), jobs=jobs) == []
    for invoice in (first, second):
        invoice.refresh_from_db()
        assert invoice.status == S.MISE_A_DISPOSITION
        assert transitions(invoice).count("valider_tacitement_1") == 1
    assert ScheduledRun.objects.filter(job="invoices.tacit_validation", status="SUCCEEDED").count() == 2
