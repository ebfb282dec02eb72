"""How the native CII rules are matched: one walk over the document, each rule context matched once.

The official artefacts are three schematron patterns. Within a pattern, an element is judged by the first rule whose
context matches it (XSLT template priority), never by the later ones: `Rule`s keep that order, and `judge()` gives
every element of the document to the first matching rule of each pattern. Locations are the official SVRL's
(`/CrossIndustryInvoice[1]/…`, positions counted among same-named siblings), as schematron.readable_location() shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lxml import etree

from choeur.flows.validation.native.cii_values import DynamicError, clark


@dataclass(slots=True)
class Rule:
    """One schematron rule: its context (a tag, or a name test, plus ancestry and predicates) and its checks."""

    tag: str | None  # Clark tag of the context element; None with `name_test`
    check: Callable  # (element, doc) -> iterable of (rule id, flag) that fail
    parents: tuple[str, ...] = ()  # required ancestors, nearest first (Clark tags)
    anchored: bool = False  # the outermost of `parents` (or the element itself) is the document element
    name_test: Callable[[str], bool] | None = None  # on the Clark tag, for `*[ends-with(name(), …)]` contexts
    predicate: Callable | None = None  # (element, doc) -> bool: the context's predicates
    simple: bool = False  # set in __post_init__: no ancestry, no predicate (the tag decides)
    bare_ok: bool = False  # the check says (`check.bare_ok`) an element with no child nor attribute cannot fail

    def __post_init__(self):
        self.simple = not self.parents and not self.anchored and self.predicate is None
        self.bare_ok = getattr(self.check, "bare_ok", False)

    def matches(self, element, ancestry: tuple[str, ...], doc) -> bool:
        """`ancestry`: the tags of the element's ancestors, nearest first (computed once per element)."""
        if self.simple:
            return True
        parents = self.parents
        if parents and ancestry[: len(parents)] != parents:
            return False
        if self.anchored and len(ancestry) != len(parents):
            return False
        if self.predicate is None:
            return True
        try:
            return bool(self.predicate(element, doc))
        except DynamicError:
            return False  # XSLT: an error while matching a pattern is a non-match


def context(path: str, check: Callable, *, predicate: Callable | None = None) -> Rule:
    """A rule for a plain context path: `/rsm:A/ram:B` (from the root), `//ram:A/ram:B` or `ram:A/ram:B` (anywhere)."""
    anchored = path.startswith("/") and not path.startswith("//")
    steps = [clark(step) for step in path.lstrip("/").split("/")]
    return Rule(
        tag=steps[-1], check=check, parents=tuple(reversed(steps[:-1])), anchored=anchored, predicate=predicate
    )


@dataclass(eq=False)  # identity: a pattern keys the plans
class Pattern:
    name: str
    rules: list[Rule]
    _by_tag: dict[str, list[Rule]] = field(default_factory=dict)

    def candidates(self, tag: str) -> list[Rule]:
        found = self._by_tag.get(tag)
        if found is None:
            found = self._by_tag[tag] = [
                rule
                for rule in self.rules
                if rule.tag == tag or (rule.tag is None and rule.name_test is not None and rule.name_test(tag))
            ]
        return found


def location(element) -> str:
    """The official SVRL location of an element, as readable_location() prints it."""
    parts = []
    node = element
    while node is not None:
        tag = node.tag
        position = 1
        for _ in node.itersiblings(tag, preceding=True):
            position += 1
        parts.append(f"{etree.QName(tag).localname}[{position}]")
        node = node.getparent()
    return "/" + "/".join(reversed(parts))


_PLANS: dict[tuple[tuple, str], tuple] = {}


def judge(elements: Iterable, patterns: tuple[Pattern, ...], doc) -> list[tuple[str, str, object]]:
    """(rule id, flag, context element) of every failed assertion, each element judged once per pattern."""
    failed = []
    key = tuple(patterns)
    plans = _PLANS
    ancestries: dict = {}
    for element in elements:
        tag = element.tag
        parent = element.getparent()
        ancestry = () if parent is None else ancestries[parent]
        if len(element):
            ancestries[element] = (tag, *ancestry)
        plan = plans.get((key, tag))
        if plan is None:
            plan = plans[(key, tag)] = tuple(tuple(p.candidates(tag)) for p in patterns if p.candidates(tag))
        for candidates in plan:
            for rule in candidates:
                if rule.matches(element, ancestry, doc):
                    if rule.bare_ok and not len(element) and not element.keys():
                        break
                    for rule_id, flag in rule.check(element, doc):
                        failed.append((rule_id, flag, element))
                    break
    return failed
