# ruff: noqa: E501 — the checks are JavaScript run in the page; its lines are kept whole to stay readable.
"""Layout checks for the browser journeys: every page a journey visits is checked at 1280 px and at 375 px.

A journey runs at 1280 px. Each page it loads (and each HTMX swap) is recorded as a snapshot of its DOM, sent
by an init script; resizing the live page in the middle of a journey would race with the journey's own
clicks. When the test ends, each distinct snapshot is served again at its own URL (the document only, its
CSS and scripts come from the live server) and measured at both widths:

- no button, link, label or table cell whose text is clipped (`scrollWidth > clientWidth` on an element
  that hides its overflow — the DSFR icon buttons shrunk to their icon);
- no horizontal overflow of the page (a table wider than the screen must scroll inside its own box);
- every action reachable by keyboard (no visible link, button or field taken out of the tab order, no
  clickable element that is not focusable).
"""

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

WIDTHS = (1280, 375)

# Sent on load and after each HTMX swap; the Python side keeps the snapshots to check them after the journey.
RECORDER_JS = """
(() => {
  if (window.top !== window) return;
  const send = () => {
    if (!window.__choeurLayoutRecord) return;
    window.__choeurLayoutRecord(location.href, '<!DOCTYPE html>' + document.documentElement.outerHTML);
  };
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(send, 50); };
  window.addEventListener('load', later);
  document.addEventListener('htmx:afterSettle', later);
})();
"""

# Returns a list of problems, each a short French description naming the element.
CHECK_JS = """
() => {
  const problems = [];
  const describe = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.title || '').trim().replace(/\\s+/g, ' ');
    const id = el.id ? '#' + el.id : '';
    return `<${el.tagName.toLowerCase()}${id} class="${el.className}"> « ${text.slice(0, 60)} »`;
  };
  const visible = (el) => {
    if (!el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    // Inside a closed DSFR modal or collapse: not on screen, nothing to measure.
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      const s = getComputedStyle(node);
      if (s.display === 'none' || s.visibility === 'hidden') return false;
      if (node.classList.contains('fr-sr-only')) return false;
    }
    return true;
  };
  // 1. Clipped text.
  for (const el of document.querySelectorAll('button, a, label, th, td, .fr-btn, .fr-tag, .fr-badge, legend')) {
    if (!visible(el)) continue;
    const style = getComputedStyle(el);
    const hidesOverflow = ['hidden', 'clip'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
    if (!hidesOverflow) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      // An icon-only button carries its label for screen readers only: that is a design choice, not a
      // clipped label, when the button says so with a title or aria-label.
      const iconOnly = /fr-icon-|fr-btn--menu|fr-btn--close/.test(el.className)
        && !/fr-btn--icon-(left|right)/.test(el.className) && (el.title || el.getAttribute('aria-label'));
      // The DSFR search bar shows its label to screen readers only and its button as a magnifier icon.
      const searchBar = el.closest('.fr-search-bar')
        && (el.tagName === 'LABEL' || el.title || el.getAttribute('aria-label'));
      if (!iconOnly && !searchBar) problems.push(`texte coupé (${el.clientWidth} px pour ${el.scrollWidth} px) : ${describe(el)}`);
    }
  }
  // Fields too narrow to read what is typed: under 4 characters of width for a text field.
  for (const el of document.querySelectorAll('input[type=text], input:not([type]), input[type=number], input[type=date], input[type=email], select, textarea')) {
    if (!visible(el) || el.type === 'hidden') continue;
    const em = parseFloat(getComputedStyle(el).fontSize) || 16;
    if (el.clientWidth < 4 * em) problems.push(`champ trop étroit (${el.clientWidth} px) : ${describe(el)}`);
  }
  // 2. Horizontal overflow of the page.
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) {
    let culprit = '';
    // The culprit is the first element that sticks out of the screen while its parent does not.
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      const parent = el.parentElement.getBoundingClientRect();
      if (r.right > doc.clientWidth + 1 && parent.right <= doc.clientWidth + 1 && visible(el)) { culprit = describe(el); break; }
    }
    problems.push(`la page déborde horizontalement (${doc.scrollWidth} px pour ${doc.clientWidth} px), par exemple ${culprit}`);
  }
  // 3. Keyboard: visible actions in the tab order; clickable things that are focusable.
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (!visible(el) || el.disabled) continue;
    if (el.tabIndex < 0 && !el.closest('[role=radiogroup], .fr-tabs__list')) problems.push(`hors de l'ordre de tabulation : ${describe(el)}`);
  }
  for (const el of document.querySelectorAll('[onclick], [hx-get]:not(a,button,input,select,textarea,form), [hx-post]:not(a,button,input,select,textarea,form), [role=button]')) {
    if (!visible(el)) continue;
    if (el.tabIndex < 0) problems.push(`action inaccessible au clavier : ${describe(el)}`);
  }
  return problems;
}
"""


@dataclass
class LayoutRecorder:
    """Collects the DOM snapshots of a journey; `check()` measures each distinct one at both widths."""

    snapshots: dict[str, tuple[str, str]] = field(default_factory=dict)
    enabled: bool = True

    def attach(self, context) -> None:
        context.expose_binding("__choeurLayoutRecord", lambda source, url, html: self.record(url, html))
        context.add_init_script(RECORDER_JS)

    def record(self, url: str, html: str) -> None:
        if not self.enabled:
            return
        # The CSRF token changes on every page; two snapshots that differ only by it are the same layout.
        key = hashlib.sha256(_strip_tokens(html).encode()).hexdigest()
        self.snapshots.setdefault(key, (url, html))

    def check(self, browser) -> list[str]:
        problems: list[str] = []
        for url, html in self.snapshots.values():
            for width in WIDTHS:
                for problem in check_snapshot(browser, url, html, width):
                    problems.append(f"{url} à {width} px : {problem}")
        # The same page seen after several HTMX swaps repeats its problems: each is said once.
        return list(dict.fromkeys(problems))


def _strip_tokens(html: str) -> str:
    return re.sub(r'(csrfmiddlewaretoken" value="|nonce=")[^"]*', r"\1", html)


def check_snapshot(browser, url: str, html: str, width: int) -> list[str]:
    """Serve `html` again at `url` (the document only) in a fresh page of `width` px and measure it."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    try:
        page = context.new_page()
        served = {"done": False}

        def serve(route):
            # Only the document itself comes from the snapshot; a later navigation is not followed.
            if served["done"] or route.request.resource_type != "document":
                return route.continue_()
            served["done"] = True
            return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

        page.route("**/*", serve)
        page.goto(url, wait_until="load")
        page.evaluate("document.fonts.ready.then(() => true)")
        if shots := os.environ.get("CHOEUR_LAYOUT_SHOTS"):
            # To look at what was measured: CHOEUR_LAYOUT_SHOTS=/tmp/shots pytest tests/portal/…_browser.py
            name = re.sub(r"[^a-z0-9]+", "-", url.split("//", 1)[-1].split("/", 1)[-1].lower()).strip("-") or "accueil"
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(Path(shots) / f"{name}-{hashlib.sha1(html.encode()).hexdigest()[:6]}-{width}.png"),
                full_page=True,
            )
        return check_page(page)
    finally:
        context.close()


def check_page(page) -> list[str]:
    """The layout problems of the page as it is now, at its current width."""
    return page.evaluate(CHECK_JS)


def assert_layout(page, widths=WIDTHS) -> None:
    """Checks the page as it is now at each width, then puts the first width back."""
    original = page.viewport_size
    problems = []
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": original["height"] if original else 900})
            problems += [f"{page.url} à {width} px : {p}" for p in check_page(page)]
    finally:
        if original:
            page.set_viewport_size(original)
    assert not problems, "Mise en page :\n" + "\n".join(problems)
