"""SVG diagrams of the circuits, drawn from the transition table the code applies (invoices.workflow).

Each circuit is a set of statuses; every row of `workflow.TRANSITIONS` whose source and target both belong
to it becomes an arrow. Nothing is written by hand, so a row added, removed or redirected in the table
changes the picture: the help cannot drift from the platform. Each arrow carries `data-transition`,
`data-source` and `data-target` so that a test can read the drawing back and compare it with the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from choeur.invoices import workflow
from choeur.invoices.enums import InvoiceStatus as S


@dataclass(frozen=True)
class Circuit:
    slug: str
    title: str
    start: str
    statuses: tuple[str, ...]


CIRCUITS: tuple[Circuit, ...] = (
    Circuit(
        "standard",
        "Circuit standard (A1, A2…)",
        S.BROUILLON,
        (S.BROUILLON, S.DEPOSEE, S.MISE_A_DISPOSITION, S.A_RECYCLER, S.SUSPENDUE, S.COMPLETEE, S.REJETEE,
         S.SERVICE_FAIT, S.MANDATEE, S.MISE_A_DISPOSITION_COMPTABLE, S.COMPTABILISEE, S.MISE_EN_PAIEMENT),
    ),
    Circuit(
        "valideur",
        "Circuit avec valideur (cotraitance A12, sous-traitance A9)",
        S.DEPOSEE,
        (S.DEPOSEE, S.A_VALIDER_1, S.VALIDEE_1, S.REFUSEE_1, S.ERREUR_FOURNISSEUR_SUR_VALIDEUR,
         S.ABSENCE_VALIDATION_1_HORS_DELAI, S.A_VALIDER_2, S.VALIDEE_2, S.REFUSEE_2,
         S.ERREUR_COTRAITANT_SUR_VALIDEUR, S.ABSENCE_VALIDATION_2_HORS_DELAI, S.MISE_A_DISPOSITION),
    ),
    Circuit(
        "travaux",
        "Circuit des travaux (A4 → A15 → A19)",
        S.DEPOSEE,
        (S.DEPOSEE, S.MISE_A_DISPOSITION_MOE, S.PRISE_EN_COMPTE_MOE, S.REFUSEE_MOE, S.TRANSMISE_MOA,
         S.MISE_A_DISPOSITION_MOA, S.PRISE_EN_COMPTE_MOA, S.REFUSEE_MOA, S.A_ASSOCIER_FOURNISSEUR, S.ASSOCIEE,
         S.REMPLACEE_PAR_A22, S.MISE_A_DISPOSITION),
    ),
)  # fmt: skip

CIRCUITS_BY_SLUG = {c.slug: c for c in CIRCUITS}


def circuit_edges(circuit: Circuit) -> list[tuple[str, str, str]]:
    """(transition, source, target) for every table row inside the circuit, in table order."""
    members = set(circuit.statuses)
    edges = []
    for t in workflow.TRANSITIONS:
        if t.target not in members:
            continue
        for source in sorted(t.sources):
            if source in members and source != t.target:
                edges.append((t.name, source, t.target))
    return edges


def _layers(circuit: Circuit, edges) -> dict[str, int]:
    """Longest-path-free layering: breadth-first distance from the start; unreachable statuses go last."""
    depth = {circuit.start: 0}
    frontier = [circuit.start]
    while frontier:
        nxt = []
        for status in frontier:
            for _, source, target in edges:
                if source == status and target not in depth:
                    depth[target] = depth[status] + 1
                    nxt.append(target)
        frontier = nxt
    last = max(depth.values(), default=0) + 1
    for status in circuit.statuses:
        depth.setdefault(status, last)
    return depth


BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 210, 46, 60, 28, 16


def _wrap(text: str, width: int = 28) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current][:3]


def circuit_svg(circuit: Circuit) -> str:
    """The circuit as an accessible SVG (role="img", title and description listing every step in words)."""
    edges = circuit_edges(circuit)
    depth = _layers(circuit, edges)
    columns: dict[int, list[str]] = {}
    for status in circuit.statuses:
        columns.setdefault(depth[status], []).append(status)
    pos = {}
    for col, statuses in sorted(columns.items()):
        for row, status in enumerate(statuses):
            pos[status] = (MARGIN + col * (BOX_W + GAP_X), MARGIN + row * (BOX_H + GAP_Y))
    width = MARGIN * 2 + (max(columns) + 1) * (BOX_W + GAP_X) - GAP_X
    height = MARGIN * 2 + max(len(v) for v in columns.values()) * (BOX_H + GAP_Y) - GAP_Y
    labels = {t.name: t.label for t in workflow.TRANSITIONS}
    desc = " ; ".join(f"{labels[n]} : de « {S(s).label} » à « {S(t).label} »" for n, s, t in edges)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="svg-{circuit.slug}-title svg-{circuit.slug}-desc" class="choeur-circuit" '
        f'data-circuit="{circuit.slug}">',
        f'<title id="svg-{circuit.slug}-title">{escape(circuit.title)}</title>',
        f'<desc id="svg-{circuit.slug}-desc">{escape(desc)}.</desc>',
        '<defs><marker id="arrow-' + circuit.slug + '" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#3a3a3a"/></marker></defs>',
    ]
    for name, source, target in edges:
        sx, sy = pos[source]
        tx, ty = pos[target]
        if tx > sx:
            x1, y1, x2, y2 = sx + BOX_W, sy + BOX_H / 2, tx, ty + BOX_H / 2
        elif tx < sx:
            x1, y1, x2, y2 = sx, sy + BOX_H / 2, tx + BOX_W, ty + BOX_H / 2
        else:
            x1, y1, x2, y2 = (
                sx + BOX_W / 2,
                sy + (BOX_H if ty > sy else 0),
                tx + BOX_W / 2,
                ty + (0 if ty > sy else BOX_H),
            )
        # Returns (right to left) bend below the line so that they stay apart from the forward arrows.
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2 + (24 if tx < sx else 0)
        parts.append(
            f'<path d="M{x1:.0f},{y1:.0f} Q{mx:.0f},{my:.0f} {x2:.0f},{y2:.0f}" fill="none" stroke="#3a3a3a" '
            f'stroke-width="1.2" marker-end="url(#arrow-{circuit.slug})" data-transition="{name}" '
            f'data-source="{source}" data-target="{target}"><title>{escape(labels[name])}</title></path>'
        )
    for status in circuit.statuses:
        x, y = pos[status]
        lines = _wrap(S(status).label)
        parts.append(
            f'<g data-status="{status}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="#eef2ff" stroke="#000091"/>'
        )
        first = y + BOX_H / 2 - (len(lines) - 1) * 7 + 4
        for i, line in enumerate(lines):
            parts.append(
                f'<text x="{x + BOX_W / 2}" y="{first + i * 14:.0f}" font-size="12" text-anchor="middle" '
                f'fill="#161616">{escape(line)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
