"""Contextual help: every field of the invoice, structure and works forms, every status of every state machine
and every cadre has a short explanation and a help section that exists (aide_views/contextual.py)."""

import re

import pytest
from django.template import Context, Template

from choeur.flows.enums import FlowState
from choeur.invoices.enums import Cadre, InvoiceStatus
from choeur.portal.aide_views import contextual
from choeur.portal.aide_views.pages import help_pages
from choeur.portal.invoices_views.forms import LineForm
from choeur.portal.structures_views.forms import ServiceForm
from choeur.sollicitations.enums import SollicitationStatus
from choeur.works.enums import DossierStatus

STATE_ENUMS = {
    "invoice": InvoiceStatus,
    "dossier": DossierStatus,
    "flow": FlowState,
    "sollicitation": SollicitationStatus,
}


def _ids(slug: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', help_pages()[slug].html))


def test_the_helped_forms_are_the_invoice_structure_and_works_forms():
    names = {(k.__module__.split(".")[2], k.__name__) for k in contextual.helped_forms()}
    assert {("invoices_views", "ReferencesForm"), ("invoices_views", "UploadForm"), ("invoices_views", "LineForm"),
            ("structures_views", "StructureEditForm"), ("structures_views", "ServiceForm"),
            ("works_views", "MarcheForm"), ("works_views", "PieceForm")} <= names  # fmt: skip


def test_every_form_field_has_help():
    missing = [
        f"{k.__module__}.{k.__name__}.{name}"
        for k in contextual.helped_forms()
        for name in contextual.visible_fields(k)
        if contextual.field_help(k.__new__(k), name) is None
    ]
    assert missing == [], "champs sans aide (aide_views/contextual.py, FIELD_HELP) : " + ", ".join(missing)


def test_every_registry_entry_names_a_real_field():
    """A renamed field leaves its entry behind: the registry says nothing it cannot show."""
    forms_by_ns = {}
    for k in contextual.helped_forms():
        forms_by_ns.setdefault(contextual.FORM_NAMESPACES[k.__module__][0], []).append(k)
    stale = []
    for namespace, entries in contextual.FIELD_HELP.items():
        for key in entries:
            form_name, _, name = key.rpartition(".")
            declaring = [
                k for k in forms_by_ns[namespace] if not form_name or form_name in {c.__name__ for c in k.__mro__}
            ]
            if not any(name in contextual.visible_fields(k) for k in declaring):
                stale.append(f"{namespace}:{key}")
    assert stale == []


@pytest.mark.parametrize("kind", STATE_ENUMS)
def test_every_status_code_has_help(kind):
    missing = [code for code in STATE_ENUMS[kind].values if contextual.status_help(kind, code) is None]
    assert missing == [], f"{kind} : statuts sans aide (aide_views/statuses.py) : {missing}"


def test_every_cadre_has_contextual_help():
    assert [c for c in Cadre.values if contextual.cadre_help(c) is None] == []


def test_every_help_link_leads_to_an_existing_section():
    helps = [contextual.status_help(kind, code) for kind, enum in STATE_ENUMS.items() for code in enum.values]
    helps += [contextual.cadre_help(c) for c in Cadre.values]
    for k in contextual.helped_forms():
        helps += [contextual.field_help(k.__new__(k), n) for n in contextual.visible_fields(k)]
    broken = {f"{h.page}#{h.anchor}" for h in helps if h.page not in help_pages() or h.anchor not in _ids(h.page)}
    assert sorted(broken) == []


def test_a_field_renders_its_question_mark_with_the_short_text_and_the_section_link():
    html = ServiceForm()["engagement_obligatoire"].as_field_group()
    assert 'class="fr-checkbox-group' in html  # still the DSFR field
    assert '<details class="choeur-help">' in html
    assert "Aide : Numéro d&#x27;engagement juridique obligatoire pour ce service" in html
    assert "devront porter un numéro d&#x27;engagement juridique" in html
    assert 'href="/aide/glossaire/#ej"' in html
    # A field without a section of its own links to its entry on the « champs » page.
    libelle = ServiceForm()["libelle"].as_field_group()
    assert 'href="/aide/champs/#champ-structure-serviceform-libelle"' in libelle
    assert 'class="fr-input-group' in libelle


def test_hand_drawn_fields_and_badges_use_the_template_tags():
    tpl = Template(
        '{% load aide_help %}{% field_help form.quantity %}|{% status_help "flow" "IN_REJETE" %}|{% cadre_help "A9" %}'
    )
    html = tpl.render(Context({"form": LineForm()}))
    assert "La quantité facturée" in html
    assert 'href="/aide/statuts/#flux-in_rejete"' in html and "aucune facture n&#x27;est intégrée" in html
    assert 'href="/aide/cadres/#cadre-a9"' in html


@pytest.mark.django_db
def test_the_fields_page_lists_every_entry(client):
    response = client.get("/aide/champs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="champ-travaux-piececform-cadre"' not in html
    assert 'id="champ-travaux-pieceform-cadre"' in html and "Pièce à déposer" in html
    assert 'id="champs-structure"' in html
