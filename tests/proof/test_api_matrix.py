"""The API authorization matrix, generated from the OpenAPI schemas of /api/v1/ and /cpro/: every operation ×
anonymous, an API client of another structure, and (the control) the owner's own client.

Path ids and every `id…` field of a request body are filled with the foreign world's objects. Anonymous calls
are refused; the other structure's client never gets a 2xx on an object path, never reads the marker of the
foreign data, never a 500; the owner does read its own data through the same requests."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from choeur.api.cpro import cpro_api
from choeur.api.native import native_api
from tests.api.native_client import ALL_SCOPES
from tests.proof.api_expectations import API, OBJECT, PUBLIC
from tests.proof.world import MARKER, build_world

pytestmark = pytest.mark.django_db

APIS = (("/api/v1", native_api), ("/cpro", cpro_api))
PATH_OBJECTS = {
    "structure_id": "structure",
    "invoice_id": "invoice",
    "engagement_id": "engagement",
    "flow_id": "flow",
    "webhook_id": "webhook",
    "delivery_id": "delivery",
    "sollicitation_id": "sollicitation",
}
# Which foreign object an `id…` body field names, by the first word of its name that matches.
BODY_OBJECTS = (
    ("piecejointe", "attachment"),
    ("fichier", "attachment"),
    ("dossier", "dossier"),
    ("facture", "invoice"),
    ("demandepaiement", "invoice"),
    ("flux", "flow"),
    ("service", "service"),
    ("engagement", "engagement"),
    ("sollicitation", "sollicitation"),
    ("utilisateur", "member"),
    ("destinataire", "buyer"),
    ("structure", "structure"),
    ("fournisseur", "structure"),
)


def operations():
    for prefix, api in APIS:
        schema = api.get_openapi_schema(path_prefix="")
        for path, ops in schema["paths"].items():
            for method, op in ops.items():
                yield method.upper(), prefix + path, op, schema


def test_every_operation_has_an_expectation():
    seen = {f"{method} {path}" for method, path, _, _ in operations()}
    assert not sorted(seen - set(API)), f"Opérations sans ligne dans api_expectations.py : {sorted(seen - set(API))}"
    assert not sorted(set(API) - seen), f"Lignes sans opération (retirez-les) : {sorted(set(API) - seen)}"


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in node:
        node = next((n for n in node["anyOf"] if n.get("type") != "null"), node["anyOf"][0])
        return _resolve(schema, node)
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(schema, node["allOf"][0])
    return node


def _value(schema, name, node, world, depth=0):
    node = _resolve(schema, node)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return _body(schema, node, world, depth + 1)
    if kind == "integer":
        lowered = name.lower()
        if lowered.startswith("id"):
            key = next((key for word, key in BODY_OBJECTS if word in lowered), "invoice")
            return world.pk(key)
        return 1
    if kind == "array":
        return [_value(schema, name, node.get("items", {}), world, depth + 1)] if depth < 4 else []
    if kind == "boolean":
        return False
    if kind == "number":
        return 1
    if "enum" in node:
        return node["enum"][0]
    return "A"


def _body(schema, node, world, depth=0):
    node = _resolve(schema, node)
    if depth > 5:
        return {}
    return {name: _value(schema, name, prop, world, depth) for name, prop in node.get("properties", {}).items()}


def _request(client, method, path, op, schema, world, headers):
    url = path
    for name, key in PATH_OBJECTS.items():
        url = url.replace("{" + name + "}", str(world.pk(key)))
    url = url.replace("{code}", "inconnu")
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content and method in ("POST", "PATCH", "PUT"):
        body = _body(schema, content["application/json"]["schema"], world)
        return client.generic(method, url, json.dumps(body), content_type="application/json", headers=headers)
    return client.generic(method, url, headers=headers)


def _headers(prefix, raccordement, token):
    if raccordement is None:
        return {}
    if prefix == "/cpro":
        return raccordement.headers()
    return {"Authorization": f"Bearer {token}"}


def _changes(before, after):
    """What differs between two snapshots, field by field."""
    rows_before, counts_before = before
    rows_after, counts_after = after
    changed = [
        f"{key}.{field}: {rows_before[key].get(field)!r} → {rows_after[key].get(field)!r}"
        for key in rows_before
        for field in rows_before[key]
        if rows_before[key].get(field) != rows_after[key].get(field)
    ]
    changed += [
        f"{k}: {counts_before[k]} → {counts_after[k]}" for k in counts_before if counts_before[k] != counts_after[k]
    ]
    return changed


def _reads(method, path):
    return method == "GET" or any(word in path for word in READ_WORDS)


READ_WORDS = ("/consulter", "/rechercher", "/recuperer", "/lister", "/telecharger")


def test_api_matrix(capsys):
    from tests.api.conftest import issue_token
    from tests.proof.test_authorization_matrix import _snapshot

    world = build_world()
    before = _snapshot(world)
    tokens = {
        side: issue_token(world.raccordements[side].client, token=f"jeton-natif-{side}", scope=ALL_SCOPES)
        for side in ("foreign", "attacker")
    }
    client = Client(raise_request_exception=False)
    cells, wrong, owner_reads = 0, [], 0
    for method, path, op, schema in operations():
        access = API[f"{method} {path}"]
        prefix = "/cpro" if path.startswith("/cpro") else "/api/v1"
        for role in ("anonymous", "attacker", "foreign"):
            if role == "foreign" and not _reads(method, path):
                continue  # the owner's control only reads: its own writes would change the world under the matrix
            raccordement = None if role == "anonymous" else world.raccordements[role]
            response = _request(
                client, method, path, op, schema, world, _headers(prefix, raccordement, tokens.get(role))
            )
            status = response.status_code
            body = b"" if getattr(response, "streaming", False) else response.content
            cells += 1
            where = f"{method} {path} en {role}"
            if status >= 500:
                wrong.append(f"{where} : {status} (erreur serveur)")
            elif role == "foreign":
                owner_reads += MARKER.encode() in body
                if access == OBJECT and method == "GET" and status != 200:
                    wrong.append(f"{where} : {status} pour son propriétaire (le chemin est-il bien rempli ?)")
            elif MARKER.encode() in body:
                wrong.append(f"{where} : {status} avec des données de l'autre structure")
            elif role == "anonymous" and access != PUBLIC and status not in (401, 403):
                wrong.append(f"{where} : {status} au lieu de 401")
            elif role == "attacker" and access == OBJECT and 200 <= status < 300:
                wrong.append(f"{where} : {status} sur l'objet d'une autre structure")
    assert not wrong, "\n".join(wrong)
    assert _changes(before, _snapshot(world)) == [], "un appel a modifié les données d'une autre structure"
    # The control: the owner reads its marked data through many of the very same requests.
    assert owner_reads >= 10, f"le propriétaire ne lit ses données que par {owner_reads} opérations"
    with capsys.disabled():
        print(f"\nMatrice d'autorisation (API) : {cells} cellules vérifiées, {owner_reads} lectures du propriétaire")
