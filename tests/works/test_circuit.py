"""The monthly works circuit end to end in the domain: A4 → MOE (corrections) → A15 → MOA → A19 → payer."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.invoices.enums import Cadre, Channel, InvoiceStatus
from choeur.invoices.models import InvoiceStatusChange
from choeur.invoices.selectors import invoices_received
from choeur.invoices.workflow import invoice_transition
from choeur.works.enums import DossierKind, DossierStatus, EventKind, PartyRole
from choeur.works.models import Dossier
from choeur.works.services import (
    works_contest,
    works_moa_refuse,
    works_moa_validate,
    works_moe_refuse,
    works_moe_take,
    works_moe_transmit,
    works_piece_deposit,
)
from tests.works.factories import a4_lines, works_market

pytestmark = pytest.mark.django_db


def deposit_a4(m, **kwargs):
    return works_piece_deposit(
        marche=m.marche,
        cadre="A4",
        by=m.user("titulaire"),
        structure=m.titulaire,
        data={"number": "PDM-2026-03"},
        lines=a4_lines(),
        **kwargs,
    )


def test_a4_goes_to_the_moe_and_starts_the_payment_clock():
    m = works_market()
    piece = deposit_a4(m)
    invoice = piece.invoice
    dossier = piece.dossier
    assert invoice.status == InvoiceStatus.MISE_A_DISPOSITION_MOE
    assert invoice.supplier == m.titulaire and invoice.moe == m.moe and invoice.moa == m.moa
    assert invoice.recipient == m.moa and invoice.numero_marche == "MT-2026-001"
    assert invoice.total_ht == Decimal("18000.00") and invoice.total_ttc == Decimal("21600.00")
    assert dossier.kind == DossierKind.MENSUEL and dossier.sequence == 1
    assert dossier.waiting_for == PartyRole.MOE
    assert dossier.moe_received_at is not None
    assert dossier.moe_deadline == dossier.moe_received_at + timedelta(days=7)
    assert dossier.deadline == dossier.moe_deadline
    change = InvoiceStatusChange.objects.get(invoice=invoice, to_status=InvoiceStatus.MISE_A_DISPOSITION_MOE)
    assert change.data["debut_delai_paiement"] == dossier.moe_received_at.isoformat()
    # Not yet in the payer's « Factures reçues ».
    assert not invoices_received(user=m.user("moa")).exists()


def test_full_monthly_circuit_with_a_correction():
    m = works_market()
    a4 = deposit_a4(m)
    dossier = a4.dossier
    works_moe_take(dossier=dossier, by=m.user("moe"), structure=m.moe)
    a4.invoice.refresh_from_db()
    assert a4.invoice.status == InvoiceStatus.PRISE_EN_COMPTE_MOE

    a15 = works_moe_transmit(
        dossier=dossier,
        by=m.user("moe"),
        structure=m.moe,
        corrections={2: {"quantity": "30", "reason": "Constat de chantier : 30 m² réalisés sur 40"}},
    )
    assert a15.cadre == Cadre.A15 and a15.predecessor == a4
    assert a15.invoice.supplier == m.titulaire  # the company is paid; the MOE deposits
    assert a15.invoice.status == InvoiceStatus.TRANSMISE_MOA
    assert a15.invoice.total_ht == Decimal("16500.00")
    a4.invoice.refresh_from_db()
    assert a4.invoice.status == InvoiceStatus.ASSOCIEE
    correction = a15.corrections.get()
    assert (correction.position, correction.original_net_ht, correction.corrected_net_ht) == (
        2,
        Decimal("6000.00"),
        Decimal("4500.00"),
    )
    dossier.refresh_from_db()
    assert dossier.waiting_for == PartyRole.MOA
    assert dossier.contest_deadline is not None
    assert dossier.events.filter(kind=EventKind.CORRECTION).exists()

    a19 = works_moa_validate(dossier=dossier, by=m.user("moa"), structure=m.moa)
    assert a19.cadre == Cadre.A19
    assert a19.invoice.status == InvoiceStatus.MISE_A_DISPOSITION
    assert a19.invoice.total_ht == Decimal("16500.00")
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.TRANSMIS_PAYEUR
    a15.invoice.refresh_from_db()
    assert a15.invoice.status == InvoiceStatus.ASSOCIEE
    # The payer sees exactly the A19, and processes it as any received invoice.
    assert list(invoices_received(user=m.user("moa"))) == [a19.invoice]
    # The payer's document records when the payment clock started: at the MOE's reception of the A4.
    at_payer = a19.invoice.status_changes.get(to_status=InvoiceStatus.MISE_A_DISPOSITION)
    assert at_payer.data["debut_delai_paiement"] == dossier.moe_received_at.isoformat()
    invoice_transition(
        invoice=a19.invoice, transition="mettre_en_paiement", actor=m.user("moa"), actor_structure=m.moa,
        channel=Channel.PORTAIL,
    )  # fmt: skip
    a19.invoice.refresh_from_db()
    assert a19.invoice.status == InvoiceStatus.MISE_EN_PAIEMENT


def test_a_changed_amount_without_a_reason_is_refused():
    m = works_market()
    dossier = deposit_a4(m).dossier
    with pytest.raises(ApplicationError) as exc:
        works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe, corrections={1: {"quantity": "0.5"}})
    assert "Ligne 1" in exc.value.message and "raison de la correction" in exc.value.message
    assert dossier.pieces.count() == 1


def test_amount_error_is_never_a_refusal_reason():
    m = works_market()
    dossier = deposit_a4(m).dossier
    with pytest.raises(ApplicationError) as exc:
        works_moe_refuse(dossier=dossier, by=m.user("moe"), structure=m.moe, reason="ERREUR_MONTANT")
    assert "n'est pas un motif de refus" in exc.value.message
    assert "corrigez le montant" in exc.value.message
    assert dossier.last_piece.invoice.status == InvoiceStatus.MISE_A_DISPOSITION_MOE


def test_moe_refusal_stops_the_circuit():
    m = works_market()
    a4 = deposit_a4(m)
    dossier = a4.dossier
    works_moe_refuse(
        dossier=dossier, by=m.user("moe"), structure=m.moe, reason="TRAVAUX_NON_EXECUTES", comment="Lot 2 non commencé"
    )
    a4.invoice.refresh_from_db()
    dossier.refresh_from_db()
    assert a4.invoice.status == InvoiceStatus.REFUSEE_MOE
    assert dossier.status == DossierStatus.REFUSE
    change = a4.invoice.status_changes.get(to_status=InvoiceStatus.REFUSEE_MOE)
    assert change.motif == "Travaux non exécutés" and change.data["code_motif"] == "TRAVAUX_NON_EXECUTES"
    with pytest.raises(ApplicationError) as exc:
        works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    assert "n'attend pas de réponse" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(dossier=dossier, cadre="A15", by=m.user("moe"), structure=m.moe)
    assert "est arrêté" in exc.value.message


def test_other_refusal_needs_a_comment():
    m = works_market()
    dossier = deposit_a4(m).dossier
    with pytest.raises(ApplicationError) as exc:
        works_moe_refuse(dossier=dossier, by=m.user("moe"), structure=m.moe, reason="AUTRE")
    assert "précisez-le" in exc.value.message


def test_moa_refusal_stops_the_circuit():
    m = works_market()
    dossier = deposit_a4(m).dossier
    a15 = works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    works_moa_refuse(dossier=dossier, by=m.user("moa"), structure=m.moa, reason="PIECES_MANQUANTES")
    a15.invoice.refresh_from_db()
    assert a15.invoice.status == InvoiceStatus.REFUSEE_MOA
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.REFUSE


def test_company_contests_within_30_days_not_after():
    m = works_market()
    dossier = deposit_a4(m).dossier
    works_moe_transmit(
        dossier=dossier, by=m.user("moe"), structure=m.moe,
        corrections={"1": {"unit_price_ht": "11000", "reason": "Révision de prix non applicable"}},
    )  # fmt: skip
    dossier.refresh_from_db()
    with time_machine.travel(dossier.contest_deadline + timedelta(minutes=1)):
        with pytest.raises(ApplicationError) as exc:
            works_contest(dossier=dossier, by=m.user("titulaire"), structure=m.titulaire, reason="Non")
        assert "délai de contestation a expiré" in exc.value.message
    with pytest.raises(PermissionDeniedError):
        works_contest(dossier=dossier, by=m.user("moe"), structure=m.moe, reason="?")
    contested = works_contest(
        dossier=dossier, by=m.user("titulaire"), structure=m.titulaire, reason="Le lot 1 est achevé."
    )
    assert contested.contested_at is not None
    assert dossier.events.filter(kind=EventKind.CONTESTATION).exists()
    with pytest.raises(ApplicationError):
        works_contest(dossier=dossier, by=m.user("titulaire"), structure=m.titulaire, reason="Encore")


def test_nothing_to_contest_without_corrections():
    m = works_market()
    dossier = deposit_a4(m).dossier
    works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    with pytest.raises(ApplicationError) as exc:
        works_contest(dossier=dossier, by=m.user("titulaire"), structure=m.titulaire, reason="?")
    assert "rien à contester" in exc.value.message


def test_second_monthly_dossier_gets_the_next_sequence():
    m = works_market()
    first = deposit_a4(m).dossier
    second = works_piece_deposit(
        marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
    ).dossier
    assert (first.sequence, second.sequence) == (1, 2)
    assert Dossier.objects.count() == 2


def test_deadline_is_payment_delay_after_moe_reception_when_with_moa():
    m = works_market()
    start = timezone.now()
    dossier = deposit_a4(m).dossier
    works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    dossier.refresh_from_db()
    assert dossier.waiting_for == PartyRole.MOA
    assert dossier.deadline - dossier.moe_received_at == timedelta(days=30)
    assert dossier.moe_received_at >= start
