"""axe-core in the browser tests: the pinned npm package (package.json, `make test` installs it) evaluated in
the page by Playwright, then `axe.run` on the whole document (WCAG 2.1 A and AA rules, the RGAA's basis)."""

import os
from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_source() -> str:
    if not AXE_JS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{AXE_JS} est absent : « make test » l'installe (npm ci).")
        pytest.skip(f"axe-core absent ({AXE_JS}) : lancez « npm ci --no-audit --no-fund » ou « make test ».")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page, source: str, *, impacts=BLOCKING) -> list[str]:
    """The serious or critical violations on the page now loaded, one line per rule and element."""
    # Evaluated through the DevTools protocol: the page's CSP (script nonces) does not apply.
    page.evaluate(source)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    lines = []
    for violation in result["violations"]:
        if violation["impact"] not in impacts:
            continue
        for node in violation["nodes"][:5]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"{page.url} [{violation['impact']}] {violation['id']} : {violation['help']} — {target}")
    return lines
