"""Verdicts on the shared corpus (CEN examples, ZUGFeRD/Factur-X corpus) against the ones recorded in
expected_verdicts.json by record_verdicts.py (re-record after a deliberate change; docs/validation.md)."""

import json
from pathlib import Path

import pytest

from tests.conftest import CORPUS_DIR, corpus_path
from tests.flows.record_verdicts import corpus_files, verdict

EXPECTED = json.loads((Path(__file__).resolve().parent / "expected_verdicts.json").read_text(encoding="utf-8"))


@pytest.mark.corpus
def test_every_corpus_file_has_a_recorded_verdict():
    root = corpus_path()
    current = {str(p.relative_to(root)) for p in corpus_files(root)}
    assert current == set(EXPECTED), "relancez tests/flows/record_verdicts.py et relisez le diff"


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_verdict(name, cen_release):
    """Recorded with the CEN release installed (its verdicts; test_cen_agreement proves them the CEN's)."""
    path = corpus_path(*name.split("/"))
    assert verdict(path) == EXPECTED[name]


@pytest.mark.corpus
def test_recorded_verdicts_are_plausible():
    """The official examples are valid, except the few anomalies explained in docs/validation.md."""
    if not CORPUS_DIR.exists():
        pytest.skip("Corpus absent : ../shared/corpus n'est pas présent sur cette machine.")
    examples = {k: v for k, v in EXPECTED.items() if k.startswith("en16931/")}
    assert [k for k, v in examples.items() if not v["valid"]] == []
    # ZUGFeRD 1.0 is refused as a format, every file of it.
    zugferd1 = [v for k, v in EXPECTED.items() if k.startswith("zugferd/ZUGFeRDv1/")]
    assert zugferd1 and all(d["blocking_rules"] == ["CHOEUR-FORMAT"] for v in zugferd1 for d in v["documents"])

    def accepted(v):
        return all(not d["plateforme_blocking_rules"] for d in v["documents"])

    # What the platform accepts of the ZUGFeRD 2 corpus (Factur-X profile rules; CEN advisory for MINIMUM…).
    correct = [accepted(v) for k, v in EXPECTED.items() if k.startswith("zugferd/ZUGFeRDv2/correct/")]
    failing = [accepted(v) for k, v in EXPECTED.items() if k.startswith("zugferd/ZUGFeRDv2/fail/")]
    assert sum(correct) / len(correct) > 0.7
    assert sum(failing) / len(failing) < 0.3
