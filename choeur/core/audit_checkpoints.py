"""Signed checkpoints of the audit chain, the pure part: canonical form, signature and chain checks.

No Django import: the platform (core.audit_signing) and the offline verifier (core.audit_offline) share it, so
that an export is judged exactly as the platform judges its own database.
"""

from __future__ import annotations

import base64
import hashlib
import json

GENESIS_DIGEST = "0" * 64


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checkpoint_digest(record: dict) -> str:
    """What the next checkpoint signs as its predecessor: the payload and its signature."""
    return hashlib.sha256(canonical(record["payload"]) + record["signature"].encode()).hexdigest()


def verify_signature(record: dict, public_pem: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    try:
        public = serialization.load_pem_public_key(public_pem.encode())
        public.verify(base64.b64decode(record["signature"]), canonical(record["payload"]))
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    return True


def verify_checkpoints(records: list[dict], *, public_pem: str, chain) -> tuple[list[str], list[str]]:
    """(problems, notes) for the checkpoint `records` (in sequence order) against `chain`, an iterable of the
    stored entries' (id, hash) in id order — walked once, so that ten years of entries need no more memory than
    one. Pure: the offline verifier calls it on an export."""
    problems: list[str] = []
    signed: list[dict] = []
    expected_previous = GENESIS_DIGEST
    for index, record in enumerate(records, start=1):
        if "invalid_line" in record:
            problems.append(f"Points de contrôle : la ligne {record['invalid_line']} du fichier est illisible.")
            continue
        payload = record.get("payload") or {}
        label = _label(payload)
        if not verify_signature(record, public_pem):
            problems.append(
                f"{label} : signature invalide pour la clé publique de la plateforme (faux ou clé changée)."
            )
            continue
        if payload.get("sequence") != index:
            problems.append(f"{label} : la suite des points de contrôle est interrompue (n°{index} attendu).")
        if payload.get("previous") != expected_previous:
            problems.append(f"{label} : ne suit pas le point de contrôle précédent (un point a été retiré ou inséré).")
        expected_previous = checkpoint_digest(record)
        signed.append(payload)
    signed.sort(key=lambda payload: payload.get("entry_id") or 0)
    position, count, last_good = 0, 0, 0
    iterator = iter(chain)
    current = next(iterator, None)
    for payload in signed:
        entry_id = payload.get("entry_id") or 0
        found = None
        while current is not None and current[0] <= entry_id:
            count += 1
            if current[0] == entry_id:
                found = current[1]
            current = next(iterator, None)
        position = count
        if found != payload.get("entry_hash") or position != payload.get("entries"):
            span = f"n°{last_good + 1} à n°{entry_id}" if last_good else f"jusqu'à n°{entry_id}"
            problems.append(
                f"{_label(payload)} : l'entrée n°{entry_id} n'a plus l'empreinte ou le rang signés — les entrées "
                f"{span} ont été modifiées, supprimées ou réécrites depuis."
            )
        else:
            last_good = entry_id
    notes = [f"Dernier point de contrôle signé vérifié : entrée n°{last_good}."] if last_good else []
    return problems, notes


def _label(payload: dict) -> str:
    return f"Point de contrôle signé n°{payload.get('sequence', '?')} du {payload.get('signed_at', '?')}"
