"""Property tests: the computation module against EN 16931's calculation rules, on generated invoices with
line and document allowances and charges, gross prices and base quantities, prepaid and rounding amounts,
negative lines and several VAT categories. Each assertion is one of the norm's rules, by its CEN id."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from choeur.invoices.computations import ZERO_VAT_CATEGORIES, compute_totals, round_amount
from choeur.invoices.enums import TypeTva

CENT = Decimal("0.01")
# (category, rate) pairs a French invoice meets: standard rates, zero rated, exempt, reverse charge, outside.
CATEGORIES = [("S", Decimal("20")), ("S", Decimal("10")), ("S", Decimal("5.5")), ("S", Decimal("2.1")),
              ("Z", Decimal("0")), ("E", Decimal("0")), ("AE", Decimal("0")), ("O", Decimal("0"))]  # fmt: skip


def decimals(low, high, places=2):
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=places, allow_nan=False)


category = st.sampled_from(CATEGORIES)

line = st.fixed_dictionaries(
    {
        "quantity": decimals("-50", "500", 3).filter(lambda q: q != 0),
        "unit_price_ht": decimals("0", "2000", 4),
        "price_base_quantity": st.sampled_from([None, Decimal("1"), Decimal("10"), Decimal("100")]),
        "discount_ht": st.one_of(st.none(), decimals("0", "50")),
        "charge_ht": st.one_of(st.none(), decimals("0", "50")),
        "tax": category,
    }
)
allowance_charge = st.fixed_dictionaries(
    {"is_charge": st.booleans(), "amount": decimals("0.01", "300"), "tax": category}
)


def _line_input(item: dict) -> dict:
    rate_category, rate = item["tax"]
    return {**{k: v for k, v in item.items() if k != "tax"}, "vat_category": rate_category, "vat_rate": rate}


def _ac_input(item: dict) -> dict:
    rate_category, rate = item["tax"]
    return {"is_charge": item["is_charge"], "amount": item["amount"], "vat_category": rate_category, "vat_rate": rate}


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(line, min_size=1, max_size=8),
    document=st.lists(allowance_charge, max_size=4),
    prepaid=st.one_of(st.none(), decimals("0", "500")),
    rounding=st.one_of(st.none(), decimals("-0.99", "0.99")),
)
def test_totals_follow_the_norm(lines, document, prepaid, rounding):
    line_inputs = [_line_input(item) for item in lines]
    ac_inputs = [_ac_input(item) for item in document]
    totals = compute_totals(
        line_inputs,
        type_tva=TypeTva.TVA_SUR_DEBIT,
        allowance_charges=ac_inputs,
        prepaid_amount=prepaid,
        rounding_amount=rounding,
    )
    # BT-131 = BT-129 × BT-146 / BT-149 + Σ BT-141 − Σ BT-136, to the cent.
    for given_line, amounts in zip(line_inputs, totals.lines, strict=True):
        base = given_line["price_base_quantity"] or Decimal(1)
        expected = (
            given_line["quantity"] * given_line["unit_price_ht"] / base
            + (given_line["charge_ht"] or 0)
            - (given_line["discount_ht"] or 0)
        )
        assert amounts.net_ht == round_amount(expected)
        assert amounts.net_ht == amounts.net_ht.quantize(CENT)  # BR-DEC-23
    # BR-CO-10, BR-CO-11, BR-CO-12, BR-CO-13.
    assert totals.line_total_ht == sum(a.net_ht for a in totals.lines)
    assert totals.allowance_total_ht == sum(i["amount"] for i in ac_inputs if not i["is_charge"])
    assert totals.charge_total_ht == sum(i["amount"] for i in ac_inputs if i["is_charge"])
    assert totals.total_ht == totals.line_total_ht - totals.allowance_total_ht + totals.charge_total_ht
    # BR-S-08, BR-Z-08, BR-E-08, BR-AE-08, BR-O-08: each row's base is its lines, plus its charges, minus
    # its allowances; one row per category and rate.
    keys = [(row.category, row.rate) for row in totals.vat_breakdown]
    assert len(keys) == len(set(keys))
    for row in totals.vat_breakdown:
        same = lambda c, r, row=row: (c, r.quantize(CENT)) == (row.category, row.rate)  # noqa: E731
        expected_base = (
            sum(a.net_ht for a in totals.lines if same(a.category, a.rate))
            + sum(i["amount"] for i in ac_inputs if i["is_charge"] and same(i["vat_category"], i["vat_rate"]))
            - sum(i["amount"] for i in ac_inputs if not i["is_charge"] and same(i["vat_category"], i["vat_rate"]))
        )
        assert row.base_ht == expected_base
        # BR-CO-17 (and BR-S-09…): tax amount = base × rate / 100, rounded to the cent; 0 for exempt categories.
        if row.category in ZERO_VAT_CATEGORIES:
            assert row.vat_amount == 0
        else:
            assert row.vat_amount == round_amount(row.base_ht * row.rate / 100)
    # BR-CO-14, BR-CO-15, BR-CO-16.
    assert totals.total_tva == sum(row.vat_amount for row in totals.vat_breakdown)
    assert totals.total_ttc == totals.total_ht + totals.total_tva
    assert totals.montant_a_payer == totals.total_ttc - (prepaid or 0) + (rounding or 0)


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(line, min_size=1, max_size=6), remise=decimals("0", "100"), prepaid=decimals("0", "100"))
def test_the_remise_globale_ttc_lowers_the_amount_due_without_touching_vat(lines, remise, prepaid):
    line_inputs = [_line_input(item) for item in lines]
    without = compute_totals(line_inputs, prepaid_amount=prepaid)
    with_remise = compute_totals(line_inputs, prepaid_amount=prepaid, remise_globale_ttc=remise)
    assert with_remise.vat_breakdown == without.vat_breakdown
    assert with_remise.total_ttc == without.total_ttc
    assert with_remise.montant_a_payer == without.montant_a_payer - round_amount(remise)


def test_a_percentage_allowance_is_its_base_times_its_rate():
    totals = compute_totals(
        [{"quantity": 1, "unit_price_ht": 1000, "vat_rate": 20}],
        allowance_charges=[{"base_amount": "1000", "percentage": "2.5", "vat_rate": 20, "reason": "Escompte"}],
    )
    assert totals.allowance_total_ht == Decimal("25.00")
    assert totals.total_ht == Decimal("975.00")
    assert totals.total_tva == Decimal("195.00")


def test_a_line_priced_by_gross_price_and_discount_per_hundred_units():
    totals = compute_totals(
        [
            {
                "quantity": 250,
                "gross_price_ht": "12",
                "price_discount_ht": "2",
                "price_base_quantity": 100,
                "vat_rate": 20,
            }
        ]
    )
    assert totals.lines[0].net_price == Decimal("10")
    assert totals.line_total_ht == Decimal("25.00")


def test_an_allowance_without_amount_nor_base_says_what_to_give():
    import pytest

    with pytest.raises(ValueError, match="indiquez un montant, ou une base et un pourcentage"):
        compute_totals([{"quantity": 1, "unit_price_ht": 10, "vat_rate": 20}], allowance_charges=[{"vat_rate": 20}])
