"""Existing invoices get the EN 16931 amounts of the new model, without loss.

- Every invoice: the sum of its line nets (BT-106) — its total HT when it has no lines.
- An invoice deposited as a structured document (UBL, CII, Factur-X from a flow, the API or the portal's dépôt):
  its stored XML is the source. Its remises and charges (document and lines), prepaid and rounding amounts,
  gross prices, base quantities, line categories and periods, VAT exemption reasons, periods, delivery date and
  other business terms are read again from that XML, and its amounts are marked as the document's. The totals
  already stored are the document's own (the deposit kept the declared totals): they are not touched.

It lives in `flows` because reading a document is the validation engine's job, and `invoices` imports nothing
of `flows`. A document that can no longer be read is left as it was (its amounts stay those stored).
"""

from decimal import Decimal

from django.db import migrations

DOCUMENT_MODES = {"UPLOAD_PORTAIL", "UPLOAD_API", "EDI", "EDI_XML_STRUCT", "EDI_MIXTE"}
ZERO = Decimal("0.00")


def _read(stored_file) -> bytes:
    from django.core.files.storage import storages

    with storages["default"].open(stored_file.storage_name, "rb") as handle:
        return handle.read()


def _data(content: bytes):
    from choeur.flows.validation.detect import detect
    from choeur.flows.validation.extract import extract_invoice_data
    from choeur.flows.validation.xmlparse import parse_xml

    root = parse_xml(content).root
    return extract_invoice_data(root, detect(root).syntax)


def _rows(model, invoice, items, *, line=None):
    return [
        model(
            invoice=invoice,
            line=line,
            position=index + 1,
            is_charge=item.is_charge,
            amount=item.amount if item.amount is not None else ZERO,
            base_amount=item.base_amount,
            percentage=item.percentage,
            reason=(item.reason or "")[:255],
            reason_code=(item.reason_code or "")[:10],
            vat_category="" if line else (item.vat_category or ""),
            vat_rate=None if line else item.vat_rate,
        )
        for index, item in enumerate(items)
    ]


def _from_document(apps, invoice) -> bool:
    from choeur.flows.worker import _business_terms

    AllowanceCharge = apps.get_model("invoices", "InvoiceAllowanceCharge")
    try:
        data = _data(_read(invoice.structured_xml))
    except Exception:  # noqa: BLE001 — an unreadable document keeps the amounts already stored
        return False
    totals = data.totals
    invoice.amounts_from_document = True
    invoice.line_total_ht = totals.line_net if totals.line_net is not None else invoice.total_ht
    invoice.allowance_total_ht = totals.allowances or ZERO
    invoice.charge_total_ht = totals.charges or ZERO
    invoice.prepaid_amount = totals.prepaid or ZERO
    invoice.rounding_amount = totals.rounding or ZERO
    invoice.period_start, invoice.period_end = data.period_start, data.period_end
    invoice.delivery_date = data.delivery_date
    from choeur.invoices.terms import clean_business_terms

    invoice.business_terms = clean_business_terms(_business_terms(data))
    rows = _rows(AllowanceCharge, invoice, data.allowance_charges)
    lines = {line.position: line for line in invoice.lines.all()}
    for position, source in enumerate(data.lines, start=1):
        line = lines.get(position)
        if line is None:
            continue
        line.charge_ht = sum((i.amount or ZERO for i in source.allowance_charges if i.is_charge), ZERO)
        line.price_base_quantity = source.price_base_quantity or Decimal(1)
        line.gross_price_ht = source.gross_price
        line.price_discount_ht = source.price_discount
        line.vat_category = (source.vat_category or "")[:2]
        line.period_start, line.period_end = source.period_start, source.period_end
        line.note = (source.note or "")[:1000]
        if source.net_amount is not None:
            line.line_net_ht = source.net_amount
        line.save()
        rows += _rows(AllowanceCharge, invoice, source.allowance_charges, line=line)
    AllowanceCharge.objects.bulk_create(rows)
    reasons = {(v.category or "", (v.rate or ZERO).quantize(Decimal("0.01"))): v for v in data.vat_breakdown}
    for vat in invoice.vat_lines.all():
        source = reasons.get((vat.category, vat.rate.quantize(Decimal("0.01"))))
        if source is not None and (source.exemption_reason or source.exemption_reason_code):
            vat.exemption_reason = (source.exemption_reason or "")[:255]
            vat.exemption_reason_code = (source.exemption_reason_code or "")[:30]
            vat.save(update_fields=["exemption_reason", "exemption_reason_code"])
    return True


def forwards(apps, schema_editor):
    Invoice = apps.get_model("invoices", "Invoice")
    fields = [
        "amounts_from_document", "line_total_ht", "allowance_total_ht", "charge_total_ht", "prepaid_amount",
        "rounding_amount", "period_start", "period_end", "delivery_date", "business_terms",
    ]  # fmt: skip
    for invoice in Invoice.objects.filter(line_total_ht__isnull=True).iterator(chunk_size=500):
        structured = invoice.structured_xml_id is not None and invoice.mode_depot in DOCUMENT_MODES
        if not (structured and _from_document(apps, invoice)):
            nets = [line.line_net_ht for line in invoice.lines.all()]
            invoice.line_total_ht = sum(nets, ZERO) if nets else invoice.total_ht
        invoice.save(update_fields=fields)


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0001_initial"),
        ("invoices", "0002_en16931_model"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
