"""Demo invoices (invoices/demo.py): made through the real services, across statuses, idempotent."""

import pytest

from choeur.directory import demo as directory_demo
from choeur.invoices import search
from choeur.invoices.demo import DEMO_DRAFTS, DEMO_INVOICES, DEMO_VALIDATIONS, demo_invoices_seed
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.lifecycle import status_for_supplier
from choeur.invoices.models import Invoice, InvoiceStatusChange

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

S = InvoiceStatus


def test_demo_invoices_cover_the_lifecycle_and_seed_once():
    directory_demo.demo_seed()
    report = demo_invoices_seed()
    assert report.created == len(DEMO_INVOICES) + len(DEMO_VALIDATIONS) + len(DEMO_DRAFTS)
    statuses = set(Invoice.objects.values_list("status", flat=True))
    assert {
        S.BROUILLON,
        S.MISE_A_DISPOSITION,
        S.SERVICE_FAIT,
        S.MANDATEE,
        S.MISE_A_DISPOSITION_COMPTABLE,
        S.COMPTABILISEE,
        S.MISE_EN_PAIEMENT,
        S.SUSPENDUE,
        S.COMPLETEE,
        S.A_RECYCLER,
        S.REJETEE,
        # The valideurs' circuit (A9, A12).
        S.A_VALIDER_1,
        S.REFUSEE_1,
        S.ERREUR_FOURNISSEUR_SUR_VALIDEUR,
    } <= statuses
    validated = Invoice.objects.get(number="MA-2026-0012")
    assert validated.status == S.MISE_A_DISPOSITION
    assert "valider_1" in set(
        InvoiceStatusChange.objects.filter(invoice=validated).values_list("transition", flat=True)
    )
    # Made through the services: every sent invoice has its deposit certificate and its history.
    sent = Invoice.objects.exclude(status=S.BROUILLON)
    assert all(invoice.certificate_id and invoice.document_sha256 for invoice in sent)
    assert InvoiceStatusChange.objects.filter(transition="deposer").count() == sent.count()
    recycled = Invoice.objects.get(number="FM-2026-0206")
    assert recycled.status == S.MISE_A_DISPOSITION and recycled.recipient_service.code == "SERVICES_ECONOMIQUES"
    assert Invoice.objects.get(number="CGL-2026-035").rejet_traite
    # The hospital does not report payments: its supplier sees the step before.
    paid = Invoice.objects.get(number="FM-2026-0201")
    assert paid.status == S.MISE_EN_PAIEMENT and status_for_supplier(paid) == S.COMPTABILISEE
    # The dashboards have something to show to the demo people.
    seller = directory_demo.demo_structure("marchand").people[0].email
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(email=seller)
    assert search.dashboard_queryset(user=user, side=search.ISSUED).count() >= 15

    again = demo_invoices_seed()
    assert again.created == 0 and again.kept == report.created
    assert "rien n'a changé" in again.summary()
