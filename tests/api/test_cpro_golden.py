"""Chorus Pro compatibility suite: every /cpro/ operation is replayed from a golden request and compared with
its golden answer (HTTP status and JSON body).

Golden files live in tests/api/golden/<service>/<operation>[--<variant>].{request,response}.json. Requests
name objects of the test world as "<kind:name>" (replaced by their ids); answers have ids turned back into
those names, so a golden answer also checks *which* object came back. Dates are real: time is frozen.

A request may name a `"setup": "module:function"` called with the world before it is sent (invoices, flows…
for the factures operations); the function may return the raccordement to call with (another structure's
credentials) and may register in `world.strings` generated values (numéro de flux…) to show as names.
Base64 files in answers (`fichierCR`, `fichierResultat`) are shown by their kind (`<base64:pdf>`).

`CHOEUR_UPDATE_GOLDEN=1 pytest tests/api/test_cpro_golden.py` rewrites the answers (review the diff).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import os
import re
from pathlib import Path

import pytest

from choeur.api.cpro import cpro_api

GOLDEN = Path(__file__).parent / "golden"
REQUESTS = sorted(GOLDEN.glob("*/*.request.json"))
UPDATE = os.environ.get("CHOEUR_UPDATE_GOLDEN") == "1"

# Response keys holding ids of the test world, and the kind of object each designates.
ID_KEYS = {
    "idStructureCPP": "structure",
    "idStructure": "structure",
    "idDestinataireCPP": "structure",
    "idService": "service",
    "idServicesCPP": "service",
    "idCoordonneeBancaire": "bank",
    "idCoordonneesBancaires": "bank",
    "adresseFournisseurId": "structure",
    "adresseDestinataireId": "structure",
    "idEspaceFo": "espace",
    "idRattachement": "rattachement",
    "idRattachementStructure": "account",
    "idUtilisateur": "user",
    "identifiantFactureCPP": "invoice",
    "idFacture": "invoice",
    "idDemandePaiement": "invoice",
    "idFournisseur": "structure",
    "idDestinataire": "structure",
    "idStructureFournisseur": "structure",
    "idStructureDestinataire": "structure",
    "idServiceExecutant": "service",
    "idServiceFournisseur": "service",
    "idServiceDestinataire": "service",
    "pieceJointeId": "piece",
    "pieceJointeStructureId": "structure",
    "pieceJointeUtilisateurId": "account",
    "idPieceJointePrincipale": "file",
    "histoStatutId": "status_change",
    "evenementId": "status_change",
    "histoActionId": "event",
    "derniereActionId": "status_change",
    "idEngagementJuridique": "engagement",
    "structureReceptrice": "structure",
    "idTechniqueCategorie": "categorie",
}
# Fingerprints of generated documents (their bytes carry generation ids): checked for their form only.
HASH_KEYS = {"empreinteCertificatDepot"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Base64 documents of answers, compared by kind (their bytes carry generation dates and ids).
BINARY_KEYS = {"fichierCR", "fichierResultat", "pieceJointe"}
_MAGIC = ((b"%PDF", "pdf"), (b"PK\x03\x04", "zip"), (b"<?xml", "xml"))


def _binary_kind(value: str) -> str:
    try:
        content = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "<base64 invalide>"
    kind = next((name for magic, name in _MAGIC if content.startswith(magic)), "binaire")
    return f"<base64:{kind}>"


PLACEHOLDER = re.compile(r"^<([a-z_]+):(.+)>$")


def resolve(value, world):
    """Replace "<kind:name>" placeholders of a golden request by the ids of the world."""
    if isinstance(value, dict):
        return {key: resolve(item, world) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, world) for item in value]
    if isinstance(value, str):
        match = PLACEHOLDER.match(value)
        if match:
            # A generated string (numéro de flux…) registered by a setup, else an object's id.
            by_name = {name: actual for actual, name in getattr(world, "strings", {}).items()}
            return by_name.get(value) or world.refs[f"{match[1]}:{match[2]}"]
    return value


def normalise(value, world, key: str | None = None):
    """Turn the ids of an answer back into "<kind:name>"; an id of nothing in the world stays visible."""
    if isinstance(value, dict):
        return {k: normalise(v, world, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(item, world, key) for item in value]
    if key in BINARY_KEYS and isinstance(value, str):
        return _binary_kind(value)
    if key in HASH_KEYS and isinstance(value, str):
        return "<sha256>" if _SHA256.match(value) else value
    if isinstance(value, str) and value in getattr(world, "strings", {}):
        return world.strings[value]
    kind = ID_KEYS.get(key or "")
    if kind and isinstance(value, int) and not isinstance(value, bool):
        for ref, pk in world.refs.items():
            if ref.startswith(f"{kind}:") and pk == value:
                return f"<{ref}>"
        return f"<{kind}:? {value}>"
    return value


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.request.json')}"


@pytest.mark.parametrize("request_file", REQUESTS, ids=_case_id)
def test_golden(request_file: Path, client, world):
    spec = json.loads(request_file.read_text())
    raccordement = world.fournisseur
    if spec.get("setup"):
        module_name, _, function_name = spec["setup"].partition(":")
        raccordement = getattr(importlib.import_module(module_name), function_name)(world) or raccordement
    headers = raccordement.headers()
    if spec["method"] == "GET":
        response = client.get(spec["path"], headers=headers)
    else:
        response = client.post(
            spec["path"],
            data=json.dumps(resolve(spec.get("body"), world)),
            content_type="application/json;charset=utf-8",
            headers=headers,
        )
    assert response["Content-Type"].startswith("application/json")
    # "created": {"<answer key>": "<kind:name>"} names what the request itself created (an id, a number).
    for answer_key, ref in spec.get("created", {}).items():
        value = response.json().get(answer_key)
        if isinstance(value, str):
            world.strings = {**getattr(world, "strings", {}), value: f"<{ref}>"}
        elif value is not None:
            world.refs[ref] = value
    actual = {"status": response.status_code, "body": normalise(response.json(), world)}
    response_file = request_file.with_name(request_file.name.replace(".request.json", ".response.json"))
    if UPDATE:
        response_file.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n")
    assert response_file.exists(), f"Réponse de référence absente : {response_file} (CHOEUR_UPDATE_GOLDEN=1)"
    expected = json.loads(response_file.read_text())
    assert actual == expected


def test_every_operation_has_a_golden_pair():
    """An operation added without its golden pair fails here: the compatibility suite stays complete."""
    schema = cpro_api.get_openapi_schema(path_prefix="/cpro/")
    operations = {(method.upper(), path) for path, methods in schema["paths"].items() for method in methods}
    covered = set()
    for request_file in REQUESTS:
        spec = json.loads(request_file.read_text())
        covered.add((spec["method"], spec["path"]))
        response_file = request_file.with_name(request_file.name.replace(".request.json", ".response.json"))
        assert response_file.exists(), f"{response_file} manquant"
    assert operations - covered == set()
    assert covered - operations == set(), "Une requête de référence vise une opération qui n'existe pas"
