"""Proof of identity on the real documents: every CEN unit-test fragment (../shared/corpus/en16931/test) and
every invoice of both corpora, judged by the native module and by the official CEN 1.3.16 XSLT, fire the same
rules (within the module's RULES). The stand-in module runs the same sweep, so the sweep itself is exercised
before the native modules are merged."""

from collections import Counter

import pytest
from lxml import etree

from choeur.flows.validation.detect import PROFILE_EXTENDED_CTC_FR
from tests.flows.conftest import corpus_invoices
from tests.flows.native import standin
from tests.flows.native.differential import (
    NATIVE_MODULES,
    SHARED_DIR,
    compare,
    describe,
    native_module,
    official_available,
    skip_reason,
)

pytestmark = [pytest.mark.corpus, pytest.mark.skipif(not official_available(), reason=skip_reason())]
CORPUS_DIR = SHARED_DIR / "corpus"
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
CONFIGURATIONS = {"tc434-ubl": "UBL", "tc434-cii": "CII"}


def documents(syntax: str):
    """(label, xml bytes) of the CEN unit-test fragments and corpus invoices of a syntax."""
    test_dir = CORPUS_DIR / "en16931" / "test"
    for path in sorted(test_dir.rglob("*.xml")) if test_dir.is_dir() else []:
        root = etree.parse(str(path)).getroot()
        if root.tag != f"{VEFA}testSet" or CONFIGURATIONS.get(root.get("configuration")) != syntax:
            continue
        for index, test in enumerate(root.iter(f"{VEFA}test"), start=1):
            fragment = next(c for c in test if isinstance(c.tag, str) and not c.tag.startswith(VEFA))
            yield f"{path.relative_to(test_dir)} n° {index}", etree.tostring(fragment)
    files = (p for p in CORPUS_DIR.rglob("*") if p.is_file() and p.suffix.lower() in (".xml", ".pdf"))
    for path in sorted(p for p in files if "test" not in p.relative_to(CORPUS_DIR).parts):
        for entry, _root, detection in corpus_invoices(path):
            if detection.syntax == syntax and detection.profile_key != PROFILE_EXTENDED_CTC_FR:
                yield f"{path.relative_to(CORPUS_DIR)} {entry.name}".strip(), entry.xml


def sweep(syntax: str, module, *, dynamic_errors: bool = True) -> tuple[Counter, list[str]]:
    seen, problems = Counter(), []
    for label, xml in documents(syntax):
        seen[label.split("/")[0]] += 1
        found = compare(xml, syntax, module=module, dynamic_errors=dynamic_errors)
        if found:
            problems.append(f"{label} :\n  {describe(found, limit=5)}")
    return seen, problems


@pytest.mark.parametrize("syntax", ["UBL", "CII"])
def test_native_engine_agrees_on_every_cen_unit_test_and_corpus_invoice(syntax):
    module = native_module(syntax)
    if module is None:
        pytest.skip(f"Module natif {NATIVE_MODULES[syntax]} absent (pas encore fusionné) : rien à comparer.")
    seen, problems = sweep(syntax, module)
    assert sum(seen.values()) > 50, seen
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize(("syntax", "make"), [("UBL", standin.make), ("CII", standin.make_cii)])
def test_the_sweep_runs_with_the_stand_in(syntax, make):
    seen, problems = sweep(syntax, make(), dynamic_errors=False)
    assert sum(seen.values()) > 50, seen
    assert not problems, "\n".join(problems[:30])
