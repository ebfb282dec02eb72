"""Signed checkpoints of the audit chain: what a database writer cannot forge.

The chain (core.audit) detects an edited, deleted or reordered entry — unless whoever edits also recomputes
every hash after it and the head, which anyone who can write the database can do. So, periodically, the head
of the chain (last entry id, its hash, the number of entries) is signed with an Ed25519 key kept outside the
database (a file readable by the platform's processes only, or a key a KMS hands to them through that file),
and the signed checkpoint is written twice: appended to a file outside the database (the reference) and to the
`AuditCheckpoint` table (shared by every host, exported with the pistes d'audit). Each checkpoint also signs the
digest of the one before, so checkpoints cannot be removed from the middle of the sequence unseen.

`audit_verify_report()` checks the chain, then each checkpoint: a valid signature by the platform's key, its
entry still there with the signed hash and the signed count — else the rows between the last checkpoint that
holds and the first that does not are the ones rewritten. Entries after the last checkpoint are reported as not
yet covered. `choeur audit_export DIR` writes the chain, the checkpoints and the public key, which
`python -m choeur.core.audit_offline DIR` verifies with no database and no Django.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from choeur.core.audit_checkpoints import GENESIS_DIGEST, canonical, checkpoint_digest, verify_checkpoints
from choeur.core.models import AuditCheckpoint, AuditEntry

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1


class SigningKeyError(Exception):
    """The signing key is missing, unreadable or not an Ed25519 key: the French message says what to do."""


# ---------------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------------


def key_path() -> Path:
    return Path(settings.CHOEUR_AUDIT_SIGNING_KEY)


def checkpoint_file() -> Path:
    return Path(settings.CHOEUR_AUDIT_CHECKPOINT_FILE)


def signing_key_create(*, path: Path | None = None, overwrite: bool = False):
    """A new Ed25519 private key in PEM, readable by its owner only. Refuses to replace an existing key: the
    checkpoints it signed could no longer be verified with the new one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = path or key_path()
    if path.exists() and not overwrite:
        raise SigningKeyError(
            f"Une clé de signature existe déjà dans {path} : elle signe les points de contrôle déjà émis. "
            "Pour la remplacer, archivez d'abord sa clé publique (choeur audit_key show)."
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key


def _load_private_key(*, create: bool):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_path()
    if not path.exists():
        if not create:
            raise SigningKeyError(
                f"Aucune clé de signature du journal d'audit dans {path} : créez-la avec « choeur audit_key create » "
                "ou indiquez son chemin dans CHOEUR_AUDIT_SIGNING_KEY."
            )
        logger.warning("Clé de signature du journal d'audit créée dans %s : sauvegardez-la hors de la base.", path)
        return signing_key_create(path=path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyError(f"La clé de signature {path} est illisible ({exc}) : vérifiez le fichier.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"La clé {path} n'est pas une clé Ed25519 : créez-en une avec « choeur audit_key create »."
        )
    return key


def public_key_pem(*, create: bool = False) -> str:
    from cryptography.hazmat.primitives import serialization

    key = _load_private_key(create=create).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id_of(public_pem: str) -> str:
    """A short fingerprint of a public key (SHA-256 of its PEM), printed on every checkpoint."""
    return hashlib.sha256(public_pem.strip().encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------------


def _last_record() -> dict | None:
    last = AuditCheckpoint.objects.order_by("-sequence").first()
    return last.as_record() if last is not None else None


def checkpoint_create(*, now=None) -> AuditCheckpoint | None:
    """Sign the current head of the chain, unless the last checkpoint already covers it. Returns the new one."""
    key = _load_private_key(create=True)
    from cryptography.hazmat.primitives import serialization

    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with transaction.atomic():
        # The entries' head lock (core.audit._append) orders this read after every append in progress.
        from choeur.core.models import AuditChainHead

        AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        head = AuditEntry.objects.order_by("-id").values("id", "hash").first()
        if head is None:
            return None
        previous = _last_record()
        if previous is not None and previous["payload"]["entry_id"] == head["id"]:
            return None
        payload = {
            "format": CHECKPOINT_FORMAT,
            "sequence": (previous["payload"]["sequence"] + 1) if previous else 1,
            "entry_id": head["id"],
            "entry_hash": head["hash"],
            "entries": AuditEntry.objects.filter(id__lte=head["id"]).count(),
            "signed_at": (now or timezone.now()).isoformat(timespec="seconds"),
            "previous": checkpoint_digest(previous) if previous else GENESIS_DIGEST,
            "key_id": key_id_of(public),
        }
        signature = base64.b64encode(key.sign(canonical(payload))).decode()
        checkpoint = AuditCheckpoint.objects.create(
            sequence=payload["sequence"],
            entry_id=payload["entry_id"],
            entry_hash=payload["entry_hash"],
            entries=payload["entries"],
            signed_at=timezone.now(),
            key_id=payload["key_id"],
            payload=canonical(payload).decode(),
            signature=signature,
        )
        record = checkpoint.as_record()
        # The file is written before the commit: a checkpoint the database lost (rolled back, or deleted by
        # whoever rewrites it) stays in the file, which is the reference.
        _append_to_file(record)
    return checkpoint


def _append_to_file(record: dict) -> None:
    path = checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def checkpoints_from_file(path: Path | None = None) -> list[dict]:
    path = path or checkpoint_file()
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append({"invalid_line": number})
    return records


# ---------------------------------------------------------------------------------------------------
# Verification (shared with the offline verifier: pure functions over records)
# ---------------------------------------------------------------------------------------------------


@dataclass
class AuditReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: int = 0
    checkpoints: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems


def audit_verify_report() -> AuditReport:
    """The chain (core.audit.audit_verify) and the signed checkpoints, in French."""
    from choeur.core.audit import audit_verify

    report = AuditReport(problems=list(audit_verify()), entries=AuditEntry.objects.count())
    file_records = checkpoints_from_file()
    db_records = [c.as_record() for c in AuditCheckpoint.objects.order_by("sequence")]
    records = file_records or db_records
    report.checkpoints = len(records)
    if not records:
        if report.entries:
            report.notes.append(
                "Aucun point de contrôle signé : la chaîne n'est protégée que contre une modification isolée "
                "(lancez « choeur audit_checkpoint » ou le planificateur)."
            )
        return report
    try:
        public_pem = _public_key_for_verification()
    except SigningKeyError as exc:
        report.problems.append(str(exc))
        return report
    problems, notes = verify_checkpoints(
        records,
        public_pem=public_pem,
        chain=AuditEntry.objects.order_by("id").values_list("id", "hash").iterator(chunk_size=5000),
    )
    report.problems += problems
    report.notes += notes
    if file_records:
        in_db = {r["payload"]["sequence"]: r for r in db_records}
        missing = [
            r["payload"]["sequence"] for r in file_records if "payload" in r and r["payload"]["sequence"] not in in_db
        ]
        if missing:
            report.problems.append(
                f"{len(missing)} point(s) de contrôle du fichier absent(s) de la base (n°{missing[0]}…) : "
                "des lignes de la table des points de contrôle ont été supprimées."
            )
    last = records[-1].get("payload", {})
    after = AuditEntry.objects.filter(id__gt=last.get("entry_id") or 0).count()
    if after:
        report.notes.append(
            f"{after} entrée(s) postérieure(s) au dernier point de contrôle (n°{last.get('sequence')}, "
            f"{last.get('signed_at')}) : couvertes au prochain point de contrôle."
        )
    return report


def _public_key_for_verification() -> str:
    """The public key: its own file when configured (a verifying host need not hold the private key)."""
    configured = getattr(settings, "CHOEUR_AUDIT_PUBLIC_KEY", "")
    if configured:
        try:
            return Path(configured).read_text()
        except OSError as exc:
            raise SigningKeyError(f"Clé publique {configured} illisible ({exc}).") from None
    return public_key_pem(create=False)


def checkpoint_covering(entry_id: int) -> dict | None:
    """The first signed checkpoint that covers `entry_id`, checked, as the piste d'audit exports it (with the
    public key, so that a reader can verify the signature offline); None while no checkpoint covers it yet."""
    checkpoint = AuditCheckpoint.objects.filter(entry_id__gte=entry_id).order_by("sequence").first()
    if checkpoint is None:
        return None
    record = checkpoint.as_record()
    try:
        public = _public_key_for_verification()
    except SigningKeyError:
        public = ""
    from choeur.core.audit_checkpoints import verify_signature

    stored = AuditEntry.objects.filter(pk=checkpoint.entry_id).values_list("hash", flat=True).first()
    return {
        "numero": checkpoint.sequence,
        "signe_le": record["payload"]["signed_at"],
        "entree": checkpoint.entry_id,
        "contenu_signe": checkpoint.payload,
        "signature_ed25519": checkpoint.signature,
        "cle_publique": public,
        "empreinte_cle": checkpoint.key_id,
        "signature_valide": bool(public) and verify_signature(record, public),
        "entree_conforme": stored == checkpoint.entry_hash,
    }
