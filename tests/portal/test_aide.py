"""The « Aide » section: pages rendered from Markdown, search, cadre chooser, and diagrams that follow the table."""

import pytest
from lxml import etree

from choeur.invoices import workflow
from choeur.invoices.enums import Cadre, InvoiceStatus
from choeur.portal.aide_views import diagrams
from choeur.portal.aide_views.cadres import CADRE_HELP, cadre_choose
from choeur.portal.aide_views.pages import help_pages, help_search

SVG = "{http://www.w3.org/2000/svg}"


def test_every_cadre_has_help():
    missing = [c.value for c in Cadre if c not in CADRE_HELP or not CADRE_HELP[c].what]
    assert missing == []


@pytest.mark.parametrize("circuit", diagrams.CIRCUITS, ids=lambda c: c.slug)
def test_circuit_diagram_follows_the_transition_table(circuit):
    """Read the drawn arrows back from the SVG; they must be exactly the table's rows inside the circuit."""
    svg = etree.fromstring(diagrams.circuit_svg(circuit).encode())
    drawn = {(p.get("data-transition"), p.get("data-source"), p.get("data-target")) for p in svg.iter(f"{SVG}path")
             if p.get("data-transition")}  # fmt: skip
    members = set(circuit.statuses)
    expected = {(t.name, s, t.target) for t in workflow.TRANSITIONS for s in t.sources
                if s in members and t.target in members and s != t.target}  # fmt: skip
    assert drawn == expected
    assert drawn, "un circuit sans flèche ne montre rien"
    boxes = {g.get("data-status") for g in svg.iter(f"{SVG}g")}
    assert boxes == members
    assert all(s in InvoiceStatus.values for s in members)
    # Each step is also said in words for screen readers.
    desc = svg.find(f"{SVG}desc").text
    assert all(workflow.TRANSITIONS_BY_NAME[name].label in desc for name, _, _ in drawn)


def test_a_row_added_to_the_table_appears_in_the_diagram(monkeypatch):
    extra = workflow.Transition("essai", frozenset({InvoiceStatus.SUSPENDUE}), InvoiceStatus.MISE_EN_PAIEMENT,
                                frozenset({"DESTINATAIRE"}), "Action d'essai")  # fmt: skip
    monkeypatch.setattr(workflow, "TRANSITIONS", (*workflow.TRANSITIONS, extra))
    svg = diagrams.circuit_svg(diagrams.CIRCUITS_BY_SLUG["standard"])
    assert 'data-transition="essai"' in svg


def test_every_circuit_status_is_reachable_from_its_start():
    for circuit in diagrams.CIRCUITS:
        edges = diagrams.circuit_edges(circuit)
        reached, frontier = {circuit.start}, [circuit.start]
        while frontier:
            frontier = [t for _, s, t in edges if s in frontier and t not in reached]
            reached |= set(frontier)
        assert reached == set(circuit.statuses), circuit.slug


@pytest.mark.parametrize(
    ("role", "works", "document", "expected"),
    [
        ("titulaire", False, "facture", Cadre.A1),
        ("sous_traitant", True, "decompte_mensuel", Cadre.A10),
        ("sous_traitant", False, "facture", Cadre.A9),
        ("cotraitant", False, "facture", Cadre.A12),
        ("titulaire", True, "decompte_mensuel", Cadre.A4),
        ("moe", True, "decompte_mensuel", Cadre.A15),
        ("moa", True, "decompte_mensuel", Cadre.A19),
    ],
)
def test_cadre_chooser(role, works, document, expected):
    assert cadre_choose(role=role, works=works, document=document) == (expected, "")


def test_cadre_chooser_explains_an_impossible_situation():
    cadre, reason = cadre_choose(role="moe", works=False, document="facture")
    assert cadre is None and "marché de travaux" in reason


def test_pages_fill_their_placeholders_and_link_the_glossary():
    pages = help_pages()
    assert {"index", "facture-electronique", "architecture-formats", "cadres", "circuits", "glossaire"} <= set(pages)
    for page in pages.values():
        assert "{{" not in page.html, page.slug
    assert pages["circuits"].html.count("<svg") == len(diagrams.CIRCUITS)
    assert 'id="cadre-a9"' in pages["cadres"].html
    glossary_ids = {h["id"] for h in pages["glossaire"].toc[0]["children"]}
    for page in pages.values():
        for anchor in __import__("re").findall(r'href="\.\./glossaire/#([a-z-]+)"', page.html):
            assert anchor in glossary_ids, (page.slug, anchor)


def test_search_ignores_accents_and_case():
    slugs = [p.slug for p, _ in help_search("ECHEANCES")]
    assert "facture-electronique" in slugs
    assert help_search("mot-qui-n-existe-nulle-part") == []


@pytest.mark.django_db
def test_aide_views_render(client):
    response = client.get("/aide/")
    assert response.status_code == 200 and "Aide de Chœur" in response.text
    response = client.get("/aide/circuits/")
    assert response.status_code == 200 and response.text.count("<svg") >= 3
    response = client.get("/aide/rechercher/", {"q": "sous-traitant"})
    assert "Les cadres de facturation" in response.text
    response = client.get("/aide/rechercher/", {"q": "zzzz"})
    assert "Aucune page de l'aide" in response.text
    assert client.get("/aide/inconnue/").status_code == 404


@pytest.mark.django_db
def test_cadre_chooser_view(client):
    response = client.get("/aide/cadre/", {"role": "sous_traitant", "works": "on", "document": "decompte_mensuel"})
    assert "A10 — Projet de décompte mensuel (sous-traitant)" in response.text
    response = client.get("/aide/cadre/", {"works": "on"})
    assert "Choisissez votre rôle dans le marché." in response.text


def test_every_status_of_the_circuits_has_help():
    from choeur.portal.aide_views.statuses import STATUS_HELP, reached_statuses

    missing = [s for s in reached_statuses() if s not in STATUS_HELP or not all(STATUS_HELP[s])]
    assert missing == []
    html = help_pages()["statuts"].html
    assert all(f'id="statut-{s.lower()}"' in html for s in reached_statuses())
    # « Qui peut agir » comes from the table: a valideur acts on A_VALIDER_1, nobody after a rejection.
    assert "Valideur" in html.split('id="statut-a_valider_1"')[1].split("</tr>")[0]
    assert "fin de circuit" in html.split('id="statut-rejetee"')[1].split("</tr>")[0]
