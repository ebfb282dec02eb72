"""Re-validation of archived invoices (`choeur revalidate`): every stored invoice XML judged again, in batches
and across processes, each verdict recorded beside the previous one."""

import pytest

from choeur.core.files import file_store
from choeur.flows.models import Revalidation, RevalidationVerdict
from choeur.flows.revalidation import revalidation_run
from choeur.invoices.models import Invoice
from tests.flows.conftest import fixture_bytes, run_command
from tests.invoices.factories import InvoiceFactory

pytestmark = pytest.mark.django_db

VALID = fixture_bytes("ubl_facture_b2g.xml")
BROKEN = VALID.replace(
    b'<cbc:PayableAmount currencyID="EUR">1200.00</cbc:PayableAmount>',
    b'<cbc:PayableAmount currencyID="EUR">1100.00</cbc:PayableAmount>',
)


def _archived(xml: bytes) -> Invoice:
    invoice = InvoiceFactory()
    Invoice.objects.filter(pk=invoice.pk).update(structured_xml=file_store(content=xml, mime_type="application/xml"))
    return invoice


def test_every_archived_invoice_is_judged_again_in_batches():
    good, bad = _archived(VALID), _archived(BROKEN)
    InvoiceFactory()  # no structured XML: nothing to judge
    seen = []
    run = revalidation_run(
        reason="CEN 1.3.16 installé", engine="official", batch_size=1, progress=lambda d, t: seen.append((d, t))
    )
    assert (run.checked, run.valid_count, run.invalid_count, run.changed_count) == (2, 1, 1, 1)
    assert seen == [(1, 2), (2, 2)] and run.finished_at is not None
    verdicts = {v.invoice_id: v for v in run.verdicts.all()}
    assert verdicts[good.pk].valid and not verdicts[good.pk].changed
    assert not verdicts[bad.pk].valid and verdicts[bad.pk].previous_valid  # accepted at deposit
    assert "BR-CO-16" in {e["rule"] for e in verdicts[bad.pk].errors}
    assert {(i["layer"], i["engine"]) for i in run.rule_sets} >= {("en16931", "officiel")}

    again = revalidation_run(engine="official")
    second = {v.invoice_id: v for v in again.verdicts.all()}
    assert not second[bad.pk].previous_valid and not second[bad.pk].changed and again.changed_count == 0


def test_revalidation_across_two_processes_records_the_same_verdicts():
    invoices = [_archived(VALID if i % 3 else BROKEN) for i in range(8)]
    run = revalidation_run(engine="official", jobs=2, batch_size=5)
    assert run.checked == 8 and run.invalid_count == 3
    verdicts = dict(RevalidationVerdict.objects.filter(revalidation=run).values_list("invoice_id", "valid"))
    assert verdicts == {invoice.pk: bool(i % 3) for i, invoice in enumerate(invoices)}


def test_command_prints_a_french_summary():
    _archived(BROKEN)
    code, out, _ = run_command("revalidate", "--reason", "essai", "--engine", "official")
    assert code == 0
    assert "1 facture rejugée(s)" in out and "1 non conforme(s), 1 verdict(s) changé(s)" in out
    assert Revalidation.objects.get().reason == "essai"
