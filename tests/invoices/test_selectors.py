"""Reads are bounded to the structures of the person asking."""

import pytest

from choeur.core.errors import NotFoundError
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.selectors import (
    invoice_drafts,
    invoice_get_for_user,
    invoice_history,
    invoices_issued,
    invoices_received,
    invoices_to_validate,
)
from choeur.invoices.services import invoice_send
from tests.directory.factories import RattachementFactory
from tests.invoices.factories import InvoiceFactory, issuer_for

pytestmark = pytest.mark.django_db


def test_supplier_recipient_and_valideur_each_see_their_part():
    draft = InvoiceFactory(with_lines=True)
    supplier_user = issuer_for(draft.supplier)
    recipient_user = RattachementFactory(structure=draft.recipient).user
    stranger = RattachementFactory().user
    a9 = InvoiceFactory(with_lines=True, a9=True, supplier=draft.supplier, recipient=draft.recipient)
    valideur_user = RattachementFactory(structure=a9.valideur).user

    assert list(invoice_drafts(user=supplier_user)) == [a9, draft]
    assert list(invoices_received(user=recipient_user)) == []  # drafts are invisible to the recipient
    with pytest.raises(NotFoundError, match="Facture introuvable"):
        invoice_get_for_user(user=recipient_user, invoice_id=draft.pk)

    invoice_send(invoice=draft, by=supplier_user)
    invoice_send(invoice=a9, by=supplier_user)
    assert list(invoices_received(user=recipient_user)) == [draft]  # a9 is still at its valideur
    assert list(invoices_to_validate(user=valideur_user)) == [a9]
    assert invoice_get_for_user(user=valideur_user, invoice_id=a9.pk) == a9
    assert set(invoices_issued(user=supplier_user)) == {draft, a9}
    assert list(invoices_issued(user=supplier_user, status=InvoiceStatus.A_VALIDER_1)) == [a9]
    for invoice in (draft, a9):
        with pytest.raises(NotFoundError):
            invoice_get_for_user(user=stranger, invoice_id=invoice.pk)
    assert [item.to_status for item in invoice_history(invoice=draft)] == ["DEPOSEE", "MISE_A_DISPOSITION"]
