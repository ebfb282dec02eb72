"""Targeted mutations of valid invoices, for the differential suite and `make proof-validation`.

A mutation is a plain tuple (operation, target, value) of small integers and a name, so that hypothesis can
draw and shrink it and a random generator can produce millions: `target` picks one of the elements the
operation applies to (modulo their count), `value` one of the operation's replacement values. Applying a
mutation never fails: an operation with nothing to act on leaves the document as it is.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from lxml import etree

from tests.flows.native.differential import SHARED_DIR

CORPUS_DIR = SHARED_DIR / "corpus"
SEED_DIRS = {"UBL": CORPUS_DIR / "en16931" / "ubl" / "examples", "CII": CORPUS_DIR / "en16931" / "cii" / "examples"}
_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")

AMOUNTS = ("0", "0.00", "0.01", "-0.01", "1", "100.005", "99.99", "1E3", "abc", "", "1000000000000.00", "-100")
CODES = ("EUR", "USD", "XXX", "eur", "380", "381", "389", "751", "999", "C62", "H87", "ZZZ", "FR", "DE", "0088",
         "0002", "9957", "58", "30", "", " S ")  # fmt: skip
DATES = ("2024-02-29", "2023-02-29", "20240229", "20231301", "2024-13-01", "01/02/2024", "", "2024-1-1", "19000101")
DATE_FORMATS = ("102", "610", "616", "999", "")
IDENTIFIERS = ("", " ", "0", "FR12345678901", "FRXX999999999", "12345678200010", "A" * 120, "urn:cen.eu:en16931:2017")
VAT_CATEGORIES = ("S", "Z", "E", "AE", "K", "G", "O", "L", "M", "B", "X", "")
RATES = ("0", "0.00", "20", "20.00", "5.5", "10", "-1", "100", "", "19.6")
INDICATORS = ("true", "false", "TRUE", "1", "")
FLAGS = ("true", "false")


def _local(element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _elements(root, predicate: Callable) -> list:
    return [e for e in root.iter() if isinstance(e.tag, str) and e is not root and predicate(e)]


def _leaf(e) -> bool:
    return len(e) == 0


def _set_text(values: Sequence[str], predicate: Callable) -> Callable:
    def apply(root, target: int, value: int) -> None:
        found = _elements(root, predicate)
        if found:
            found[target % len(found)].text = values[value % len(values)]

    return apply


def _set_attribute(names: tuple[str, ...], values: Sequence[str]) -> Callable:
    def apply(root, target: int, value: int) -> None:
        found = [(e, a) for e in _elements(root, lambda e: True) for a in names if a in e.attrib]
        if found:
            element, attribute = found[target % len(found)]
            element.set(attribute, values[value % len(values)])

    return apply


def _remove(predicate: Callable) -> Callable:
    def apply(root, target: int, value: int) -> None:
        found = _elements(root, predicate)
        if found:
            element = found[target % len(found)]
            element.getparent().remove(element)

    return apply


def _duplicate(predicate: Callable) -> Callable:
    def apply(root, target: int, value: int) -> None:
        found = _elements(root, predicate)
        if found:
            element = found[target % len(found)]
            element.addnext(copy.deepcopy(element))

    return apply


def _is_amount(e) -> bool:
    return _leaf(e) and bool(_NUMBER.match(e.text or "")) and not _is_date(e)


def _is_code(e) -> bool:
    name = _local(e)
    return _leaf(e) and (name.endswith("Code") or name in ("ID",) and _local(e.getparent()) == "TaxScheme")


def _is_date(e) -> bool:
    name = _local(e)
    return _leaf(e) and (name.endswith("Date") or name == "DateTimeString")


def _is_identifier(e) -> bool:
    name = _local(e)
    return _leaf(e) and (name == "ID" or name.endswith("ID") or name == "EndpointID" or name == "CompanyID")


def _is_vat_category(e) -> bool:
    name, parent = _local(e), _local(e.getparent())
    return _leaf(e) and (
        (name == "ID" and parent in ("TaxCategory", "ClassifiedTaxCategory")) or name == "CategoryCode"
    )


def _is_rate(e) -> bool:
    return _leaf(e) and _local(e) in (
        "Percent",
        "RateApplicablePercent",
        "CalculationPercent",
        "MultiplierFactorNumeric",
    )


def _is_allowance(e) -> bool:
    return _local(e) in ("AllowanceCharge", "SpecifiedTradeAllowanceCharge")


def _is_indicator(e) -> bool:
    return _leaf(e) and _local(e) in ("ChargeIndicator", "Indicator")


def _is_any(e) -> bool:
    return True


def _is_group(e) -> bool:
    return len(e) > 0


OPERATIONS: dict[str, Callable] = {
    "montant": _set_text(AMOUNTS, _is_amount),
    "code": _set_text(CODES, _is_code),
    "attribut-code": _set_attribute(("currencyID", "unitCode", "schemeID", "listID", "mimeCode"), CODES),
    "date": _set_text(DATES, _is_date),
    "format-date": _set_attribute(("format",), DATE_FORMATS),
    "identifiant": _set_text(IDENTIFIERS, _is_identifier),
    "categorie-tva": _set_text(VAT_CATEGORIES, _is_vat_category),
    "taux-tva": _set_text(RATES, _is_rate),
    "remise-charge-retiree": _remove(_is_allowance),
    "remise-charge-repetee": _duplicate(_is_allowance),
    "remise-ou-charge": _set_text(INDICATORS, _is_indicator),
    "element-retire": _remove(_is_any),
    "groupe-retire": _remove(_is_group),
    "element-repete": _duplicate(_is_any),
    "groupe-repete": _duplicate(_is_group),
}
OPERATION_NAMES = tuple(OPERATIONS)

Mutation = tuple[str, int, int]


@cache
def seeds(syntax: str) -> tuple[tuple[str, bytes], ...]:
    """(name, bytes) of the valid EN 16931 examples of a syntax, in a stable order."""
    folder = SEED_DIRS[syntax]
    if not folder.is_dir():
        return ()
    return tuple((p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file())


def mutate(seed: bytes, mutations: Sequence[Mutation]) -> bytes:
    """The seed with the mutations applied in order (serialised; the XML declaration kept)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
    root = etree.fromstring(seed, parser)
    for operation, target, value in mutations:
        OPERATIONS[operation](root, target, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def random_mutations(rng: random.Random, *, most: int = 4) -> list[Mutation]:
    return [
        (rng.choice(OPERATION_NAMES), rng.randrange(10_000), rng.randrange(100)) for _ in range(rng.randint(1, most))
    ]


def describe(seed_name: str, mutations: Sequence[Mutation]) -> str:
    steps = ", ".join(f"{op}(cible {target}, valeur {value})" for op, target, value in mutations) or "aucune"
    return f"{seed_name} avec mutations : {steps}"


def seed_path(syntax: str, name: str) -> Path:
    return SEED_DIRS[syntax] / name
