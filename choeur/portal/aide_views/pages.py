"""The « Aide » pages: Markdown files next to this module, rendered to DSFR markup, and a search over them.

Pages are version-controlled text (pages/<slug>.md, a small front matter of `key: value` lines between `---`).
Placeholders are filled from the code so that facts the platform applies are never retyped: `{{cadres}}` (the
cadre table, cadres.CADRE_HELP) and `{{circuit:<slug>}}` (diagrams.circuit_svg, from the transition table).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

import markdown

from choeur.invoices.enums import Cadre
from choeur.invoices.enums import InvoiceStatus as S
from choeur.portal.aide_views import diagrams
from choeur.portal.aide_views.cadres import CADRE_HELP
from choeur.portal.aide_views.statuses import (
    OTHER_STATUS_HELP,
    STATUS_HELP,
    next_actors,
    reached_statuses,
    unreached_statuses,
)

PAGES_DIR = Path(__file__).parent / "pages"
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_PLACEHOLDER = re.compile(r"<p>\{\{(cadres|statuts|statuts_hors_circuit|champs|etats:[a-z]+|circuit:[a-z_]+)\}\}</p>")


@dataclass(frozen=True)
class HelpPage:
    slug: str
    title: str
    summary: str
    order: int
    html: str
    toc: list
    text: str


def _cadres_table() -> str:
    rows = "".join(
        f'<tr id="cadre-{c.code.lower()}"><th scope="row">{escape(c.code)}</th><td>{escape(h.what)}</td>'
        f"<td>{escape(h.deposited_by)}</td><td>{escape(h.next_actor)}</td><td>{escape(h.attach)}</td></tr>"
        for c, h in ((Cadre(k), v) for k, v in CADRE_HELP.items())
    )
    return (
        '<div class="fr-table"><table><caption>Les cadres de facturation</caption><thead><tr><th scope="col">Cadre'
        '</th><th scope="col">Pièce</th><th scope="col">Déposée par</th><th scope="col">Qui agit ensuite</th>'
        f'<th scope="col">À joindre</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )


def _statuses_table() -> str:
    rows = []
    for status in reached_statuses():
        meaning, advice = STATUS_HELP[status]
        actors = ", ".join(next_actors(status)) or "Personne : c'est une fin de circuit."
        rows.append(
            f'<tr id="statut-{status.lower()}"><th scope="row">{escape(S(status).label)}</th>'
            f"<td>{escape(meaning)}</td><td>{escape(actors)}</td><td>{escape(advice)}</td></tr>"
        )
    return (
        '<div class="fr-table"><table><caption>Les statuts des circuits</caption><thead><tr><th scope="col">Statut'
        '</th><th scope="col">Ce qu\'il signifie</th><th scope="col">Qui peut agir</th><th scope="col">Que faire'
        f"</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _unreached_table() -> str:
    rows = "".join(
        f'<tr id="statut-{status.lower()}"><th scope="row">{escape(S(status).label)}</th>'
        f"<td>{escape(STATUS_HELP[status][0])}</td><td>{escape(STATUS_HELP[status][1])}</td></tr>"
        for status in unreached_statuses()
    )
    return (
        '<div class="fr-table"><table><caption>Statuts reçus d\'autres plateformes</caption><thead><tr>'
        '<th scope="col">Statut</th><th scope="col">Ce qu\'il signifie</th><th scope="col">Que faire</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></div>"
    )


def _states_table(kind: str) -> str:
    table = OTHER_STATUS_HELP[kind]
    rows = "".join(
        f'<tr id="{table.prefix}-{code.lower()}"><th scope="row">{escape(table.enum(code).label)}</th>'
        f"<td>{escape(meaning)}</td><td>{escape(advice)}</td></tr>"
        for code, (meaning, advice) in table.entries.items()
    )
    return (
        f'<div class="fr-table"><table><caption>{escape(table.title)}</caption><thead><tr><th scope="col">État</th>'
        f'<th scope="col">Ce qu\'il signifie</th><th scope="col">Que faire</th></tr></thead><tbody>{rows}</tbody>'
        "</table></div>"
    )


def _fields_sections() -> str:
    """Every field of the portal's forms with its explanation (contextual.FIELD_HELP), one table per family."""
    from choeur.portal.aide_views import contextual

    parts = []
    for namespace, title in contextual.FORM_NAMESPACES.values():
        rows = []
        for key, entry in contextual.FIELD_HELP[namespace].items():
            label = contextual.field_label(namespace, key)
            see = ""
            if entry.see:
                page, _, anchor = entry.see.partition("#")
                see = f' <a href="../{escape(page)}/#{escape(anchor)}">En savoir plus</a>'
            rows.append(
                f'<tr id="{contextual.field_anchor(namespace, key)}"><th scope="row">{escape(label)}</th>'
                f"<td>{escape(entry.text)}{see}</td></tr>"
            )
        parts.append(
            f'<h2 id="champs-{namespace}">{escape(title)}</h2><div class="fr-table"><table><caption>'
            f'{escape(title)} : les champs</caption><thead><tr><th scope="col">Champ</th><th scope="col">'
            f"Ce qu'il faut y mettre</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return "".join(parts)


def _fill(match: re.Match) -> str:
    key = match.group(1)
    if key == "cadres":
        return _cadres_table()
    if key == "statuts":
        return _statuses_table()
    if key == "statuts_hors_circuit":
        return _unreached_table()
    if key == "champs":
        return _fields_sections()
    if key.startswith("etats:"):
        return _states_table(key.split(":", 1)[1])
    circuit = diagrams.CIRCUITS_BY_SLUG[key.split(":", 1)[1]]
    svg = diagrams.circuit_svg(circuit)
    # On a phone the diagram keeps a readable size and scrolls sideways inside its own (focusable) region.
    return (
        f'<figure class="fr-content-media choeur-circuit-figure"><div class="choeur-circuit-scroll" tabindex="0" '
        f'role="region" aria-label="{escape(circuit.title)}">'
        f"{svg}</div></figure>"
    )


def _dsfr(html: str) -> str:
    # DSFR styles tables only inside .fr-table; the Markdown ones get the wrapper.
    html = re.sub(r"<table>", '<div class="fr-table"><table>', html)
    return re.sub(r"</table>(?!</div>)", "</table></div>", html)


def _load(path: Path) -> HelpPage:
    source = path.read_text(encoding="utf-8")
    meta = {}
    front = _FRONT.match(source)
    if front:
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
        source = source[front.end() :]
    md = markdown.Markdown(extensions=["tables", "toc", "attr_list", "fenced_code"], output_format="html")
    html = _dsfr(md.convert(source))
    html = _PLACEHOLDER.sub(_fill, html)
    text = re.sub(r"<[^>]+>", " ", html)
    return HelpPage(
        slug=path.stem,
        title=meta.get("title", path.stem),
        summary=meta.get("summary", ""),
        order=int(meta.get("order", 50)),
        html=html,
        toc=md.toc_tokens,
        text=re.sub(r"\s+", " ", text),
    )


@cache
def help_pages() -> dict[str, HelpPage]:
    pages = [_load(p) for p in PAGES_DIR.glob("*.md")]
    return {p.slug: p for p in sorted(pages, key=lambda p: (p.order, p.slug))}


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))


def help_search(query: str, *, limit: int = 20) -> list[tuple[HelpPage, str]]:
    """Pages holding every word of `query` (accents and case ignored), best first, each with an excerpt."""
    words = [w for w in _fold(query).split() if len(w) > 1]
    if not words:
        return []
    results = []
    for page in help_pages().values():
        folded = _fold(page.text)
        title = _fold(page.title)
        if not all(w in folded or w in title for w in words):
            continue
        score = sum(folded.count(w) + 10 * title.count(w) for w in words)
        at = folded.find(words[0])
        start = max(0, at - 80)
        excerpt = ("… " if start else "") + page.text[start : at + 160].strip() + " …"
        results.append((score, page, excerpt))
    results.sort(key=lambda r: -r[0])
    return [(p, e) for _, p, e in results[:limit]]
