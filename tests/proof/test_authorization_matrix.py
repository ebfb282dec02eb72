"""The authorization matrix, generated: every portal URL pattern (walked from the resolver, not listed by hand)
× every attacker role × GET and POST, against the objects of a structure the attacker does not belong to.

Another structure's object is never readable (no 200, never its private text) nor writable (its rows are the
same afterwards), and nothing answers a 500. The owners themselves get each object page (the URL is filled
right, so a 404 for attackers means something). The number of cells checked is printed for the closing note."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from choeur.portal.accounts_views.reauth import REAUTH_SESSION_KEY
from tests.proof.expectations import LOGIN, OBJECT, PORTAL
from tests.proof.world import ATTACKERS, MARKER, build_world

pytestmark = pytest.mark.django_db

# The two Ninja APIs are enumerated from their OpenAPI schemas (test_api_matrix.py); the admin below.
API_PREFIXES = ("api/v1/", "cpro/")
ADMIN_PUBLIC = {"admin:login", "admin:logout"}
REFUSALS = {302, 400, 401, 403, 404, 405}
# Whose object each key is, for the owners' control request.
OWNER_OF = {"dossier": "works", "marche": "works", "engagement": "buyer", "to_validate": "valideur"}
# Object URLs whose owner control does not apply, and why.
OWNER_CONTROL_EXEMPT = {
    "portal:annuaire_detail": "l'annuaire ne montre que les structures publiques : 404 pour tous",
    "portal:engagement_document": "aucun PDF n'est joint à l'engagement du monde",
    "portal:invoice_to_validate_document": "la facture à valider du monde n'a pas de document principal",
}


def url_patterns(resolver=None, prefix="", namespace=None):
    """(route, qualified name) of every URL pattern, walking included resolvers recursively."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith(API_PREFIXES):
                continue
            yield from url_patterns(pattern, route, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield route, name


def portal_routes():
    return [(route, name) for route, name in url_patterns() if not route.startswith("admin/")]


def test_every_url_has_an_expectation():
    unnamed = [route for route, name in portal_routes() if not name]
    missing = sorted({name for _, name in portal_routes() if name and name not in PORTAL})
    stale = sorted(set(PORTAL) - {name for _, name in portal_routes()})
    assert not unnamed, f"Motifs d'URL sans nom (la matrice ne peut pas les suivre) : {unnamed}"
    assert not missing, f"URL sans ligne dans tests/proof/expectations.py (ajoutez-la) : {missing}"
    assert not stale, f"Lignes d'expectations.py sans URL (retirez-les) : {stale}"


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
        session = client.session
        session[REAUTH_SESSION_KEY] = time.time()  # re-authenticated: the scope alone is tested
        session.save()
    return client


def _url(world, name, args):
    kwargs = {key: value[1:] if value.startswith("=") else world.pk(value) for key, value in args.items()}
    return reverse(name, kwargs=kwargs)


VOLATILE = ("updated_at", "last_login", "last_used_at")  # touched by the owners' own reads


def _snapshot(world):
    """Every foreign row as it is, and how many objects the foreign structures have of each kind."""
    from choeur.api.models import WebhookEndpoint
    from choeur.directory.models import BankAccount, Rattachement, Service, TechnicalAccount
    from choeur.invoices.models import Invoice, InvoiceTemplate
    from choeur.sollicitations.models import SollicitationMessage

    rows = {}
    for key, obj in world.objects.items():
        fresh = type(obj).objects.get(pk=obj.pk)
        rows[key] = {
            k: v for k, v in model_to_dict(fresh).items() if k not in ("updated_at", "last_login", "last_used_at")
        }
    s = world.objects["structure"]
    counts = {
        "invoices": Invoice.objects.filter(supplier=s).count(),
        "templates": InvoiceTemplate.objects.filter(supplier=s).count(),
        "services": Service.objects.filter(structure=s).count(),
        "banks": BankAccount.objects.filter(structure=s).count(),
        "rattachements": Rattachement.objects.filter(structure=s).count(),
        "accounts": TechnicalAccount.objects.filter(structure=s).count(),
        "webhooks": WebhookEndpoint.objects.filter(structure=s).count(),
        "messages": SollicitationMessage.objects.filter(sollicitation=world.objects["sollicitation"]).count(),
    }
    return rows, counts


def _judge(access, role, method, response, url) -> str | None:
    status = response.status_code
    body = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
    if status >= 500:
        return f"{status} (erreur serveur)"
    if MARKER in body:
        return f"{status} avec des données de l'autre structure"
    if access == OBJECT:
        if status not in REFUSALS:
            return f"{status} au lieu d'un refus"
        if status == 302 and urlsplit(response["Location"]).path == url:
            return "302 vers l'objet lui-même"
    if access == LOGIN and role == "anonymous":
        if status != 302 or "/connexion/" not in response.get("Location", ""):
            return f"{status} au lieu du renvoi vers la connexion"
    return None


def test_portal_matrix(capsys):
    world = build_world()
    before = _snapshot(world)
    cells, wrong = 0, []
    clients = {role: _client(world.users[role]) for role in ATTACKERS}
    for _route, name in portal_routes():
        access, args = PORTAL[name]
        url = _url(world, name, args)
        for role, client in clients.items():
            for method in ("get", "post"):
                if name == "portal:logout":  # signing out must not sign the next cells out
                    client = _client(world.users[role])
                response = getattr(client, method)(url)
                cells += 1
                verdict = _judge(access, role, method, response, url)
                if verdict:
                    wrong.append(f"{method.upper()} {url} ({name}) en {role} : {verdict}")
    assert not wrong, "\n".join(wrong)
    assert _snapshot(world) == before, "une requête d'un attaquant a modifié les données d'une autre structure"
    with capsys.disabled():
        print(f"\nMatrice d'autorisation (portail) : {cells} cellules vérifiées")


def test_owners_reach_their_objects():
    """The control: each object URL, requested by its owner, is not a 404 — the matrix fills URLs right."""
    world = build_world()
    owners = {key: _client(user) for key, user in world.owners.items()}
    wrong = []
    for _route, name in portal_routes():
        access, args = PORTAL[name]
        if access != OBJECT or name in OWNER_CONTROL_EXEMPT:
            continue
        first = next(v for v in args.values() if not v.startswith("="))
        url = _url(world, name, args)
        response = owners[OWNER_OF.get(first, "supplier")].get(url)
        if response.status_code in (404, 500):
            wrong.append(f"{url} ({name}) : {response.status_code} pour son propriétaire")
    assert not wrong, "\n".join(wrong)


def test_admin_is_staff_only(capsys):
    """Every admin URL (walked too) sends every non-staff role to the admin login."""
    world = build_world()
    cells, wrong = 0, []
    for role in ATTACKERS:
        client = _client(world.users[role])
        for route, name in url_patterns():
            if not route.startswith("admin/") or "<" in route or "(?P" in route or name in ADMIN_PUBLIC:
                continue
            response = client.get("/" + route)
            cells += 1
            if response.status_code != 302 or "/admin/login/" not in response.get("Location", ""):
                wrong.append(f"/{route} en {role} : {response.status_code}")
    assert cells > 50
    assert not wrong, "\n".join(wrong)
    with capsys.disabled():
        print(f"\nMatrice d'autorisation (admin) : {cells} cellules vérifiées")
