"""Amounts of a payment request after EN 16931's calculation rules: pure functions, no database.

The one computation of the platform: the saisie, a PDF deposited with its totals, the API's `soumettre`
and the migration of stored invoices all go through it. (A structured deposit — UBL, CII, Factur-X — keeps
the amounts of its XML, which the CEN rules have already checked: see `document_totals`.)

The norm's rules, by their CEN ids:
- line net amount (BT-131) = quantity (BT-129) × net price (BT-146) / price base quantity (BT-149)
  + Σ line charges (BT-141) − Σ line allowances (BT-136); the net price is the gross price (BT-148) minus the
  price discount (BT-147) when only those are given. Rounded half-up to the cent (BR-DEC-23);
- BT-106 = Σ BT-131 (BR-CO-10); BT-107 = Σ document allowances BT-92 (BR-CO-11); BT-108 = Σ document
  charges BT-99 (BR-CO-12); BT-109 = BT-106 − BT-107 + BT-108 (BR-CO-13);
- VAT breakdown (BG-23), one row per category and rate: taxable amount BT-116 = Σ line nets + Σ charges
  − Σ allowances of that category and rate (BR-S-08, BR-Z-08, BR-E-08…); tax amount BT-117 = BT-116 ×
  rate / 100 rounded to the cent (BR-CO-17), computed **per row**, never as a sum of per-line rounded VAT;
  exempt categories (E, AE, K, G, O, Z) bear 0;
- BT-110 = Σ BT-117 (BR-CO-14); BT-112 = BT-109 + BT-110 (BR-CO-15); BT-115 = BT-112 − BT-113 (prepaid)
  + BT-114 (rounding) (BR-CO-16).
- Chorus Pro's **remise globale TTC** (`montantRemiseGlobaleTTC`) lowers the amount to pay without touching
  the VAT bases. The norm has no TTC discount: it is carried as part of BT-113 in the generated Factur-X
  (see facturx.py), so net à payer = BT-115 = TTC − prepaid − remise globale + rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from choeur.invoices.enums import ZERO_RATE_TYPES, TypeTva

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal("1")
HUNDRED = Decimal("100")
# UNCL 5305 categories that bear no VAT whatever the rate written (the norm requires 0 for them).
ZERO_VAT_CATEGORIES = frozenset({"Z", "E", "AE", "K", "G", "O"})
# Categories written without a rate (BR-O-05, BR-O-08…).
RATELESS_CATEGORIES = frozenset({"O"})
VAT_CATEGORY_LABELS = {
    "S": "taux normal",
    "Z": "taux zéro",
    "E": "exonéré",
    "AE": "autoliquidation",
    "K": "livraison intracommunautaire",
    "G": "exportation hors UE",
    "O": "hors du champ de la TVA",
    "L": "IGIC (Canaries)",
    "M": "IPSI (Ceuta et Melilla)",
}


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


def _optional(value, *, label: str) -> Decimal | None:
    return None if value is None or value == "" else to_decimal(value, label=label)


def round_amount(value: Decimal) -> Decimal:
    """Half-up to the cent (the rounding of French invoices and of EN 16931's examples)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_category(*, type_tva: str, rate: Decimal) -> str:
    """EN 16931 VAT category (UNCL 5305) of a saisie line: S standard, Z zero rated, E exempt, O outside the
    scope of VAT. A structured deposit keeps the category its document states (AE, K, G…)."""
    if type_tva == TypeTva.SANS_TVA:
        return "O"
    if type_tva == TypeTva.EXONERATION:
        return "E"
    return "Z" if rate == 0 else "S"


def _get(item, name: str, default=None):
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


@dataclass(frozen=True)
class LineAmounts:
    net_ht: Decimal  # BT-131
    vat: Decimal  # informative: rounded per line; the invoice's VAT is computed per category and rate
    rate: Decimal  # BT-152
    category: str  # BT-151
    net_price: Decimal = ZERO  # BT-146
    allowances: Decimal = ZERO  # Σ BT-136
    charges: Decimal = ZERO  # Σ BT-141


@dataclass(frozen=True)
class AllowanceChargeAmounts:
    """A document-level allowance (BG-20) or charge (BG-21), its amount resolved."""

    is_charge: bool
    amount: Decimal  # BT-92 / BT-99
    rate: Decimal  # BT-96 / BT-103
    category: str  # BT-95 / BT-102
    base_amount: Decimal | None = None  # BT-93 / BT-100
    percentage: Decimal | None = None  # BT-94 / BT-101
    reason: str = ""  # BT-97 / BT-104
    reason_code: str = ""  # BT-98 / BT-105


@dataclass(frozen=True)
class VatBreakdown:
    rate: Decimal  # BT-119
    category: str  # BT-118
    base_ht: Decimal  # BT-116
    vat_amount: Decimal  # BT-117
    exemption_reason: str = ""  # BT-120
    exemption_reason_code: str = ""  # BT-121


@dataclass(frozen=True)
class Totals:
    total_ht: Decimal  # BT-109: total without VAT, after document allowances and charges
    total_tva: Decimal  # BT-110
    total_ttc: Decimal  # BT-112
    remise_globale_ttc: Decimal  # Chorus Pro's TTC discount
    montant_a_payer: Decimal  # BT-115
    vat_breakdown: list[VatBreakdown] = field(default_factory=list)
    lines: list[LineAmounts] = field(default_factory=list)
    line_total_ht: Decimal = ZERO  # BT-106
    allowance_total_ht: Decimal = ZERO  # BT-107
    charge_total_ht: Decimal = ZERO  # BT-108
    prepaid_amount: Decimal = ZERO  # BT-113 (without the remise globale TTC)
    rounding_amount: Decimal = ZERO  # BT-114
    allowance_charges: list[AllowanceChargeAmounts] = field(default_factory=list)

    def as_dict(self) -> dict[str, Decimal]:
        return {name: getattr(self, name) for name in TOTAL_LABELS}


def allowance_charge_amount(*, amount=None, base_amount=None, percentage=None, label: str = "remise") -> Decimal:
    """The amount of an allowance or charge: as given, else base × percentage / 100 (BT-92 = BT-93 × BT-94
    / 100, as the norm defines it)."""
    given = _optional(amount, label=f"montant de la {label}")
    if given is not None:
        return round_amount(given)
    base = _optional(base_amount, label=f"base de la {label}")
    percent = _optional(percentage, label=f"pourcentage de la {label}")
    if base is None or percent is None:
        raise ValueError(f"{label.capitalize()} : indiquez un montant, ou une base et un pourcentage.")
    return round_amount(base * percent / HUNDRED)


def _rate_and_category(*, vat_rate, category, type_tva) -> tuple[Decimal, str]:
    category = (category or "").strip().upper()
    if type_tva in ZERO_RATE_TYPES and not category:
        rate = ZERO
    else:
        rate = to_decimal(vat_rate if vat_rate not in (None, "") else 0, label="taux de TVA")
    category = category or vat_category(type_tva=type_tva, rate=rate)
    if category in RATELESS_CATEGORIES:
        rate = ZERO
    return rate, category


def compute_line(
    *,
    quantity,
    unit_price_ht=None,
    discount_ht=None,
    charge_ht=None,
    price_base_quantity=None,
    gross_price_ht=None,
    price_discount_ht=None,
    vat_rate=None,
    vat_category_code=None,
    type_tva=TypeTva.TVA_SUR_DEBIT,
) -> LineAmounts:
    """Net amount (BT-131) and informative VAT of one line.

    `unit_price_ht` is the net price (BT-146); when it is absent the gross price (BT-148) less the price
    discount (BT-147) gives it. `discount_ht` / `charge_ht` are the sums of the line's allowances (BT-136)
    and charges (BT-141)."""
    quantity = to_decimal(quantity, label="quantité")
    net_price = _optional(unit_price_ht, label="prix unitaire HT")
    if net_price is None:
        gross = _optional(gross_price_ht, label="prix brut HT")
        if gross is None:
            raise ValueError("Prix unitaire HT : valeur absente.")
        net_price = gross - (_optional(price_discount_ht, label="rabais sur le prix") or ZERO)
    base_quantity = _optional(price_base_quantity, label="quantité de base du prix") or ONE
    if base_quantity <= 0:
        raise ValueError("Quantité de base du prix : elle doit être positive.")
    allowances = _optional(discount_ht, label="remise HT") or ZERO
    charges = _optional(charge_ht, label="frais HT") or ZERO
    rate, category = _rate_and_category(vat_rate=vat_rate, category=vat_category_code, type_tva=type_tva)
    net = round_amount(quantity * net_price / base_quantity + charges - allowances)
    return LineAmounts(
        net_ht=net,
        vat=ZERO if category in ZERO_VAT_CATEGORIES else round_amount(net * rate / HUNDRED),
        rate=rate,
        category=category,
        net_price=net_price,
        allowances=allowances,
        charges=charges,
    )


def line_amounts(line, *, type_tva: str = TypeTva.TVA_SUR_DEBIT) -> LineAmounts:
    """`compute_line` on a model instance, a dataclass or a dict carrying the line's fields."""
    return compute_line(
        quantity=_get(line, "quantity"),
        unit_price_ht=_get(line, "unit_price_ht"),
        discount_ht=_get(line, "discount_ht"),
        charge_ht=_get(line, "charge_ht"),
        price_base_quantity=_get(line, "price_base_quantity"),
        gross_price_ht=_get(line, "gross_price_ht"),
        price_discount_ht=_get(line, "price_discount_ht"),
        vat_rate=_get(line, "vat_rate"),
        vat_category_code=_get(line, "vat_category"),
        type_tva=type_tva,
    )


def resolve_allowance_charge(item, *, type_tva: str = TypeTva.TVA_SUR_DEBIT) -> AllowanceChargeAmounts:
    """A document-level allowance or charge (model instance or dict with `is_charge`, `amount` or
    `base_amount` + `percentage`, `vat_rate`, `vat_category`, `reason`, `reason_code`)."""
    is_charge = bool(_get(item, "is_charge", False))
    label = "charge" if is_charge else "remise"
    amount = allowance_charge_amount(
        amount=_get(item, "amount"),
        base_amount=_get(item, "base_amount"),
        percentage=_get(item, "percentage"),
        label=label,
    )
    rate, category = _rate_and_category(
        vat_rate=_get(item, "vat_rate"), category=_get(item, "vat_category"), type_tva=type_tva
    )
    return AllowanceChargeAmounts(
        is_charge=is_charge,
        amount=amount,
        rate=rate,
        category=category,
        base_amount=_optional(_get(item, "base_amount"), label=f"base de la {label}"),
        percentage=_optional(_get(item, "percentage"), label=f"pourcentage de la {label}"),
        reason=str(_get(item, "reason") or "").strip(),
        reason_code=str(_get(item, "reason_code") or "").strip(),
    )


def _breakdown(
    lines: list[LineAmounts],
    allowance_charges: list[AllowanceChargeAmounts],
    exemption_reasons: Mapping[str, tuple[str, str]] | None,
) -> list[VatBreakdown]:
    bases: dict[tuple[Decimal, str], Decimal] = {}
    for amounts in lines:
        key = (amounts.rate.quantize(CENT), amounts.category)
        bases[key] = bases.get(key, ZERO) + amounts.net_ht
    for item in allowance_charges:
        key = (item.rate.quantize(CENT), item.category)
        bases[key] = bases.get(key, ZERO) + (item.amount if item.is_charge else -item.amount)
    rows = []
    for (rate, category), base in sorted(bases.items(), key=lambda entry: (-entry[0][0], entry[0][1])):
        reason, code = (exemption_reasons or {}).get(category, ("", ""))
        rows.append(
            VatBreakdown(
                rate=rate,
                category=category,
                base_ht=round_amount(base),
                vat_amount=ZERO if category in ZERO_VAT_CATEGORIES else round_amount(base * rate / HUNDRED),
                exemption_reason=reason,
                exemption_reason_code=code,
            )
        )
    return rows


def compute_totals(
    lines: Iterable,
    *,
    type_tva: str = TypeTva.TVA_SUR_DEBIT,
    remise_globale_ttc=None,
    allowance_charges: Iterable = (),
    prepaid_amount=None,
    rounding_amount=None,
    exemption_reasons: Mapping[str, tuple[str, str]] | None = None,
) -> Totals:
    """Totals of an invoice from its lines (model instances, dataclasses or dicts — see `line_amounts`),
    its document-level allowances and charges (see `resolve_allowance_charge`), its prepaid (BT-113) and
    rounding (BT-114) amounts. `exemption_reasons`: category → (BT-120, BT-121) for the breakdown rows."""
    computed = [line_amounts(line, type_tva=type_tva) for line in lines]
    resolved = [resolve_allowance_charge(item, type_tva=type_tva) for item in allowance_charges]
    breakdown = _breakdown(computed, resolved, exemption_reasons)
    line_total = round_amount(sum((a.net_ht for a in computed), ZERO))
    allowance_total = sum((i.amount for i in resolved if not i.is_charge), ZERO)
    charge_total = sum((i.amount for i in resolved if i.is_charge), ZERO)
    total_ht = line_total - allowance_total + charge_total
    total_tva = sum((b.vat_amount for b in breakdown), ZERO)
    total_ttc = total_ht + total_tva
    remise = round_amount(to_decimal(remise_globale_ttc, label="remise globale TTC")) if remise_globale_ttc else ZERO
    prepaid = round_amount(_optional(prepaid_amount, label="montant déjà payé") or ZERO)
    rounding = round_amount(_optional(rounding_amount, label="arrondi") or ZERO)
    return Totals(
        total_ht=total_ht,
        total_tva=total_tva,
        total_ttc=total_ttc,
        remise_globale_ttc=remise,
        montant_a_payer=total_ttc - prepaid - remise + rounding,
        vat_breakdown=breakdown,
        lines=computed,
        line_total_ht=line_total,
        allowance_total_ht=allowance_total,
        charge_total_ht=charge_total,
        prepaid_amount=prepaid,
        rounding_amount=rounding,
        allowance_charges=resolved,
    )


def totals_from_vat_lines(
    vat_lines: Iterable,
    *,
    remise_globale_ttc=None,
    prepaid_amount=None,
    rounding_amount=None,
) -> Totals:
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
                exemption_reason=str(_get(line, "exemption_reason") or ""),
                exemption_reason_code=str(_get(line, "exemption_reason_code") or ""),
            )
        )
    total_ht = sum((b.base_ht for b in breakdown), ZERO)
    total_tva = sum((b.vat_amount for b in breakdown), ZERO)
    remise = round_amount(to_decimal(remise_globale_ttc, label="remise globale TTC")) if remise_globale_ttc else ZERO
    prepaid = round_amount(_optional(prepaid_amount, label="montant déjà payé") or ZERO)
    rounding = round_amount(_optional(rounding_amount, label="arrondi") or ZERO)
    return Totals(
        total_ht=total_ht,
        total_tva=total_tva,
        total_ttc=total_ht + total_tva,
        remise_globale_ttc=remise,
        montant_a_payer=total_ht + total_tva - prepaid - remise + rounding,
        vat_breakdown=breakdown,
        line_total_ht=total_ht,
        prepaid_amount=prepaid,
        rounding_amount=rounding,
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
    "line_total_ht": "Somme des montants nets des lignes",
    "allowance_total_ht": "Total des remises au niveau du document",
    "charge_total_ht": "Total des charges au niveau du document",
    "total_ht": "Montant total HT",
    "total_tva": "Montant total de la TVA",
    "total_ttc": "Montant total TTC",
    "prepaid_amount": "Montant déjà payé",
    "rounding_amount": "Arrondi",
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
