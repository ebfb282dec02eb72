"""The « Aide » section in Chromium: the chooser completed with the keyboard, the search, the diagrams on screen."""

import os

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CHOEUR_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_cadre_chooser_with_the_keyboard_only(page):
    page.goto("/aide/cadre/")
    page.get_by_label("Sous-traitant payé directement").focus()
    page.keyboard.press("Space")
    page.get_by_label("Il s'agit d'un marché de travaux").focus()
    page.keyboard.press("Space")
    page.get_by_label("Un projet de décompte mensuel / un état d'acompte").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_selector("#resultat")
    text = page.locator("#resultat").inner_text()
    assert "A10 — Projet de décompte mensuel (sous-traitant)" in text
    assert "Le titulaire valide" in text
    _shot(page, "aide-cadre-1280")


def test_search_and_circuits(page):
    page.goto("/aide/")
    page.get_by_role("link", name="Aide", exact=True).first.wait_for()
    page.fill("#aide-q", "maîtrise d'œuvre")
    page.keyboard.press("Enter")
    page.wait_for_url("**/aide/rechercher/**")
    page.get_by_role("link", name="Les circuits de traitement").first.click()
    page.wait_for_url("**/aide/circuits/")
    assert page.locator("svg.choeur-circuit").count() == 3
    box = page.locator("svg.choeur-circuit").first.bounding_box()
    assert box["width"] <= page.viewport_size["width"]
    _shot(page, "aide-circuits-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/aide/circuits/")
    # The diagram keeps a readable width and scrolls inside its region, the page itself does not scroll sideways.
    assert page.locator(".choeur-circuit-scroll").first.bounding_box()["width"] <= 375
    assert page.locator("svg.choeur-circuit").first.bounding_box()["width"] >= 700
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(page, "aide-circuits-375")
