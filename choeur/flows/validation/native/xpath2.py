"""XPath 2.0 value semantics the official schematrons rely on, in Python, for the native rule modules.

The official artefacts are XSLT 2.0 run by Saxon: their assertions cast untyped text to `xs:decimal`,
`xs:double` or `xs:boolean`, sum decimals exactly and round half towards positive infinity. The native
engines must reach the same verdicts, including on bad input: where Saxon stops the whole run with a dynamic
error (a text that is not a number, a function given two nodes where it takes one), the helpers here raise
`DynamicError`, and the rule module reports the document as the official engine's run does (one fatal
finding, see `ubl.validate`). Shared by the UBL and CII modules; no Django, no lxml beyond element access.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Context, Decimal

from lxml import etree

# XML whitespace only (XPath's normalize-space ignores NBSP and the other Unicode spaces).
_XML_WS = re.compile(r"[ \t\r\n]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_STRIP = " \t\r\n"
# Saxon's xs:decimal is arbitrary precision: a wide context keeps sums and products exact.
EXACT = Context(prec=200)
ZERO = Decimal(0)


class DynamicError(Exception):
    """Where Saxon would stop the run: the official engine gives no verdict but an error for the document."""

    def __init__(self, detail: str, element=None):
        super().__init__(detail)
        self.element = element


def text(element) -> str:
    """The string value of an element (its descendant text, comments and PIs excluded)."""
    if element is None:
        return ""
    if len(element) == 0:
        return element.text or ""
    return "".join(element.itertext())


def normalize(value: str) -> str:
    return _XML_WS.sub(" ", value).strip(" ")


def children(element, tag: str) -> list:
    return element.findall(tag) if element is not None else []


def one(element, tag: str):
    """The single child `tag` (None if absent); a function taking one item given two raises, as in Saxon."""
    if element is None:
        return None
    found = element.findall(tag)
    if len(found) > 1:
        raise DynamicError(f"{len(found)} éléments {etree.QName(tag).localname} là où un seul est permis", element)
    return found[0] if found else None


def ns_one(element, tag: str) -> str:
    """normalize-space(tag) on the context element."""
    return normalize(text(one(element, tag)))


def decimal(value: str, element=None) -> Decimal:
    """xs:decimal(untypedAtomic): surrounding whitespace allowed, no exponent, no NaN."""
    stripped = value.strip(_STRIP)
    if not _DECIMAL.fullmatch(stripped):
        raise DynamicError(f"« {value.strip()[:40]} » n'est pas un nombre décimal", element)
    return Decimal(stripped)


def dec_one(element, tag: str) -> Decimal | None:
    """xs:decimal(tag): None when absent (the empty sequence)."""
    child = one(element, tag)
    return None if child is None else decimal(text(child), child)


def dec_all(elements) -> list[Decimal]:
    """path/xs:decimal(.) over a node sequence."""
    return [decimal(text(e), e) for e in elements]


def double(value: str, element=None) -> float:
    """xs:double(untypedAtomic), as general comparisons with a number cast untyped values."""
    stripped = value.strip(_STRIP)
    if stripped in ("INF", "+INF"):
        return float("inf")
    if stripped == "-INF":
        return float("-inf")
    if stripped == "NaN":
        return float("nan")
    if not _DOUBLE.fullmatch(stripped):
        raise DynamicError(f"« {value.strip()[:40]} » n'est pas un nombre", element)
    return float(stripped)


def boolean(value: str, element=None) -> bool:
    """xs:boolean(untypedAtomic), as `cbc:ChargeIndicator = true()` casts."""
    stripped = value.strip(_STRIP)
    if stripped in ("true", "1"):
        return True
    if stripped in ("false", "0"):
        return False
    raise DynamicError(f"« {value.strip()[:40]} » n'est pas un booléen (true ou false)", element)


_HALF = Decimal("0.5")
_HUNDRED = Decimal(100)
_add = EXACT.add


def round_half_up(value: Decimal) -> Decimal:
    """fn:round on a decimal: half towards positive infinity (round(-2.5) = -2)."""
    return _add(value, _HALF).to_integral_value(rounding=ROUND_FLOOR, context=EXACT)


def round2(value: Decimal) -> Decimal:
    """`round(x * 10 * 10) div 100`, the BR-CO rounding to two decimals."""
    return EXACT.divide(round_half_up(EXACT.multiply(value, _HUNDRED)), _HUNDRED)


def dsum(values) -> Decimal:
    total = ZERO
    for v in values:
        total = _add(total, v)
    return total


def percent(rate: Decimal) -> Decimal:
    """`rate div 100`, exact."""
    return EXACT.divide(rate, _HUNDRED)


def mul(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.multiply(a, b)


def decimal_of_double(value: float, element=None) -> Decimal:
    """xs:decimal(xs:double): exact binary value; NaN and infinities are errors."""
    if value != value or value in (float("inf"), float("-inf")):
        raise DynamicError("valeur non finie convertie en décimal", element)
    return Decimal(value)


def decimal_places(value: str) -> int:
    """string-length(substring-after(value, '.'))."""
    _, dot, after = value.partition(".")
    return len(after) if dot else 0


def location(element) -> str:
    """The official SVRL location of a node, as readable_location() prints it: `/Invoice[1]/InvoiceLine[2]`."""
    steps = []
    while element is not None:
        tag = element.tag
        index = 1
        for _ in element.itersiblings(tag, preceding=True):
            index += 1
        steps.append(f"{etree.QName(tag).localname}[{index}]")
        element = element.getparent()
    return "/" + "/".join(reversed(steps))
