from decimal import Decimal as D

import pytest

from choeur.invoices.computations import (
    compare_totals,
    compute_line,
    compute_totals,
    format_amount,
    to_decimal,
    totals_from_vat_lines,
    vat_category,
)
from choeur.invoices.enums import TypeTva


def line(quantity, price, rate="20", discount="0"):
    return {"quantity": D(quantity), "unit_price_ht": D(price), "vat_rate": D(rate), "discount_ht": D(discount)}


def test_line_net_is_quantity_times_price_minus_discount_rounded_half_up():
    amounts = compute_line(quantity=D("3"), unit_price_ht=D("0.335"), discount_ht=D("0"), vat_rate=D("20"))
    assert amounts.net_ht == D("1.01")  # 1.005 → 1.01 (half-up, not banker's 1.00)
    assert compute_line(quantity="2", unit_price_ht="10.125", discount_ht="0.5", vat_rate="20").net_ht == D("19.75")


def test_line_accepts_french_decimal_comma_and_six_decimals_prices():
    amounts = compute_line(quantity="1,5", unit_price_ht="12,123456", vat_rate="5,5")
    assert amounts.net_ht == D("18.19")
    assert amounts.rate == D("5.5")


def test_vat_is_computed_per_rate_on_the_sum_of_bases_not_per_line():
    # Three lines of 0.07 € at 20 %: per-line VAT is 0.014 → 0.01 each (0.03 in all); per rate it is
    # 0.21 × 20 % = 0.042 → 0.04, which is what EN 16931 (BR-CO-17) expects.
    totals = compute_totals([line("1", "0.07"), line("1", "0.07"), line("1", "0.07")])
    assert sum(a.vat for a in totals.lines) == D("0.03")
    assert totals.total_tva == D("0.04")
    assert totals.vat_breakdown[0].base_ht == D("0.21")


def test_multi_rate_breakdown_totals_and_net_to_pay():
    totals = compute_totals(
        [line("3", "85.50", "20"), line("12", "18.90", "5.5", discount="10"), line("1", "100", "20")],
        remise_globale_ttc="15.00",
    )
    assert [(b.rate, b.base_ht, b.vat_amount) for b in totals.vat_breakdown] == [
        (D("20.00"), D("356.50"), D("71.30")),
        (D("5.50"), D("216.80"), D("11.92")),
    ]
    assert totals.total_ht == D("573.30")
    assert totals.total_tva == D("83.22")
    assert totals.total_ttc == D("656.52")
    assert totals.remise_globale_ttc == D("15.00")
    assert totals.montant_a_payer == D("641.52")


@pytest.mark.parametrize("type_tva, category", [(TypeTva.EXONERATION, "E"), (TypeTva.SANS_TVA, "O")])
def test_exemption_types_force_a_zero_rate(type_tva, category):
    totals = compute_totals([line("2", "50", "20")], type_tva=type_tva)
    assert totals.total_tva == D("0.00")
    assert totals.total_ttc == D("100.00")
    assert [(b.rate, b.category) for b in totals.vat_breakdown] == [(D("0.00"), category)]


def test_categories():
    assert vat_category(type_tva=TypeTva.TVA_SUR_DEBIT, rate=D("20")) == "S"
    assert vat_category(type_tva=TypeTva.TVA_SUR_ENCAISSEMENT, rate=D("0")) == "Z"


def test_totals_from_declared_vat_lines():
    totals = totals_from_vat_lines(
        [{"rate": "20", "base_ht": "100", "vat_amount": "20"}, {"rate": "5.5", "base_ht": "10", "vat_amount": "0.55"}],
        remise_globale_ttc="0.55",
    )
    assert (totals.total_ht, totals.total_tva, totals.total_ttc, totals.montant_a_payer) == (
        D("110.00"),
        D("20.55"),
        D("130.55"),
        D("130.00"),
    )


def test_compare_totals_reports_each_field_in_french():
    computed = compute_totals([line("1", "100")])
    mismatches = compare_totals(
        {"total_ht": "100.00", "total_tva": "19.60", "total_ttc": "119.60", "montant_a_payer": None}, computed
    )
    assert [m.field for m in mismatches] == ["total_tva", "total_ttc"]
    field, declared, expected, message = mismatches[0]
    assert (field, declared, expected) == ("total_tva", D("19.60"), D("20.00"))
    assert message.startswith("Montant total de la TVA : vous avez indiqué 19,60")
    assert "20,00" in message


def test_compare_totals_tolerance_and_exact_match():
    computed = compute_totals([line("1", "100")])
    assert compare_totals({"total_ht": "100", "total_tva": "20.00", "total_ttc": "120"}, computed) == []
    assert compare_totals({"total_tva": "20.01"}, computed, tolerance=D("0.01")) == []
    assert len(compare_totals({"total_tva": "20.02"}, computed, tolerance=D("0.01"))) == 1


def test_compare_totals_flags_a_non_number():
    mismatches = compare_totals({"total_ht": "cent euros"}, compute_totals([line("1", "100")]))
    assert mismatches[0].field == "total_ht"
    assert "n'est pas un nombre" in mismatches[0].message


def test_to_decimal_refuses_garbage_in_french():
    with pytest.raises(ValueError, match="Quantité : « abc » n'est pas un nombre"):
        to_decimal("abc", label="quantité")
    with pytest.raises(ValueError, match="valeur absente"):
        to_decimal(None, label="quantité")
    assert to_decimal(0.1) == D("0.1")


def test_format_amount():
    assert format_amount(D("1234567.5")) == "1\u202f234\u202f567,50\u00a0€"
    assert format_amount(D("-3")) == "-3,00\u00a0€"
    assert format_amount(D("12"), "USD") == "12,00\u00a0USD"
