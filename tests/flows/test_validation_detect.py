"""Syntax and profile detection, and the Chorus Pro syntaxeFlux mapping and consistency check."""

import pytest
from lxml import etree

from choeur.flows.validation import SYNTAXES_FLUX, check_syntaxe_flux, detect, detect_syntaxe_flux
from choeur.flows.validation.detect import UnsupportedFormat
from tests.flows.conftest import fixture_bytes

CII = fixture_bytes("cii_facture_b2g.xml")
UBL = fixture_bytes("ubl_facture_b2g.xml")


def _cii_with_profile(profile_id: str) -> etree._Element:
    return etree.fromstring(CII.replace(b"urn:cen.eu:en16931:2017</ram:ID>", profile_id.encode() + b"</ram:ID>"))


@pytest.mark.parametrize(
    ("profile_id", "key", "label", "status"),
    [
        ("urn:factur-x.eu:1p0:minimum", "minimum", "MINIMUM", "known"),
        ("urn:factur-x.eu:1p0:basicwl", "basicwl", "BASIC WL", "known"),
        ("urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic", "basic", "BASIC", "known"),
        ("urn:cen.eu:en16931:2017", "en16931", "EN 16931", "known"),
        ("urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended", "extended", "EXTENDED", "known"),
        ("urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended", "extended", "EXTENDED", "known"),
        (
            "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr",
            "extended-ctc-fr",
            "EXTENDED-CTC-FR",
            "known",
        ),
        ("urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:basic", "basic", "BASIC", "legacy"),
        (
            "urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.3",
            "en16931",
            "EN 16931 (CIUS XRECHNUNG)",
            "cius",
        ),
        ("urn:ferd:CrossIndustryDocument:invoice:1p0:comfort", "en16931", "inconnu", "unknown"),
    ],
)
def test_cii_profiles(profile_id, key, label, status):
    detection = detect(_cii_with_profile(profile_id))
    assert detection.syntax == "CII"
    assert (detection.profile_key, detection.profile_label, detection.profile_status) == (key, label, status)
    assert detection.profile_id == profile_id
    assert detection.business_process == "S1"


def test_ubl_invoice_and_credit_note():
    detection = detect(etree.fromstring(UBL))
    assert (detection.syntax, detection.document_type, detection.profile_key) == ("UBL", "Invoice", "en16931")
    credit = (
        UBL.replace(b"Invoice-2", b"CreditNote-2")
        .replace(b"<Invoice ", b"<CreditNote ")
        .replace(b"</Invoice>", b"</CreditNote>")
    )
    assert detect(etree.fromstring(credit)).document_type == "CreditNote"


def test_peppol_customization_is_a_cius_of_en16931():
    root = etree.fromstring(
        UBL.replace(
            b">urn:cen.eu:en16931:2017<",
            b">urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0<",
        )
    )
    detection = detect(root)
    assert (detection.profile_key, detection.profile_label) == ("en16931", "EN 16931 (CIUS PEPPOL BIS 3)")


@pytest.mark.parametrize(
    ("xml", "excerpt"),
    [
        (b'<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>', "ZUGFeRD 1.0"),
        (
            b'<p:FatturaElettronica xmlns:p="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"/>',
            "FatturaPA",
        ),
        (
            b'<rsm:CrossDomainAcknowledgementAndResponse xmlns:rsm="urn:un:unece:uncefact:data:standard:'
            b'CrossDomainAcknowledgementAndResponse:100"/>',
            "cycle de vie CDAR",
        ),
        (
            b'<rsm:SCRDMCCBDACIOMessageStructure xmlns:rsm="urn:un:unece:uncefact:data:'
            b'SCRDMCCBDACIOMessageStructure:100"/>',
            "Order-X",
        ),
        (b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>', "UBL « Order »"),
        (b'<Invoice xmlns="urn:example:autre"/>', "espace de noms « urn:example:autre »"),
        (b"<facture/>", "racine « facture »"),
    ],
)
def test_unsupported_formats_get_a_french_reason(xml, excerpt):
    with pytest.raises(UnsupportedFormat) as error:
        detect(etree.fromstring(xml))
    finding = error.value.finding
    assert finding.rule == "CHOEUR-FORMAT" and finding.severity == "fatal" and finding.layer == "detection"
    assert finding.message.startswith("Format non pris en charge : ")
    assert excerpt in finding.message


@pytest.mark.parametrize(
    ("container", "syntax", "profile", "expected"),
    [
        ("xml", "UBL", "en16931", "IN_DP_E1_UBL_INVOICE"),
        ("xml", "CII", "en16931", "IN_DP_E1_CII_16B"),
        ("xml", "CII", "basicwl", "IN_DP_E2_CII_MIN_16B"),
        ("xml", "CII", "minimum", "IN_DP_E2_CII_MIN_16B"),
        ("pdf", "CII", "basic", "IN_DP_E2_CII_FACTURX"),
        ("pdf", "UBL", "en16931", None),
        ("xml", None, None, None),
    ],
)
def test_syntaxe_flux_detection(container, syntax, profile, expected):
    assert detect_syntaxe_flux(container=container, syntax=syntax, profile_key=profile) == expected


def test_every_detected_syntaxe_flux_is_consistent_with_its_content():
    for container, syntax, profile in (("xml", "UBL", "en16931"), ("xml", "CII", "en16931"), ("pdf", "CII", "basic")):
        declared = detect_syntaxe_flux(container=container, syntax=syntax, profile_key=profile)
        assert declared in SYNTAXES_FLUX
        assert check_syntaxe_flux(declared, container=container, syntax=syntax, profile_key=profile) == []


def test_e3_is_accepted_for_ubl_when_declared():
    assert check_syntaxe_flux("IN_DP_E3_UBL_INVOICE", container="xml", syntax="UBL") == []


@pytest.mark.parametrize(
    ("declared", "container", "syntax", "rule", "excerpt"),
    [
        ("IN_DP_E1_UBL_INVOICE", "xml", "CII", "CHOEUR-FLUX-INCOHERENTE", "Déclarez « IN_DP_E1_CII_16B »"),
        ("IN_DP_E2_CII_FACTURX", "xml", "CII", "CHOEUR-FLUX-INCOHERENTE", "un PDF embarquant une facture CII"),
        ("IN_DP_E1_CII_16B", "pdf", "CII", "CHOEUR-FLUX-INCOHERENTE", "IN_DP_E2_CII_FACTURX"),
        ("IN_DP_E2_CPP_FACTURE_MIN", "xml", "UBL", "CHOEUR-FLUX-NON-PRISE-EN-CHARGE", "CPPFactureMin"),
        ("IN_DP_E1_PES_FACTURE", "xml", "UBL", "CHOEUR-FLUX-NON-PRISE-EN-CHARGE", "PES"),
        ("IN_DP_E9_INVENTE", "xml", "UBL", "CHOEUR-FLUX-INCONNUE", "IN_DP_E1_UBL_INVOICE"),
    ],
)
def test_syntaxe_flux_mismatches(declared, container, syntax, rule, excerpt):
    [finding] = check_syntaxe_flux(declared, container=container, syntax=syntax)
    assert finding.rule == rule and finding.severity == "fatal" and finding.layer == "flux"
    assert excerpt in finding.message


def test_mixed_flow_without_pdf_attachment_is_a_warning():
    [finding] = check_syntaxe_flux("IN_DP_E2_UBL_INVOICE_MIN", container="xml", syntax="UBL")
    assert finding.rule == "CHOEUR-FLUX-E2-SANS-PDF" and finding.severity == "warning"
    assert check_syntaxe_flux("IN_DP_E2_UBL_INVOICE_MIN", container="xml", syntax="UBL", has_pdf_attachment=True) == []
