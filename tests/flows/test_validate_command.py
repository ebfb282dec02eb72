"""`choeur validate`: offline CLI, no database, French output, JSON, exit codes 0/1/2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.flows.conftest import FIXTURES, fixture_bytes, run_command

REPO = Path(__file__).resolve().parents[2]
UBL = FIXTURES / "ubl_facture_b2g.xml"
CII = FIXTURES / "cii_facture_b2g.xml"


def _choeur(*args: str) -> subprocess.CompletedProcess:
    # An unreachable database: any ORM access would fail the command.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CHOEUR_SECRET_KEY": "cle-de-test",
        "DATABASE_URL": "postgres://personne@127.0.0.1:1/aucune_base",
    }
    return subprocess.run(
        [sys.executable, "-m", "choeur", "validate", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )


def _run(*args: str) -> tuple[int, str, str]:
    return run_command("validate", *args)


@pytest.fixture
def broken_ubl(tmp_path) -> Path:
    path = tmp_path / "faux-total.xml"
    path.write_bytes(
        fixture_bytes("ubl_facture_b2g.xml").replace(
            b'<cbc:PayableAmount currencyID="EUR">1200.00</cbc:PayableAmount>',
            b'<cbc:PayableAmount currencyID="EUR">1100.00</cbc:PayableAmount>',
        )
    )
    return path


def test_cli_without_database_text_output_and_exit_codes(broken_ubl, tmp_path):
    valid = _choeur(str(UBL), str(CII))
    assert valid.returncode == 0, valid.stderr
    assert f"{UBL} : VALIDE — UBL Invoice, profil EN 16931, syntaxeFlux IN_DP_E1_UBL_INVOICE" in valid.stdout
    assert "2 fichiers, 2 factures : 2 valides, 0 invalide." in valid.stdout

    invalid = _choeur(str(UBL), str(broken_ubl))
    assert invalid.returncode == 1
    assert f"{broken_ubl} : INVALIDE" in invalid.stdout
    assert "[erreur] BR-CO-16 : Le montant à payer (BT-115) doit être égal" in invalid.stdout
    assert "Traceback" not in invalid.stdout + invalid.stderr

    missing = _choeur(str(UBL), str(tmp_path / "absent.xml"))
    assert missing.returncode == 2
    assert "Fichier introuvable" in missing.stderr and "absent.xml" in missing.stderr

    bad_option = _choeur("--rules", "peppol", str(UBL))
    assert bad_option.returncode == 2
    assert "--rules" in bad_option.stderr


def test_cli_json_output_is_one_array(broken_ubl):
    result = _choeur("--json", str(UBL), str(broken_ubl))
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert [item["file"] for item in payload] == [str(UBL), str(broken_ubl)]
    assert [item["valid"] for item in payload] == [True, False]
    assert payload[0] == {"file": str(UBL), "syntax": "UBL", "profile": "EN 16931", "valid": True, "errors": []}
    error = next(e for e in payload[1]["errors"] if e["rule"] == "BR-CO-16")
    assert set(error) == {"rule", "severity", "message", "location"}
    assert error["severity"] == "fatal" and error["location"] == "/Invoice[1]/LegalMonetaryTotal[1]"


def test_rules_fr_makes_br_fr_blocking(tmp_path):
    path = tmp_path / "sans-mentions.xml"
    path.write_bytes(
        fixture_bytes("ubl_facture_b2g.xml").replace(
            "<cbc:Note>#AAB#Pas d'escompte pour paiement anticipé.</cbc:Note>".encode(), b""
        )
    )
    assert _run(str(path))[0] == 0
    code, out, _ = _run("--rules", "fr", str(path))
    assert code == 1
    assert "BR-FR-05" in out and "AAB" in out


def test_unsupported_format_is_invalid_with_a_reason(tmp_path):
    path = tmp_path / "zugferd1.xml"
    path.write_bytes(b'<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>')
    code, out, _ = _run(str(path))
    assert code == 1
    assert "INVALIDE — format non reconnu" in out
    assert "Format non pris en charge : facture ZUGFeRD 1.0" in out


def test_directories_are_expanded_and_archives_listed_per_invoice(tmp_path):
    import zipfile

    folder = tmp_path / "depot"
    folder.mkdir()
    (folder / "a.xml").write_bytes(fixture_bytes("ubl_facture_b2g.xml"))
    with zipfile.ZipFile(folder / "lot.zip", "w") as archive:
        archive.writestr("b.xml", fixture_bytes("cii_facture_b2g.xml"))
        archive.writestr("c.xml", fixture_bytes("ubl_avoir_b2g.xml"))
    (folder / ".cache").mkdir()
    (folder / ".cache" / "ignore.xml").write_bytes(b"garbage")
    code, out, _ = _run("--json", str(folder))
    assert code == 0
    assert [item["file"] for item in json.loads(out)] == [
        str(folder / "a.xml"),
        f"{folder / 'lot.zip'} → b.xml",
        f"{folder / 'lot.zip'} → c.xml",
    ]


def test_syntaxe_flux_option_is_checked():
    code, out, _ = _run("--syntaxe-flux", "IN_DP_E2_CII_FACTURX", str(UBL))
    assert code == 1
    assert "CHOEUR-FLUX-INCOHERENTE" in out


def test_warnings_are_listed_and_information_only_on_request(tmp_path):
    from choeur.flows.validation import schematron
    from tests.flows.conftest import facturx_pdf

    plain = tmp_path / "facture.pdf"
    plain.write_bytes(facturx_pdf(fixture_bytes("cii_facture_b2g.xml"), name="invoice.xml"))
    code, out, _ = _run(str(plain))
    assert code == 0
    assert "(1 avertissement)" in out
    assert "[avertissement] CHOEUR-PDF-NOM-XML" in out
    assert "[information]" not in out

    xml = fixture_bytes("cii_facture_b2g.xml").replace(
        b"<ram:LineTotalAmount>500.00</ram:LineTotalAmount>",
        b'<ram:LineTotalAmount currencyID="EUR">500.00</ram:LineTotalAmount>',
        1,
    )
    pdf = tmp_path / "devise.pdf"
    pdf.write_bytes(facturx_pdf(xml, name="invoice.xml"))
    code, out, _ = _run("--details", "--policy", "plateforme", str(pdf))
    # Factur-X only informs that the attribute is not used; the CEN forbids it (a CII-DT rule, fatal).
    assert "[information] FX-SCH : L'attribut @currencyID n'est pas prévu dans ce profil" in out
    if schematron.available("cen-cii"):
        assert code == 1
        assert "CII-DT-031" in out
