import pytest

from tests.directory.factories import ServiceFactory, StructureFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_live_search_then_detail(page):
    hopital = StructureFactory(hopital=True, raison_sociale="Centre hospitalier Émile-Roux", ville="Prévaux")
    ServiceFactory(structure=hopital, code="PHARMACIE", libelle="Pharmacie centrale")
    StructureFactory(public=True, raison_sociale="Commune de Valfleurie")

    page.goto("/annuaire/")
    page.get_by_label("Nom de la structure").press_sequentially("emile", delay=30)
    # No click on « Rechercher »: htmx runs the search while typing.
    link = page.get_by_role("link", name="Centre hospitalier Émile-Roux")
    link.wait_for()
    assert "q=emile" in page.url
    assert page.get_by_text("Commune de Valfleurie").count() == 0

    link.click()
    page.get_by_role("heading", name="Centre hospitalier Émile-Roux").wait_for()
    assert page.get_by_text("Le numéro d'engagement juridique est obligatoire.").is_visible()
    assert page.get_by_role("cell", name="PHARMACIE", exact=True).is_visible()


def test_search_without_javascript(browser, live_server):
    StructureFactory(public=True, raison_sociale="Commune de Valfleurie")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/annuaire/")
        page.get_by_label("Nom de la structure").fill("valfleurie")
        page.get_by_role("button", name="Rechercher").click()
        page.get_by_role("link", name="Commune de Valfleurie").wait_for()
    finally:
        context.close()
