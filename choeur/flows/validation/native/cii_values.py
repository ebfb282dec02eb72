"""XPath 2.0 value semantics the CEN CII rules rely on, in Python: string values, casts, round, comparisons.

The official artefacts are XSLT 2.0: an untyped element compared with a number is cast to xs:double, `xs:decimal()`
of a double is its exact binary value, `round()` rounds half towards positive infinity, a cast that fails or a
function given two nodes where it takes one raises a dynamic error (and the whole official run fails). These helpers
reproduce exactly that, so that a native verdict is the official verdict, rounding included.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_FLOOR, Context, Decimal, localcontext

from lxml import etree

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
PREFIXES = {"rsm": RSM, "ram": RAM, "udt": UDT}

# xs:decimal arithmetic never rounds in these rules (sums, products, division by 100): a wide context keeps it exact.
DECIMAL_CONTEXT = Context(prec=200)


class DynamicError(Exception):
    """What the official XSLT would stop on (a failed cast, two nodes given to a one-item function)."""


def clark(name: str) -> str:
    """`ram:Name` → `{urn…}Name` (`Name` alone is a `ram:` element)."""
    prefix, _, local = name.rpartition(":")
    return f"{{{PREFIXES[prefix or 'ram']}}}{local}"


_PATHS: dict[str, str] = {}
_STEPS: dict[str, tuple[str, ...]] = {}


def clark_path(path: str) -> str:
    """`ram:A/udt:B` → the Clark tags of those child steps joined by `/` (cached)."""
    found = _PATHS.get(path)
    if found is None:
        found = _PATHS[path] = "/".join(clark(step) for step in path.split("/"))
    return found


def steps(path: str) -> tuple[str, ...]:
    """`ram:A/udt:B` → the Clark tags of the child steps (cached). Paths are walked with iterchildren: lxml's
    ElementPath cache holds 100 paths and these rules use several hundred."""
    found = _STEPS.get(path)
    if found is None:
        found = _STEPS[path] = tuple(clark(step) for step in path.split("/"))
    return found


def walk(element, tags: tuple[str, ...]) -> list:
    """The elements at the end of child steps, in document order."""
    if len(tags) == 1:
        return list(element.iterchildren(tags[0]))
    current = [element]
    for tag in tags:
        current = [child for parent in current for child in parent.iterchildren(tag)]
        if not current:
            break
    return current


def nodes(element, path: str) -> list:
    return walk(element, steps(path))


def _first_at(element, tags: tuple[str, ...], depth: int):
    tag = tags[depth]
    if depth == len(tags) - 1:
        return next(element.iterchildren(tag), None)
    for child in element.iterchildren(tag):
        found = _first_at(child, tags, depth + 1)
        if found is not None:
            return found
    return None


def first(element, path: str):
    """The first node of a path (document order), or None; stops at the first one found."""
    return _first_at(element, steps(path), 0)


def exists(element, path: str) -> bool:
    return first(element, path) is not None


_STRING = etree.XPath("string()")


def string(element) -> str:
    """The XPath string value (every descendant text node, comments excluded)."""
    if element is None:
        return ""
    if len(element) == 0:
        return element.text or ""
    return _STRING(element)


_WS = re.compile(r"[ \t\n\r]+")


def normalize_space(text: str) -> str:
    """fn:normalize-space: only the four XML whitespace characters count."""
    return _WS.sub(" ", text).strip(" ")


def upper(text: str) -> str:
    return text.upper()


def one(found: list):
    """The single node an XPath one-item argument takes: None when absent, a dynamic error when repeated."""
    if not found:
        return None
    if len(found) > 1:
        raise DynamicError("séquence de plusieurs éléments là où un seul est attendu")
    return found[0]


def string_of(element, path: str) -> str:
    """string(path) where the path is a one-item argument (substring-after, normalize-space…)."""
    return string(one(nodes(element, path)))


def first_string(element, path: str) -> str:
    return string(first(element, path))


_DOUBLE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_XS_WS = " \t\n\r"


def to_double(text: str) -> float:
    """xs:double(untypedAtomic): a failed cast is a dynamic error."""
    value = text.strip(_XS_WS)
    if _DOUBLE.fullmatch(value):
        return float(value)
    if value in ("INF", "+INF"):
        return math.inf
    if value == "-INF":
        return -math.inf
    if value == "NaN":
        return math.nan
    raise DynamicError(f"« {text} » n'est pas un nombre")


def to_decimal(text: str) -> Decimal:
    """xs:decimal(untypedAtomic): a failed cast is a dynamic error."""
    value = text.strip(_XS_WS)
    if not _DECIMAL.fullmatch(value):
        raise DynamicError(f"« {text} » n'est pas un nombre décimal")
    return Decimal(value)


def to_boolean(text: str) -> bool:
    value = text.strip(_XS_WS)
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise DynamicError(f"« {text} » n'est pas un booléen")


def decimal_of(element, path: str) -> Decimal | None:
    """xs:decimal(path) with a one-item argument: None stands for the empty sequence."""
    node = one(nodes(element, path))
    return None if node is None else to_decimal(string(node))


def first_decimal(element, path: str) -> Decimal | None:
    """xs:decimal(path[1])."""
    node = first(element, path)
    return None if node is None else to_decimal(string(node))


def double_of_decimal(value: Decimal) -> float:
    return float(value)


def decimal_of_double(value: float) -> Decimal:
    """xs:decimal(xs:double): the double's exact binary value (as Saxon converts it)."""
    if math.isnan(value) or math.isinf(value):
        raise DynamicError("valeur non finie convertie en décimal")
    return Decimal(value)


def round_decimal(value: Decimal) -> Decimal:
    """fn:round on xs:decimal: half towards positive infinity."""
    with localcontext(DECIMAL_CONTEXT):
        return (value + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)


def round_double(value: float) -> float:
    """fn:round on xs:double (half towards positive infinity, exactly: no x + 0.5 rounding error)."""
    if math.isnan(value) or math.isinf(value) or value == 0:
        return value
    floor = math.floor(value)
    result = float(floor + 1) if value - floor >= 0.5 else float(floor)
    return -0.0 if result == 0 and value < 0 else result


def cents_decimal(value: Decimal) -> Decimal:
    """round(value * 10 * 10) div 100 in xs:decimal."""
    with localcontext(DECIMAL_CONTEXT):
        return round_decimal(value * 100) / 100


def cents_double(value: float) -> float:
    """round(value * 10 * 10) div 100 in xs:double."""
    return round_double(value * 10 * 10) / 100


def sum_doubles(found: list) -> float | int:
    """fn:sum over untyped nodes: each cast to xs:double, added in document order (0, an integer, when empty)."""
    if not found:
        return 0
    total = 0.0
    for index, node in enumerate(found):
        value = to_double(string(node))
        total = value if index == 0 else total + value
    return total


def sum_decimals(values: list[Decimal]) -> Decimal:
    with localcontext(DECIMAL_CONTEXT):
        total = Decimal(0)
        for value in values:
            total += value
        return total


def any_compare(found: list, op, number) -> bool:
    """`nodes op number` (general comparison): some node, cast to xs:double, satisfies it."""
    for node in found:
        if op(to_double(string(node)), number):
            return True
    return False


def any_indicator(found: list, wanted: bool) -> bool:
    """`udt:Indicator = true()/false()`: some indicator, cast to xs:boolean, equals it."""
    for node in found:
        if to_boolean(string(node)) is wanted:
            return True
    return False


def any_equal_string(found: list, value: str) -> bool:
    """`nodes = 'literal'`: an untyped node compared with a string compares as a string."""
    return any(string(node) == value for node in found)
