"""The validation pipeline end to end on small invoices written for these tests."""

import io
import subprocess
import sys
import tarfile
import zipfile

import pytest

from choeur.flows.validation import DocumentReport, Limits, validate_bytes, validate_path
from choeur.flows.validation import pipeline as pipeline_module
from tests.flows.conftest import FIXTURES, facturx_pdf


def _rules(report: DocumentReport) -> list[str]:
    return [f.rule for f in report.findings]


def _break_totals(ubl: bytes) -> bytes:
    # BT-106 no longer equals the sum of the lines: BR-CO-10 (and BR-CO-13/15 downstream) must fire.
    return ubl.replace(
        b'<cbc:LineExtensionAmount currencyID="EUR">1000.00</cbc:LineExtensionAmount>',
        b'<cbc:LineExtensionAmount currencyID="EUR">999.00</cbc:LineExtensionAmount>',
    )


def _without_pmt_note(ubl: bytes) -> bytes:
    # EN 16931 does not care; BR-FR-05 requires the PMT note (fixed recovery indemnity).
    return ubl.replace(
        b"<cbc:Note>#PMT#Indemnit\xc3\xa9 forfaitaire pour frais de recouvrement : 40 euros.</cbc:Note>", b""
    )


def test_valid_ubl_invoice(ubl_invoice):
    [report] = validate_bytes(ubl_invoice, filename="facture.xml")
    assert report.valid
    assert report.findings == []
    assert (report.syntax, report.document_type, report.profile) == ("UBL", "Invoice", "EN 16931")
    assert report.profile_id == "urn:cen.eu:en16931:2017"
    assert report.container == "xml" and report.archive is None
    assert report.syntaxe_flux == "IN_DP_E1_UBL_INVOICE"
    assert report.xml == ubl_invoice
    assert len(report.sha256) == 64
    assert report.invoice.number == "FA-2026-0042"
    assert [r.layer for r in report.rule_sets] == ["en16931"]
    assert report.rule_sets[0].version == "1.3.16"


def test_valid_cii_invoice(cii_invoice):
    [report] = validate_bytes(cii_invoice, filename="facture.xml", rules="fr", fr_blocking=True)
    assert report.valid, report.findings
    assert report.findings == []
    assert (report.syntax, report.profile) == ("CII", "EN 16931")
    assert report.syntaxe_flux == "IN_DP_E1_CII_16B"
    assert {r.layer for r in report.rule_sets} == {"en16931", "br-fr"}


@pytest.mark.parametrize("engine", ["native", "official"])
def test_calculation_error_is_reported_in_french_with_its_location(ubl_invoice, engine):
    [report] = validate_bytes(_break_totals(ubl_invoice), engine=engine)
    assert not report.valid
    finding = next(f for f in report.findings if f.rule == "BR-CO-10")
    assert finding.severity == "fatal"
    assert finding.layer == "en16931"
    assert finding.message.startswith("Le total net des lignes (BT-106) doit être égal")
    assert finding.location == "/Invoice[1]/LegalMonetaryTotal[1]"
    if engine == "official":
        # The official text is kept beside ours when the official artefacts judged.
        assert "Sum of Invoice line net amount" in finding.message
        assert finding.text.startswith("[BR-CO-10]")
    else:
        # The native engine carries no text of the artefacts: the message is ours alone.
        assert finding.engine == "natif" and finding.text == ""


def test_xsd_error_is_reported(ubl_invoice):
    broken = ubl_invoice.replace(
        b"<cbc:IssueDate>2026-09-15</cbc:IssueDate>", b"<cbc:IssueDate>15/09/2026</cbc:IssueDate>"
    )
    [report] = validate_bytes(broken)
    assert not report.valid
    xsd_findings = [f for f in report.findings if f.layer == "xsd"]
    assert xsd_findings and xsd_findings[0].rule == "CHOEUR-XSD"
    assert "schéma XSD UBL 2.1 Invoice" in xsd_findings[0].message
    assert "IssueDate" in xsd_findings[0].location


def test_br_fr_layer_is_absent_with_en16931_rules(ubl_invoice):
    [report] = validate_bytes(_without_pmt_note(ubl_invoice), rules="en16931")
    assert report.valid
    assert not [f for f in report.findings if f.layer == "br-fr"]


def test_br_fr_findings_are_warnings_by_default(ubl_invoice):
    [report] = validate_bytes(_without_pmt_note(ubl_invoice), rules="fr", fr_blocking=False)
    assert report.valid
    br_fr = [f for f in report.findings if f.layer == "br-fr"]
    assert br_fr and all(f.severity == "warning" for f in br_fr)
    assert any(f.rule.startswith("BR-FR-05") and "PMT" in f.message for f in br_fr)


def test_br_fr_findings_block_when_asked(ubl_invoice):
    [report] = validate_bytes(_without_pmt_note(ubl_invoice), rules="fr", fr_blocking=True)
    assert not report.valid
    assert [f.rule for f in report.blocking_findings if f.layer == "br-fr"]
    assert all(f.severity == "fatal" for f in report.findings if f.layer == "br-fr")


def test_br_fr_blocking_follows_the_django_setting(settings, ubl_invoice):
    data = _without_pmt_note(ubl_invoice)
    settings.CHOEUR_BR_FR_BLOCKING = True
    assert not validate_bytes(data, rules="fr")[0].valid
    settings.CHOEUR_BR_FR_BLOCKING = False
    assert validate_bytes(data, rules="fr")[0].valid


def test_siret_checksum_is_checked_by_the_french_layer(ubl_invoice):
    data = ubl_invoice.replace(b"50123456100014", b"50123456100015")
    [report] = validate_bytes(data, rules="fr", fr_blocking=True)
    siret = [f for f in report.findings if f.rule == "CHOEUR-FR-SIRET"]
    assert siret and "50123456100015" in siret[0].message and "clé de contrôle" in siret[0].message
    assert not report.valid


def test_factur_x_pdf_is_extracted_and_validated(cii_invoice):
    [report] = validate_bytes(facturx_pdf(cii_invoice), filename="facture.pdf")
    assert report.valid, report.findings
    assert report.container == "pdf"
    assert report.member == "factur-x.xml"
    assert report.xml == cii_invoice
    assert report.syntaxe_flux == "IN_DP_E2_CII_FACTURX"
    assert report.display_name == "facture.pdf → factur-x.xml"


def test_xml_embedded_under_another_name_is_read_with_a_warning(cii_invoice):
    [report] = validate_bytes(facturx_pdf(cii_invoice, name="invoice.xml"))
    assert report.valid
    assert "CHOEUR-PDF-NOM-XML" in _rules(report)


def test_ubl_inside_a_pdf_is_refused(ubl_invoice):
    [report] = validate_bytes(facturx_pdf(ubl_invoice))
    assert not report.valid
    assert "CHOEUR-PDF-UBL" in _rules(report)


def test_pdf_without_invoice_xml():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    [report] = validate_bytes(out.getvalue())
    assert not report.valid
    assert _rules(report) == ["CHOEUR-PDF-SANS-XML"]
    assert "factur-x.xml" in report.findings[0].message


def test_zip_of_several_invoices_gives_one_report_each(ubl_invoice, cii_invoice):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lot/facture-1.xml", ubl_invoice)
        archive.writestr("lot/facture-2.pdf", facturx_pdf(cii_invoice))
        archive.writestr("lot/facture-3.xml", _break_totals(ubl_invoice))
        archive.writestr("__MACOSX/lot/._facture-1.xml", b"\x00\x05\x16\x07")
    reports = validate_bytes(buffer.getvalue(), filename="lot.zip")
    assert [r.member for r in reports] == ["lot/facture-1.xml", "lot/facture-2.pdf/factur-x.xml", "lot/facture-3.xml"]
    assert [r.valid for r in reports] == [True, True, False]
    assert all(r.archive == "zip" for r in reports)
    assert [r.container for r in reports] == ["xml", "pdf", "xml"]


def test_tar_gz_lot(ubl_invoice, cii_invoice):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("a.xml", ubl_invoice), ("b.xml", cii_invoice)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    reports = validate_bytes(buffer.getvalue(), filename="chorus_lot_factures.tar.gz")
    assert [(r.member, r.syntax, r.valid, r.archive) for r in reports] == [
        ("a.xml", "UBL", True, "tar"),
        ("b.xml", "CII", True, "tar"),
    ]


def test_unknown_file_type_is_refused_with_a_reason():
    [report] = validate_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert not report.valid
    assert report.findings[0].rule == "CHOEUR-TYPE-FICHIER"
    assert "image" in report.findings[0].message


def test_declared_syntaxe_flux_is_kept_when_consistent(ubl_invoice):
    [report] = validate_bytes(ubl_invoice, syntaxe_flux="IN_DP_E3_UBL_INVOICE")
    assert report.valid
    assert report.syntaxe_flux == "IN_DP_E3_UBL_INVOICE"


def test_inconsistent_syntaxe_flux_invalidates_with_a_french_reason(ubl_invoice):
    [report] = validate_bytes(ubl_invoice, syntaxe_flux="IN_DP_E2_CII_FACTURX")
    assert not report.valid
    [finding] = report.findings
    assert finding.rule == "CHOEUR-FLUX-INCOHERENTE" and finding.layer == "flux"
    assert "IN_DP_E1_UBL_INVOICE" in finding.message and "une facture XML UBL" in finding.message
    assert report.syntaxe_flux == "IN_DP_E1_UBL_INVOICE"


def test_unknown_rules_value_is_a_programming_error(ubl_invoice):
    with pytest.raises(ValueError, match="Jeu de règles inconnu"):
        validate_bytes(ubl_invoice, rules="peppol")


def test_unexpected_failure_becomes_an_internal_finding(monkeypatch, ubl_invoice):
    def explode(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(pipeline_module.xsd, "validate", explode)
    [report] = validate_bytes(ubl_invoice)
    assert not report.valid
    assert report.findings[-1].rule == "CHOEUR-INTERNE"
    assert "panne simulée" in report.findings[-1].message


def test_saxon_failure_becomes_a_blocking_finding(monkeypatch, ubl_invoice):
    from choeur.flows.validation import schematron

    def fail(key, node):
        raise schematron.SchematronError("erreur dynamique simulée")

    monkeypatch.setattr(schematron, "run", fail)
    [report] = validate_bytes(ubl_invoice, engine="official")
    assert not report.valid
    assert _rules(report) == ["CHOEUR-SCHEMATRON"]
    assert "CEN EN 16931 UBL" in report.findings[0].message


def test_validate_path_checks_the_size_before_reading(tmp_path):
    path = tmp_path / "enorme.xml"
    with open(path, "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: nothing is allocated
    [report] = validate_path(path, limits=Limits(max_input_bytes=160 * 1024 * 1024))
    assert not report.valid
    assert report.findings[0].rule == "CHOEUR-TAILLE"
    assert "200 Mio" in report.findings[0].message and "160 Mio" in report.findings[0].message


def test_report_serialises_for_the_cli_and_the_api(ubl_invoice):
    [report] = validate_bytes(_break_totals(ubl_invoice), filename="f.xml")
    payload = report.to_dict(include_layer=False)
    assert payload["file"] == "f.xml" and payload["valid"] is False
    assert set(payload["errors"][0]) == {"rule", "severity", "message", "location"}
    assert set(report.to_dict()["errors"][0]) == {"rule", "severity", "message", "location", "layer"}


def test_importing_the_engine_compiles_nothing():
    code = (
        "import choeur.flows.validation as v\n"
        "from choeur.flows.validation import schematron, xsd\n"
        "assert schematron._state['processor'] is None, 'Saxon démarré à l’import'\n"
        "assert xsd.loaded_schemas() == [], 'XSD chargés à l’import'\n"
        "import sys; assert 'saxonche' not in sys.modules, 'saxonche importé'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=FIXTURES.parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_rule_sets_are_compiled_once_per_process(ubl_invoice):
    from choeur.flows.validation import schematron

    validate_bytes(ubl_invoice)
    first = schematron.executable("cen-ubl")
    validate_bytes(ubl_invoice)
    assert schematron.executable("cen-ubl") is first


def _xrechnung(cii_invoice: bytes) -> bytes:
    return cii_invoice.replace(
        b"urn:cen.eu:en16931:2017</ram:ID>",
        b"urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.3</ram:ID>",
    )


@pytest.mark.parametrize(("engine", "name"), [("official", "CEN EN 16931 CII"), ("native", "Chœur EN 16931 CII")])
def test_bare_cii_of_another_cius_is_judged_by_the_cen_rules_alone(cen_release, cii_invoice, engine, name):
    [bare] = validate_bytes(_xrechnung(cii_invoice), policy="plateforme", engine=engine)
    assert bare.valid, bare.findings
    assert bare.profile == "EN 16931 (CIUS XRECHNUNG)"
    assert not [f for f in bare.findings if f.rule.startswith("FX-SCH")]
    assert [r.layer for r in bare.rule_sets] == ["en16931"] and bare.rule_sets[0].name.startswith(name)
    if engine == "official":
        assert bare.rule_sets[0].origin == "installé (cen-en16931-1.3.16)"


def test_a_factur_x_pdf_adds_the_factur_x_layer_which_requires_a_factur_x_bt24(cen_release, cii_invoice):
    [cen] = validate_bytes(facturx_pdf(_xrechnung(cii_invoice)))
    assert cen.valid  # the CEN accepts any specification identifier
    [platform] = validate_bytes(facturx_pdf(_xrechnung(cii_invoice)), policy="plateforme")
    assert not platform.valid
    [fx] = [f for f in platform.findings if f.rule.startswith("FX-SCH-A-")]
    assert (fx.layer, fx.severity) == ("facturx", "fatal")
    assert [r.layer for r in platform.rule_sets] == ["en16931", "facturx"]


def test_fallback_foreign_bt24_is_a_warning_for_bare_cii_but_blocks_a_factur_x_pdf(
    no_cen_release, no_native, cii_invoice
):
    # Without the native module nor the CEN CII release, « auto » falls back on Factur-X's EN 16931 schematron.
    xrechnung = _xrechnung(cii_invoice)
    [bare] = validate_bytes(xrechnung, policy="plateforme")
    assert bare.valid
    assert "repli" in bare.rule_sets[0].name
    [override] = [f for f in bare.findings if f.rule.startswith("FX-SCH-A-")]
    assert override.severity == "warning"
    assert "accepté pour une facture CII hors PDF" in override.message
    [in_pdf] = validate_bytes(facturx_pdf(xrechnung), policy="plateforme")
    assert not in_pdf.valid
    assert [f.severity for f in in_pdf.findings if f.rule.startswith("FX-SCH-A-")] == ["fatal"]


def test_factur_x_1_0_profile_id_is_reported_as_obsolete(cii_invoice):
    legacy = cii_invoice.replace(
        b"urn:cen.eu:en16931:2017</ram:ID>", b"urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:en16931</ram:ID>"
    )
    [report] = validate_bytes(facturx_pdf(legacy), policy="plateforme")
    assert report.profile == "EN 16931"
    warning = next(f for f in report.findings if f.rule == "CHOEUR-PROFIL-ANCIEN")
    assert "écrivez « urn:cen.eu:en16931:2017 »" in warning.message
    assert not report.valid  # Factur-X 1.09 no longer accepts it in a PDF
