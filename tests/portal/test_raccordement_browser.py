import pytest
from django.conf import settings
from oauth2_provider.models import Application

from tests.directory.factories import RattachementFactory, StructureFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _log_in(page, client, user, live_server):
    # Reuse a server-side session instead of typing a password: the login form is tested elsewhere.
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_gestionnaire_creates_an_api_client_and_sees_the_secret_once(page, client, live_server):
    structure = StructureFactory(raison_sociale="Menuiseries Aubert & Cie")
    gp = RattachementFactory(structure=structure, gp=True).user
    _log_in(page, client, gp, live_server)

    page.goto("/raccordement/")
    page.get_by_role("heading", name="Raccordement API — Menuiseries Aubert & Cie").wait_for()
    page.get_by_role("link", name="Clients API (OAuth2)").click()
    page.get_by_label("Nom du client API").fill("Logiciel Facturo")
    page.get_by_role("button", name="Créer un client API").click()

    page.get_by_role("heading", name="Client API créé").wait_for()
    secret = page.locator("#secret").inner_text()
    client_id = page.locator("#client-id").inner_text()
    assert len(secret) > 30
    assert Application.objects.get(client_id=client_id).client_secret != secret

    page.get_by_role("link", name="J'ai copié le secret, revenir à la liste").click()
    page.get_by_role("cell", name="Logiciel Facturo", exact=True).wait_for()
    assert client_id in page.content()
    assert secret not in page.content()


def test_gestionnaire_creates_a_technical_account(page, client, live_server):
    structure = StructureFactory(raison_sociale="Peintures Delmas")
    gp = RattachementFactory(structure=structure, gp=True).user
    _log_in(page, client, gp, live_server)

    page.goto("/raccordement/")
    page.get_by_role("button", name="Créer un compte technique").click()
    page.get_by_role("heading", name="Compte technique créé").wait_for()
    login = page.locator("#login").inner_text()
    password = page.locator("#secret").inner_text()
    assert login.startswith("TECH_1_")

    page.get_by_role("link", name="J'ai copié le secret, revenir à la liste").click()
    page.locator("code", has_text=login).wait_for()
    assert password not in page.content()


def test_gestionnaire_sees_a_locked_technical_account_and_unlocks_it(page, client, live_server):
    from choeur.directory.raccordement import (
        TECHNICAL_ACCOUNT_BACKOFF,
        technical_account_create,
        technical_account_locked_for,
    )

    structure = StructureFactory(raison_sociale="Menuiseries Aubert & Cie")
    gs = RattachementFactory(structure=structure, gs=True).user
    issued = technical_account_create(structure=structure, by=gs)
    for _ in range(9):
        TECHNICAL_ACCOUNT_BACKOFF.fail(issued.account.login)
    _log_in(page, client, gs, live_server)

    page.goto(f"/raccordement/{structure.pk}/")
    page.get_by_text("9 mots de passe erronés").wait_for()
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"/tmp/raccordement-verrouille-{width}.png", full_page=True)
    page.get_by_role("button", name=f"Déverrouiller {issued.account.login}").click()

    page.get_by_text("est déverrouillé").wait_for()
    assert technical_account_locked_for(issued.account) is None
    assert page.get_by_text("mots de passe erronés").count() == 0
