"""`rules="en16931"` means exactly the CEN EN 16931 artefacts: on every corpus invoice, UBL and CII, the
en16931 layer fires the same rule ids, with the same flags, at the same locations, as the official XSLT of
the 1.3.16 release run unmodified (../shared/artefacts; skipped, saying so, when absent)."""

from collections import Counter

import pytest

from choeur.flows.validation import schematron, validate_bytes
from choeur.flows.validation.detect import PROFILE_EXTENDED_CTC_FR, SYNTAX_UBL
from choeur.flows.validation.report import LAYER_EN16931
from choeur.flows.validation.xmlparse import serialise_root
from tests.conftest import CEN_RELEASE_DIR, CORPUS_DIR
from tests.flows.conftest import corpus_invoices


def _corpus_files():
    if not CORPUS_DIR.exists():
        return []
    # en16931/test holds the CEN's unit test sets (test_conformance_cen.py), not invoices.
    files = (p for p in CORPUS_DIR.rglob("*") if p.is_file() and p.suffix.lower() in (".xml", ".pdf"))
    return sorted(p for p in files if "test" not in p.parts)


FILES = _corpus_files()


@pytest.fixture(scope="module")
def official():
    if not CEN_RELEASE_DIR.is_dir():
        pytest.skip("Artefacts CEN absents : ../shared/artefacts/en16931-1.3.16 introuvable sur cette machine.")
    processor = schematron._processor()
    compiled = {}

    def run(syntax: str, node) -> list[schematron.SvrlItem]:
        if syntax not in compiled:
            name = "ubl/EN16931-UBL-validation.xslt" if syntax == SYNTAX_UBL else "cii/EN16931-CII-validation.xslt"
            compiled[syntax] = processor.new_xslt30_processor().compile_stylesheet(
                stylesheet_file=str(CEN_RELEASE_DIR / name)
            )
        return schematron.parse_svrl(compiled[syntax].transform_to_string(xdm_node=node).encode("utf-8"))

    return run


def _official_view(items) -> Counter:
    return Counter(
        (i.rule, schematron.severity_of(i), i.location) for i in items if i.kind == "failed-assert" or i.flag
    )


def _engine_view(report) -> Counter:
    return Counter((f.rule, f.severity, f.location) for f in report.findings if f.layer == LAYER_EN16931)


@pytest.mark.corpus
@pytest.mark.skipif(not FILES, reason="Corpus absent : ../shared/corpus introuvable.")
def test_en16931_rules_agree_with_the_official_artefacts_on_every_corpus_invoice(official):
    compared, differences = Counter(), []
    for path in FILES:
        for entry, root, detection in corpus_invoices(path):
            if detection.profile_key == PROFILE_EXTENDED_CTC_FR:
                continue  # judged by the FNFE-MPE extension's own rules, not by the CEN release
            expected = _official_view(official(detection.syntax, schematron.parse(serialise_root(root))))
            [report] = validate_bytes(entry.xml, filename=path.name, rules="en16931")
            actual = _engine_view(report)
            compared[detection.syntax] += 1
            if actual != expected:
                differences.append(
                    f"{path.relative_to(CORPUS_DIR)} : en plus {sorted((actual - expected).elements())[:5]}, "
                    f"en moins {sorted((expected - actual).elements())[:5]}"
                )
            official_valid = not any(severity == "fatal" for _, severity, _ in expected.elements())
            cen_valid = not any(f.blocking for f in report.findings if f.layer == LAYER_EN16931)
            assert cen_valid == official_valid, path.name
    assert compared["UBL"] >= 15 and compared["CII"] >= 50, compared
    assert not differences, "\n".join(differences)
