"""`choeur artefacts install|list`: an operator installs a CEN release; the engine records and checks its SHA-256."""

import hashlib
import io
import json
import zipfile

import pytest

from choeur.flows.validation import artefacts, schematron, validate_bytes
from tests.conftest import CEN_RELEASE_DIR
from tests.flows.conftest import fixture_bytes, run_command


@pytest.fixture
def store(tmp_path):
    previous = artefacts.store_dir()
    artefacts.configure_store(tmp_path / "store")
    yield tmp_path / "store"
    artefacts.configure_store(previous)


@pytest.fixture
def release_dir():
    if not CEN_RELEASE_DIR.is_dir():
        pytest.skip("Artefacts CEN absents : ../shared/artefacts/en16931-1.3.16 introuvable sur cette machine.")
    return CEN_RELEASE_DIR


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_install_from_a_directory_records_each_digest_and_the_cii_is_then_judged_by_the_cen(store, release_dir):
    release = artefacts.install(release_dir)
    assert release.name == "cen-en16931-1.3.16"
    manifest = json.loads((store / release.name / "manifest.json").read_text())
    source = release_dir / "cii" / "EN16931-CII-validation.xslt"
    assert manifest["files"]["cen-cii"]["sha256"] == _sha(source)
    assert (store / release.name / "LICENSE.txt").exists()
    [report] = validate_bytes(fixture_bytes("cii_facture_b2g.xml"), engine="official")
    assert report.valid
    [info] = report.rule_sets
    assert (info.name, info.version, info.sha256) == ("CEN EN 16931 CII", "1.3.16", _sha(source))
    assert info.origin == "installé (cen-en16931-1.3.16)"


def test_install_from_a_release_zip_takes_only_the_xslts_and_the_licence(store, release_dir, tmp_path):
    archive = tmp_path / "en16931-release.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in release_dir.rglob("*"):
            if path.is_file():
                zipped.write(path, f"eInvoicing-EN16931-1.3.16/{path.relative_to(release_dir)}")
        zipped.writestr("eInvoicing-EN16931-1.3.16/readme.html", "<p>ignoré</p>")
    release = artefacts.install(archive)
    assert sorted(release.files) == ["cen-cii", "cen-ubl"]
    assert not list((store / release.name).rglob("*.html"))
    assert schematron.available("cen-cii")


def test_a_file_changed_after_installation_is_refused_not_used(store, release_dir):
    release = artefacts.install(release_dir)
    path = release.path("cen-cii")
    path.write_bytes(path.read_bytes().replace(b"BR-16", b"BR-XX", 1))
    artefacts.installed_file.cache_clear()
    with pytest.raises(artefacts.ArtefactError, match="modifié depuis son installation"):
        schematron.resolve("cen-cii")
    [report] = validate_bytes(fixture_bytes("cii_facture_b2g.xml"))
    assert not report.valid  # never judged by a tampered artefact: the engine's internal finding blocks
    assert [f.rule for f in report.blocking_findings] == ["CHOEUR-INTERNE"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "introuvable"),
        (b"pas un zip", "ni un dossier ni une archive zip"),
        ("empty-zip", "Aucun XSLT CEN"),
        ("traversal", "Chemin interdit"),
    ],
)
def test_bad_sources_are_refused_with_a_french_reason(store, tmp_path, content, message):
    source = tmp_path / "source.zip"
    if content == "empty-zip":
        with zipfile.ZipFile(source, "w") as zipped:
            zipped.writestr("readme.txt", "rien")
    elif content == "traversal":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zipped:
            zipped.writestr("../../EN16931-CII-validation.xslt", "<x/>")
        source.write_bytes(buffer.getvalue())
    elif content is not None:
        source.write_bytes(content)
    with pytest.raises(artefacts.ArtefactError, match=message):
        artefacts.install(source)
    assert not artefacts.installed_releases()


def test_without_a_release_cii_falls_back_and_says_so(store, no_native):
    # Only without the native engine: it judges the CEN rules itself, artefacts or not.
    assert not schematron.available("cen-cii")
    [report] = validate_bytes(fixture_bytes("cii_facture_b2g.xml"))
    assert report.valid
    assert "repli : version CEN CII non installée" in report.rule_sets[0].name


def test_without_a_release_the_native_engine_judges_the_cen_cii_rules(store):
    assert not schematron.available("cen-cii")
    [report] = validate_bytes(fixture_bytes("cii_facture_b2g.xml"))
    assert report.valid
    [info] = report.rule_sets
    assert info.engine == "natif" and info.version == "1.3.16" and info.rules == 806


def _command(*args: str) -> tuple[int, str, str]:
    return run_command("artefacts", *args)


def test_command_installs_and_lists_what_judges(store, release_dir, tmp_path):
    code, out, _ = _command("list")
    assert code == 0
    assert "aucune version installée" in out
    assert "cen-cii      non installé" in out
    code, out, err = _command("install", str(release_dir))
    assert code == 0, err
    assert "Installé : cen-en16931-1.3.16" in out
    code, out, _ = _command("list")
    assert "CEN EN 16931 CII 1.3.16 — installé (cen-en16931-1.3.16)" in out
    code, _, err = _command("install", str(tmp_path / "nulle-part"))
    assert code == 2
    assert "introuvable" in err


def test_the_documented_policy_table_is_the_one_the_engine_applies():
    from pathlib import Path

    from choeur.flows.validation.policy import policy_table_markdown

    doc = (Path(__file__).resolve().parents[2] / "docs" / "validation.md").read_text(encoding="utf-8")
    documented = doc.split("<!-- policy-table:start -->")[1].split("<!-- policy-table:end -->")[0]
    assert documented.strip() == policy_table_markdown()
