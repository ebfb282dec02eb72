"""The validation engine is a library of its own: `python -m choeur.flows.validation validate …` runs with
Django made unimportable, and `choeur validate` offers the same engine options (--engine, --explain-engine,
--jobs)."""

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

WITHOUT_DJANGO = """
import runpy, sys

class NoDjango:
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError("Django est interdit dans ce test")
        return None

sys.meta_path.insert(0, NoDjango())
sys.argv = ["choeur.flows.validation", *sys.argv[1:]]
try:
    runpy.run_module("choeur.flows.validation", run_name="__main__")
finally:
    assert not any(m == "django" or m.startswith("django.") for m in sys.modules), "Django importé"
"""


def _library(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_DJANGO, *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=120
    )


def test_library_cli_runs_without_django(tmp_path):
    broken = tmp_path / "faux-total.xml"
    broken.write_bytes(
        fixture_bytes("ubl_facture_b2g.xml").replace(
            b'<cbc:PayableAmount currencyID="EUR">1200.00</cbc:PayableAmount>',
            b'<cbc:PayableAmount currencyID="EUR">1100.00</cbc:PayableAmount>',
        )
    )
    valid = _library("validate", str(UBL), str(CII), "--engine", "auto")
    assert valid.returncode == 0, valid.stderr
    assert f"{UBL} : VALIDE — UBL Invoice, profil EN 16931" in valid.stdout
    assert "2 fichiers, 2 factures : 2 valides, 0 invalide." in valid.stdout

    invalid = _library("validate", str(broken), "--json", "--rules", "fr", "--engine", "official")
    assert invalid.returncode == 1, invalid.stderr
    [report] = json.loads(invalid.stdout)
    assert not report["valid"] and "BR-CO-16" in {e["rule"] for e in report["errors"]}


def test_library_cli_usage_errors_are_french_and_exit_2(tmp_path):
    missing = _library("validate", str(tmp_path / "absent.xml"))
    assert missing.returncode == 2 and "Fichier introuvable" in missing.stderr
    bad_jobs = _library("validate", str(UBL), "--jobs", "zéro")
    assert bad_jobs.returncode == 2 and "--jobs attend un nombre entier" in bad_jobs.stderr
    nothing = _library("validate")
    assert nothing.returncode == 2 and "Indiquez au moins un fichier" in nothing.stderr


def test_explain_engine_says_who_judges_which_rules():
    code, out, _ = run_command("validate", "--explain-engine", "--engine", "official")
    assert code == 0
    assert "EN 16931 UBL — moteur official" in out and "officiel : CEN EN 16931 UBL 1.3.16" in out
    code, out, _ = run_command("validate", "--explain-engine", "--json")
    described = json.loads(out)
    assert [d["syntax"] for d in described] == ["UBL", "CII"]
    assert all(0.0 <= d["coverage"] <= 1.0 and d["official_rules"] > 700 for d in described)


def test_explain_engine_with_files_tags_each_finding_with_its_engine(tmp_path):
    broken = tmp_path / "faux.xml"
    broken.write_bytes(
        fixture_bytes("ubl_facture_b2g.xml").replace(
            b'<cbc:PayableAmount currencyID="EUR">1200.00</cbc:PayableAmount>',
            b'<cbc:PayableAmount currencyID="EUR">1100.00</cbc:PayableAmount>',
        )
    )
    code, out, _ = run_command("validate", str(broken), "--explain-engine", "--engine", "official")
    assert code == 1
    assert "jugé par le moteur officiel : CEN EN 16931 UBL 1.3.16" in out and "[moteur officiel]" in out
    code, out, _ = run_command("validate", str(broken), "--explain-engine", "--engine", "official", "--json")
    [report] = json.loads(out[out.index('[\n  {\n    "file"') :])
    assert {e["engine"] for e in report["errors"] if e["rule"].startswith("BR-")} == {"officiel"}
    assert report["rule_sets"][0]["engine"] == "officiel"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_jobs_validates_a_directory_across_processes_in_order(tmp_path, jobs):
    folder = tmp_path / "lot"
    folder.mkdir()
    for index in range(70):  # above the parallel threshold
        source = UBL if index % 2 == 0 else CII
        (folder / f"{index:03d}.xml").write_bytes(source.read_bytes())
    (folder / "999-vide.xml").write_bytes(b"")
    code, out, _ = run_command("validate", str(folder), "--jobs", jobs, "--engine", "official")
    assert code == 1
    lines = [line for line in out.splitlines() if " : VALIDE" in line or " : INVALIDE" in line]
    assert [Path(line.split(" : ")[0]).name for line in lines] == sorted(p.name for p in folder.iterdir())
    assert "71 fichiers, 71 factures : 70 valides, 1 invalide." in out
