"""The amounts of an invoice in the database: lines, remises and charges, VAT breakdown and totals.

`computations.py` holds the norm's arithmetic (pure); this module builds and stores the rows.

Two sources of amounts, never mixed:
- **computed** (saisie, API `soumettre`, a PDF deposited with its data): the lines, allowances and charges
  give the totals, by `computations.compute_totals`;
- **from the document** (`Invoice.amounts_from_document`: a UBL, CII or Factur-X deposit, in a flow or the
  portal's dépôt): the XML is authoritative, already checked by the CEN rules for flows. Each line keeps its
  net amount (BT-131), the VAT breakdown is the document's (BG-23, with its exemption reasons), and the totals
  are the document's (BG-22). `document_totals` recomputes only the sums the norm defines exactly
  (BR-CO-10 … BR-CO-16), so that a portal draft whose XML contradicts itself is told which rule it breaks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError

from choeur.core.errors import ApplicationError
from choeur.invoices.computations import (
    ZERO,
    Totals,
    VatBreakdown,
    compute_line,
    compute_totals,
    resolve_allowance_charge,
    round_amount,
    to_decimal,
    vat_category,
)
from choeur.invoices.enums import ModeDepot
from choeur.invoices.models import Invoice, InvoiceAllowanceCharge, InvoiceLine, InvoiceVatLine

SAISIE_MODES = frozenset({ModeDepot.SAISIE_WEB, ModeDepot.SAISIE_PORTAIL})

# Line fields a caller may give (dicts or objects); `net_amount` (BT-131 of a document) and
# `allowance_charges` (the line's BG-27/BG-28 rows) are inputs only.
LINE_FIELDS = (
    "reference",
    "designation",
    "quantity",
    "unit",
    "unit_price_ht",
    "discount_ht",
    "charge_ht",
    "price_base_quantity",
    "gross_price_ht",
    "price_discount_ht",
    "vat_rate",
    "vat_category",
    "period_start",
    "period_end",
    "note",
)
ALLOWANCE_CHARGE_FIELDS = (
    "is_charge",
    "amount",
    "base_amount",
    "percentage",
    "reason",
    "reason_code",
    "vat_category",
    "vat_rate",
)
# The norm's rule behind each total, named in the messages of a document that contradicts itself.
TOTAL_RULES = {
    "line_total_ht": "BR-CO-10",
    "allowance_total_ht": "BR-CO-11",
    "charge_total_ht": "BR-CO-12",
    "total_ht": "BR-CO-13",
    "total_tva": "BR-CO-14",
    "total_ttc": "BR-CO-15",
    "montant_a_payer": "BR-CO-16",
}


def _value(item, name, default=None):
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _optional_decimal(value, *, label: str) -> Decimal | None:
    return None if value in (None, "") else to_decimal(value, label=label)


def _optional_date(value):
    import datetime

    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"« {value} » n'est pas une date (format AAAA-MM-JJ).") from None


def _clean(instance, *, label: str, prefix: str, exclude: list[str]) -> None:
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        verbose = type(instance)._meta.get_field(field).verbose_name
        raise ApplicationError(
            f"{label}, {verbose} : {' '.join(messages)}", field=f"{prefix}.{field}", code="donnee_invalide"
        ) from None


def build_allowance_charges(
    invoice: Invoice, items: Sequence, *, line: InvoiceLine | None = None, prefix: str = "allowance_charges"
) -> list[InvoiceAllowanceCharge]:
    """Rows for the document's (or a line's) remises and charges, amounts resolved (base × % when no
    amount is given) and checked, each error in French naming the row."""
    built = []
    for index, item in enumerate(items or []):
        is_charge = bool(_value(item, "is_charge", False))
        label = f"{'Charge' if is_charge else 'Remise'} {index + 1}" + (
            f" de la ligne {line.position}" if line else ""
        )
        try:
            resolved = resolve_allowance_charge(item, type_tva=invoice.type_tva)
        except ValueError as exc:
            raise ApplicationError(f"{label} : {exc}", field=f"{prefix}.{index}", code="donnee_invalide") from None
        row = InvoiceAllowanceCharge(
            invoice=invoice,
            line=line,
            position=index + 1,
            is_charge=is_charge,
            amount=resolved.amount,
            base_amount=resolved.base_amount,
            percentage=resolved.percentage,
            reason=resolved.reason[:255],
            reason_code=resolved.reason_code[:10],
            vat_category="" if line else resolved.category,
            vat_rate=None if line else resolved.rate,
        )
        _clean(row, label=label, prefix=f"{prefix}.{index}", exclude=["invoice", "line"])
        built.append(row)
    return built


def build_lines(
    invoice: Invoice, lines: Sequence
) -> tuple[list[InvoiceLine], list[tuple[InvoiceLine, list[InvoiceAllowanceCharge]]]]:
    """Line rows (not saved) and, for the lines that detail them, their remise/charge rows (saved once
    the lines have their ids). A document's line keeps its net amount (BT-131)."""
    built = []
    details = []
    trust_nets = invoice.amounts_from_document
    for index, line in enumerate(lines):
        prefix = f"lines.{index}"
        label = f"Ligne {index + 1}"
        position = index + 1
        try:
            quantity = to_decimal(
                _value(line, "quantity") if _value(line, "quantity") not in (None, "") else 1, label="quantité"
            )
            gross = _optional_decimal(_value(line, "gross_price_ht"), label="prix brut HT")
            price_discount = _optional_decimal(_value(line, "price_discount_ht"), label="rabais sur le prix")
            unit_price = _optional_decimal(_value(line, "unit_price_ht"), label="prix unitaire HT")
            if unit_price is None and gross is not None:
                unit_price = gross - (price_discount or ZERO)
            if unit_price is None:
                raise ValueError("Prix unitaire HT : valeur absente.")
            base_quantity = _optional_decimal(_value(line, "price_base_quantity"), label="quantité de base du prix")
            rows_input = _value(line, "allowance_charges") or []
            sub_rows = [resolve_allowance_charge(item) for item in rows_input]
            if sub_rows:
                discount = sum((r.amount for r in sub_rows if not r.is_charge), ZERO)
                charge = sum((r.amount for r in sub_rows if r.is_charge), ZERO)
            else:
                discount = to_decimal(_value(line, "discount_ht") or 0, label="remise HT")
                charge = to_decimal(_value(line, "charge_ht") or 0, label="frais HT")
            amounts = compute_line(
                quantity=quantity,
                unit_price_ht=unit_price,
                discount_ht=discount,
                charge_ht=charge,
                price_base_quantity=base_quantity,
                vat_rate=_value(line, "vat_rate"),
                vat_category_code=_value(line, "vat_category"),
                type_tva=invoice.type_tva,
            )
            net = amounts.net_ht
            given_net = _optional_decimal(_value(line, "net_amount"), label="montant net de la ligne")
            if trust_nets and given_net is not None:
                net = round_amount(given_net)
            period_start = _optional_date(_value(line, "period_start"))
            period_end = _optional_date(_value(line, "period_end"))
        except ValueError as exc:
            raise ApplicationError(f"{label} : {exc}", field=prefix, code="donnee_invalide") from None
        instance = InvoiceLine(
            invoice=invoice,
            position=position,
            reference=str(_value(line, "reference") or "").strip()[:50],
            designation=str(_value(line, "designation") or "").strip(),
            quantity=quantity,
            unit=str(_value(line, "unit") or "C62").strip(),
            unit_price_ht=unit_price,
            discount_ht=discount,
            charge_ht=charge,
            price_base_quantity=base_quantity or Decimal(1),
            gross_price_ht=gross,
            price_discount_ht=price_discount,
            vat_rate=amounts.rate,
            vat_category=amounts.category if _value(line, "vat_category") else "",
            period_start=period_start,
            period_end=period_end,
            note=str(_value(line, "note") or "").strip()[:1000],
            line_net_ht=net,
            line_vat=amounts.vat,
        )
        _clean(instance, label=label, prefix=prefix, exclude=["invoice"])
        built.append(instance)
        if rows_input:
            details.append((instance, rows_input))
    return built, details


def save_lines(invoice: Invoice, lines: Sequence, *, replace: bool) -> list[InvoiceLine]:
    built, details = build_lines(invoice, lines)
    if replace:
        invoice.allowance_charges.filter(line__isnull=False).delete()
        invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(built)
    save_line_details(invoice, details)
    return built


def save_line_details(invoice: Invoice, details) -> None:
    rows = []
    for line, items in details:
        if line.pk is None:  # backends that do not return ids from a bulk insert
            line = InvoiceLine.objects.get(invoice=invoice, position=line.position)
        rows += build_allowance_charges(
            invoice, items, line=line, prefix=f"lines.{line.position - 1}.allowance_charges"
        )
    if rows:
        InvoiceAllowanceCharge.objects.bulk_create(rows)


def save_document_allowance_charges(invoice: Invoice, items: Sequence, *, replace: bool) -> list:
    built = build_allowance_charges(invoice, items)
    if replace:
        invoice.allowance_charges.filter(line__isnull=True).delete()
    InvoiceAllowanceCharge.objects.bulk_create(built)
    return built


def replace_vat_lines(invoice: Invoice, vat_lines: Sequence, *, fresh: bool = False) -> list[InvoiceVatLine]:
    built = []
    for index, line in enumerate(vat_lines):
        try:
            rate = to_decimal(_value(line, "rate") if _value(line, "rate") not in (None, "") else 0, label="taux")
            built.append(
                InvoiceVatLine(
                    invoice=invoice,
                    rate=rate,
                    category=_value(line, "category") or vat_category(type_tva=invoice.type_tva, rate=rate),
                    base_ht=to_decimal(_value(line, "base_ht"), label="base HT"),
                    vat_amount=to_decimal(_value(line, "vat_amount"), label="montant de TVA"),
                    exemption_reason=str(_value(line, "exemption_reason") or "")[:255],
                    exemption_reason_code=str(_value(line, "exemption_reason_code") or "")[:30],
                )
            )
        except ValueError as exc:
            raise ApplicationError(
                f"Ventilation de la TVA, ligne {index + 1} : {exc}", field=f"vat_lines.{index}", code="donnee_invalide"
            ) from None
    if not fresh:
        invoice.vat_lines.all().delete()
    InvoiceVatLine.objects.bulk_create(built)
    return built


def _document_allowance_charges(invoice: Invoice, given: Sequence | None):
    if given is not None:
        return given
    if invoice.pk is None:
        return []
    return [row for row in invoice.allowance_charges.all() if row.line_id is None]


def exemption_reasons(invoice: Invoice) -> dict[str, tuple[str, str]]:
    """BT-120 of the saisie: the exemption reason applies to the E rows (and O: « hors champ »)."""
    reason = (invoice.motif_exoneration or "").strip()
    return {"E": (reason, ""), "O": (reason, "")} if reason else {}


def computed_totals(invoice: Invoice, lines: Sequence, *, allowance_charges: Sequence | None = None) -> Totals:
    """The saisie's computation: totals from the lines, the document's remises and charges, the prepaid
    and rounding amounts and the remise globale TTC."""
    return compute_totals(
        lines,
        type_tva=invoice.type_tva,
        remise_globale_ttc=invoice.remise_globale_ttc,
        allowance_charges=_document_allowance_charges(invoice, allowance_charges),
        prepaid_amount=invoice.prepaid_amount,
        rounding_amount=invoice.rounding_amount,
        exemption_reasons=exemption_reasons(invoice),
    )


def document_totals(
    invoice: Invoice, lines: Sequence, vat_lines: Sequence, *, allowance_charges: Sequence | None = None
) -> Totals:
    """The sums the norm defines exactly, from a document's own line nets, remises, charges and VAT rows
    (the VAT of each row is the document's: the norm allows it a one-unit rounding margin, BR-CO-17)."""
    resolved = [resolve_allowance_charge(i) for i in _document_allowance_charges(invoice, allowance_charges)]
    line_total = sum((Decimal(_value(line, "line_net_ht") or 0) for line in lines), ZERO)
    allowances = sum((r.amount for r in resolved if not r.is_charge), ZERO)
    charges = sum((r.amount for r in resolved if r.is_charge), ZERO)
    total_ht = line_total - allowances + charges
    rows = [
        VatBreakdown(
            rate=Decimal(_value(v, "rate") or 0),
            category=_value(v, "category") or "S",
            base_ht=Decimal(_value(v, "base_ht") or 0),
            vat_amount=Decimal(_value(v, "vat_amount") or 0),
        )
        for v in vat_lines
    ]
    total_tva = sum((r.vat_amount for r in rows), ZERO)
    prepaid = Decimal(invoice.prepaid_amount or 0)
    rounding = Decimal(invoice.rounding_amount or 0)
    remise = Decimal(invoice.remise_globale_ttc or 0)
    return Totals(
        total_ht=total_ht,
        total_tva=total_tva,
        total_ttc=total_ht + total_tva,
        remise_globale_ttc=remise,
        montant_a_payer=total_ht + total_tva - prepaid - remise + rounding,
        vat_breakdown=rows,
        line_total_ht=line_total,
        allowance_total_ht=allowances,
        charge_total_ht=charges,
        prepaid_amount=prepaid,
        rounding_amount=rounding,
    )


def apply_totals(invoice: Invoice, totals: Totals) -> None:
    invoice.line_total_ht = totals.line_total_ht
    invoice.allowance_total_ht = totals.allowance_total_ht
    invoice.charge_total_ht = totals.charge_total_ht
    invoice.total_ht = totals.total_ht
    invoice.total_tva = totals.total_tva
    invoice.total_ttc = totals.total_ttc
    invoice.montant_a_payer = totals.montant_a_payer


def refresh_totals(invoice: Invoice, *, lines: list[InvoiceLine] | None = None) -> None:
    """Saisie: totals always follow the lines. Other channels keep the totals the depositor declared (the
    pré-contrôle compares them), and get computed ones only when they declared none."""
    lines = list(invoice.lines.all()) if lines is None else lines
    if not lines or invoice.amounts_from_document:
        return
    declared = [invoice.total_ht, invoice.total_tva, invoice.total_ttc, invoice.montant_a_payer]
    if invoice.mode_depot in SAISIE_MODES or all(value is None for value in declared):
        apply_totals(invoice, computed_totals(invoice, lines))


def store_amounts(invoice: Invoice, *, lines: list[InvoiceLine] | None = None, vat_lines=None) -> None:
    """Final totals and VAT breakdown at sending: computed from the lines; a document's as it states them
    (`vat_lines`: its breakdown, when the caller has it in hand); for a totals-only deposit, its declared
    breakdown (one 0 % row is written when it declared none and bears no VAT). `lines` given: the caller
    has just created the invoice with these lines, and no breakdown yet."""
    fresh = lines is not None
    lines = list(invoice.lines.all()) if lines is None else lines
    if invoice.amounts_from_document:
        if vat_lines is not None:
            replace_vat_lines(invoice, vat_lines, fresh=fresh)
        if invoice.line_total_ht is None:
            invoice.line_total_ht = sum((line.line_net_ht for line in lines), ZERO)
        return
    if lines:
        totals = computed_totals(invoice, lines)
        apply_totals(invoice, totals)
        if not fresh:
            invoice.vat_lines.all().delete()
        InvoiceVatLine.objects.bulk_create(
            InvoiceVatLine(
                invoice=invoice,
                rate=row.rate,
                category=row.category,
                base_ht=row.base_ht,
                vat_amount=row.vat_amount,
                exemption_reason=row.exemption_reason,
                exemption_reason_code=row.exemption_reason_code,
            )
            for row in totals.vat_breakdown
        )
    elif not invoice.vat_lines.exists():
        InvoiceVatLine.objects.create(
            invoice=invoice,
            rate=ZERO,
            category=vat_category(type_tva=invoice.type_tva, rate=ZERO),
            base_ht=invoice.total_ht,
            vat_amount=ZERO,
        )
    if invoice.line_total_ht is None:
        invoice.line_total_ht = invoice.total_ht
