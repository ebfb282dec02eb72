"""The amounts of an invoice as the portal shows them (tracking page, saisie summary, valideur page): the
document-level remises and charges, the VAT breakdown with its categories and exemption reasons, the totals
of EN 16931 from the sum of the lines to the net à payer, and the other business terms. One presenter, one
template (`portal/invoices/_amounts.html`), so that every page shows an invoice the same way."""

from __future__ import annotations

from choeur.invoices.computations import VAT_CATEGORY_LABELS, Totals, format_amount, format_rate
from choeur.invoices.models import Invoice
from choeur.invoices.terms import business_terms_display


def _rate(rate, category: str) -> str:
    return "—" if category == "O" or rate is None else format_rate(rate)


def line_details(line, rows, currency: str) -> str:
    """What a line carries beyond quantity × price (gross price, its remises and charges, period, note)."""
    parts = []
    if line.gross_price_ht is not None:
        text = f"prix brut {format_amount(line.gross_price_ht, currency)}"
        if line.price_discount_ht:
            text += f", rabais {format_amount(line.price_discount_ht, currency)}"
        parts.append(text)
    if line.price_base_quantity not in (None, 1):
        parts.append(f"prix pour {line.price_base_quantity.normalize():f} unités")
    if rows:
        for row in rows:
            reason = f" ({row.reason})" if row.reason else ""
            parts.append(f"{row.label.lower()} {format_amount(row.amount, currency)}{reason}")
    elif line.charge_ht:
        parts.append(f"frais {format_amount(line.charge_ht, currency)}")
    if line.period_start or line.period_end:
        start = f"{line.period_start:%d/%m/%Y}" if line.period_start else "…"
        end = f"{line.period_end:%d/%m/%Y}" if line.period_end else "…"
        parts.append(f"période du {start} au {end}")
    if line.note:
        parts.append(line.note)
    return " ; ".join(parts)


def invoice_amounts(invoice: Invoice, *, computed: Totals | None = None) -> dict:
    """`computed`: a draft's totals computed from its lines (the saisie summary); otherwise the stored ones."""
    currency = invoice.currency
    rows = list(invoice.allowance_charges.order_by("position"))
    by_line: dict[int, list] = {}
    for row in rows:
        if row.line_id:
            by_line.setdefault(row.line_id, []).append(row)
    lines = list(invoice.lines.order_by("position"))
    if computed is not None:
        vat = [
            (r.rate, r.category, r.base_ht, r.vat_amount, r.exemption_reason, r.exemption_reason_code)
            for r in computed.vat_breakdown
        ]
        source = computed
    else:
        vat = [
            (v.rate, v.category, v.base_ht, v.vat_amount, v.exemption_reason, v.exemption_reason_code)
            for v in invoice.vat_lines.all()
        ]
        source = invoice
    line_total = source.line_total_ht
    totals = []
    allowances, charges = source.allowance_total_ht or 0, source.charge_total_ht or 0
    if allowances or charges:
        totals.append(("line_total_ht", "Somme des lignes HT", format_amount(line_total, currency), False))
        if allowances:
            totals.append(
                ("allowance_total_ht", "Remises sur la facture", f"− {format_amount(allowances, currency)}", False)
            )
        if charges:
            totals.append(
                ("charge_total_ht", "Charges sur la facture", f"+ {format_amount(charges, currency)}", False)
            )
    totals += [
        ("total_ht", "Total HT", format_amount(source.total_ht, currency), False),
        ("total_tva", "Total TVA", format_amount(source.total_tva, currency), False),
        ("total_ttc", "Total TTC", format_amount(source.total_ttc, currency), False),
    ]
    prepaid = source.prepaid_amount or 0
    if prepaid:
        totals.append(("prepaid_amount", "Montant déjà payé", f"− {format_amount(prepaid, currency)}", False))
    if source.remise_globale_ttc:
        label = "Remise globale TTC" + (f" ({invoice.motif_remise_globale})" if invoice.motif_remise_globale else "")
        totals.append(("remise_globale_ttc", label, f"− {format_amount(source.remise_globale_ttc, currency)}", False))
    if source.rounding_amount:
        totals.append(("rounding_amount", "Arrondi", format_amount(source.rounding_amount, currency), False))
    label = "Montant de l'avoir" if invoice.is_avoir else "Net à payer"
    totals.append(("montant_a_payer", label, format_amount(source.montant_a_payer, currency), True))
    return {
        "line_details": {line.pk: line_details(line, by_line.get(line.pk), currency) for line in lines},
        "allowance_charges": [
            {
                "label": row.label,
                "reason": " — ".join(v for v in (row.reason, row.reason_code) if v),
                "base": format_amount(row.base_amount, currency) if row.base_amount is not None else "",
                "percentage": format_rate(row.percentage) if row.percentage is not None else "",
                "rate": _rate(row.vat_rate, row.vat_category),
                "amount": f"{'+' if row.is_charge else '−'} {format_amount(row.amount, currency)}",
            }
            for row in rows
            if row.line_id is None
        ],
        "vat": [
            {
                "rate": _rate(rate, category),
                "category": VAT_CATEGORY_LABELS.get(category, category),
                "base": format_amount(base, currency),
                "amount": format_amount(amount, currency),
                "reason": " — ".join(v for v in (reason, code) if v),
            }
            for rate, category, base, amount, reason, code in vat
        ],
        "totals": totals,
        "terms": business_terms_display(invoice.business_terms),
    }
