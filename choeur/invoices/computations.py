"""Amounts of a payment request: pure functions, no database, shared by the saisie, the dépôt and the API.

Rules (EN 16931 style, as the generated Factur-X must satisfy the CEN schematron):
- line net amount = quantity × unit price − line discount, rounded half-up to the cent (BT-131);
- VAT is computed **per rate** on the sum of the line bases, then rounded (BT-117 = BT-116 × rate, BR-CO-17),
  never as the sum of rounded per-line VAT: per-line rounding drifts by a cent every few lines;
- total HT = Σ line nets; total TVA = Σ per-rate VAT; total TTC = HT + TVA;
- the **remise globale TTC** (Chorus Pro's `montantRemiseGlobaleTTC`) lowers the amount to pay without
  touching the VAT bases: net à payer = TTC − remise globale.
- Under EXONERATION and SANS_TVA every line is at 0 %; an exemption reason is mandatory for EXONERATION
  (checked in checks.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from choeur.invoices.enums import ZERO_RATE_TYPES, TypeTva

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_decimal(value, *, label: str = "montant") -> Decimal:
    """Decimal from str/int/float/Decimal; ValueError with a French message otherwise.

    Floats go through `str()` so that 0.1 stays 0.1; a comma is accepted as the decimal separator, since
    people type « 12,50 ».
    """
    if isinstance(value, Decimal):
        result = value
    elif value is None or value == "":
        raise ValueError(f"{label.capitalize()} : valeur absente.")
    else:
        text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{label.capitalize()} : « {value} » n'est pas un nombre.") from None
    if not result.is_finite():
        raise ValueError(f"{label.capitalize()} : « {value} » n'est pas un nombre.")
    return result


def round_amount(value: Decimal) -> Decimal:
    """Half-up to the cent (the rounding of French invoices and of EN 16931's examples)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_category(*, type_tva: str, rate: Decimal) -> str:
    """EN 16931 VAT category (UNCL 5305): S standard, Z zero rated, E exempt, O outside the scope of VAT."""
    if type_tva == TypeTva.SANS_TVA:
        return "O"
    if type_tva == TypeTva.EXONERATION:
        return "E"
    return "Z" if rate == 0 else "S"


def _get(line, name: str, default=None):
    if isinstance(line, Mapping):
        return line.get(name, default)
    return getattr(line, name, default)


@dataclass(frozen=True)
class LineAmounts:
    net_ht: Decimal
    vat: Decimal  # informative: rounded per line; the invoice's VAT is computed per rate
    rate: Decimal
    category: str


@dataclass(frozen=True)
class VatBreakdown:
    rate: Decimal
    category: str
    base_ht: Decimal
    vat_amount: Decimal


@dataclass(frozen=True)
class Totals:
    total_ht: Decimal
    total_tva: Decimal
    total_ttc: Decimal
    remise_globale_ttc: Decimal
    montant_a_payer: Decimal
    vat_breakdown: list[VatBreakdown] = field(default_factory=list)
    lines: list[LineAmounts] = field(default_factory=list)

    def as_dict(self) -> dict[str, Decimal]:
        return {
            "total_ht": self.total_ht,
            "total_tva": self.total_tva,
            "total_ttc": self.total_ttc,
            "remise_globale_ttc": self.remise_globale_ttc,
            "montant_a_payer": self.montant_a_payer,
        }


def compute_line(*, quantity, unit_price_ht, discount_ht=None, vat_rate=None, type_tva=TypeTva.TVA_SUR_DEBIT):
    """Net amount and informative VAT of one line."""
    quantity = to_decimal(quantity, label="quantité")
    unit_price = to_decimal(unit_price_ht, label="prix unitaire HT")
    discount = to_decimal(discount_ht, label="remise HT") if discount_ht not in (None, "") else ZERO
    rate = ZERO if type_tva in ZERO_RATE_TYPES else to_decimal(vat_rate if vat_rate is not None else 0, label="taux")
    net = round_amount(quantity * unit_price - discount)
    return LineAmounts(
        net_ht=net,
        vat=round_amount(net * rate / 100),
        rate=rate,
        category=vat_category(type_tva=type_tva, rate=rate),
    )


def compute_totals(
    lines: Iterable,
    *,
    type_tva: str = TypeTva.TVA_SUR_DEBIT,
    remise_globale_ttc=None,
) -> Totals:
    """Totals of an invoice from its lines (model instances, dataclasses or dicts with `quantity`,
    `unit_price_ht`, `discount_ht`, `vat_rate`)."""
    computed = [
        compute_line(
            quantity=_get(line, "quantity"),
            unit_price_ht=_get(line, "unit_price_ht"),
            discount_ht=_get(line, "discount_ht"),
            vat_rate=_get(line, "vat_rate"),
            type_tva=type_tva,
        )
        for line in lines
    ]
    bases: dict[tuple[Decimal, str], Decimal] = {}
    for amounts in computed:
        key = (amounts.rate.quantize(CENT), amounts.category)
        bases[key] = bases.get(key, ZERO) + amounts.net_ht
    breakdown = [
        VatBreakdown(
            rate=rate, category=category, base_ht=round_amount(base), vat_amount=round_amount(base * rate / 100)
        )
        for (rate, category), base in sorted(bases.items(), key=lambda item: (-item[0][0], item[0][1]))
    ]
    total_ht = round_amount(sum((a.net_ht for a in computed), ZERO))
    total_tva = round_amount(sum((b.vat_amount for b in breakdown), ZERO))
    total_ttc = total_ht + total_tva
    remise = round_amount(to_decimal(remise_globale_ttc, label="remise globale TTC")) if remise_globale_ttc else ZERO
    return Totals(
        total_ht=total_ht,
        total_tva=total_tva,
        total_ttc=total_ttc,
        remise_globale_ttc=remise,
        montant_a_payer=total_ttc - remise,
        vat_breakdown=breakdown,
        lines=computed,
    )


def totals_from_vat_lines(vat_lines: Iterable, *, remise_globale_ttc=None) -> Totals:
    """Totals of an invoice deposited with its VAT breakdown only (a PDF with totals, no lines):
    `vat_lines` have `rate`, `base_ht`, `vat_amount` (and optionally `category`)."""
    breakdown = []
    for line in vat_lines:
        rate = to_decimal(_get(line, "rate"), label="taux de TVA").quantize(CENT)
        breakdown.append(
            VatBreakdown(
                rate=rate,
                category=_get(line, "category") or ("Z" if rate == 0 else "S"),
                base_ht=round_amount(to_decimal(_get(line, "base_ht"), label="base HT")),
                vat_amount=round_amount(to_decimal(_get(line, "vat_amount"), label="montant de TVA")),
            )
        )
    total_ht = sum((b.base_ht for b in breakdown), ZERO)
    total_tva = sum((b.vat_amount for b in breakdown), ZERO)
    remise = round_amount(to_decimal(remise_globale_ttc, label="remise globale TTC")) if remise_globale_ttc else ZERO
    return Totals(
        total_ht=total_ht,
        total_tva=total_tva,
        total_ttc=total_ht + total_tva,
        remise_globale_ttc=remise,
        montant_a_payer=total_ht + total_tva - remise,
        vat_breakdown=breakdown,
    )


def format_amount(value: Decimal | None, currency: str = "EUR") -> str:
    """« 1 234,56 € » (French grouping with a narrow no-break space)."""
    if value is None:
        return "—"
    value = round_amount(Decimal(value))
    sign = "-" if value < 0 else ""
    units, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    symbol = "€" if currency == "EUR" else currency
    return f"{sign}{'\u202f'.join(groups)},{cents}\u00a0{symbol}"


def format_rate(rate: Decimal) -> str:
    """« 5,5 % », « 20 % »."""
    text = f"{Decimal(rate).normalize():f}".replace(".", ",")
    return f"{text}\u00a0%"


TOTAL_LABELS = {
    "total_ht": "Montant total HT",
    "total_tva": "Montant total de la TVA",
    "total_ttc": "Montant total TTC",
    "remise_globale_ttc": "Remise globale TTC",
    "montant_a_payer": "Net à payer",
}


@dataclass(frozen=True)
class TotalMismatch:
    field: str
    declared: Decimal
    computed: Decimal
    message: str

    def __iter__(self):
        # Unpacks as the (field, declared, computed, message) tuple the API and dépôt layers expect.
        return iter((self.field, self.declared, self.computed, self.message))


def compare_totals(
    declared: Mapping[str, object], computed: Totals | Mapping[str, Decimal], *, tolerance: Decimal = ZERO
) -> list[TotalMismatch]:
    """Field-by-field differences between the totals a depositor declared and those computed from the
    lines, each with a French message naming the field. Fields declared as None are not compared.

    `tolerance` (in currency units) lets a channel accept per-line rounding drift; the default is exact
    to the cent, as the generated Factur-X must be.
    """
    computed_values = computed.as_dict() if isinstance(computed, Totals) else dict(computed)
    currency = str(declared.get("currency") or "EUR") if isinstance(declared, Mapping) else "EUR"
    mismatches = []
    for name, label in TOTAL_LABELS.items():
        raw = declared.get(name) if isinstance(declared, Mapping) else None
        if raw is None or raw == "" or name not in computed_values:
            continue
        try:
            value = round_amount(to_decimal(raw, label=label))
        except ValueError as exc:
            mismatches.append(TotalMismatch(name, Decimal("NaN"), computed_values[name], str(exc)))
            continue
        expected = round_amount(Decimal(computed_values[name]))
        if abs(value - expected) > tolerance:
            source = "les lignes de la facture donnent" if name != "remise_globale_ttc" else "le calcul donne"
            mismatches.append(
                TotalMismatch(
                    field=name,
                    declared=value,
                    computed=expected,
                    message=(
                        f"{label} : vous avez indiqué {format_amount(value, currency)}, alors que {source} "
                        f"{format_amount(expected, currency)}. Corrigez le montant ou les lignes."
                    ),
                )
            )
    return mismatches
