"""The shared reference tables: complete, without duplicates, and in step with the invoices app."""

from decimal import Decimal

from choeur.core import referentials as r
from choeur.invoices.enums import FRENCH_VAT_RATES


def test_countries_are_the_249_iso_3166_codes_once_each():
    codes = [code for code, _ in r.COUNTRIES]
    assert len(codes) == len(set(codes)) == 249
    assert all(len(code) == 2 and code.isupper() for code in codes)
    assert r.country_name("fr") == "France"
    assert r.country_name("XX") is None


def test_currencies_are_unique_iso_4217_codes():
    codes = [code for code, _ in r.CURRENCIES]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 3 and code.isupper() for code in codes)
    assert r.is_currency_code(" eur ")
    assert not r.is_currency_code("FRF")


def test_vat_rates_include_every_rate_invoices_offer():
    """A rate offered on an invoice line must be in the `recuperer/tauxtva` list (which also has Corsica's
    13 % on petroleum products, art. 297 du CGI)."""
    ours = {format(rate.value.normalize(), "f") for rate in r.VAT_RATES}
    assert set(FRENCH_VAT_RATES) <= ours
    assert len({rate.code for rate in r.VAT_RATES}) == len(r.VAT_RATES)
    assert r.vat_rate_by_code("tva1").value == Decimal("0")
    assert "293 B" in r.vat_rate_by_code("TVA1").label


def test_exemption_reasons_are_vatex_codes():
    assert all(reason.code.startswith("VATEX-") for reason in r.VAT_EXEMPTION_REASONS)
    assert r.vat_exemption_reason_by_code("vatex-fr-franchise") is not None


def test_attachment_types_belong_to_known_object_types():
    assert len({t.id for t in r.ATTACHMENT_TYPES}) == len(r.ATTACHMENT_TYPES)
    assert all(t.object_type in r.ATTACHMENT_OBJECT_TYPES for t in r.ATTACHMENT_TYPES)
    # Invoice attachments are the invoices app's own types (choeur.invoices.enums.AttachmentType).
    assert not r.attachment_types("FACTURE")
