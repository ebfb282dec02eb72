"""Backup and restore of an instance: its database and every stored document, with a manifest of SHA-256s.

A backup is a directory:

    manifest.json          what was saved, by which version, and the SHA-256 and size of every file below
    database.dump          PostgreSQL: `pg_dump --format=custom` (restored by `pg_restore`)
    database.sqlite3       SQLite: a consistent copy taken through SQLite's online backup API
    files/<storage name>   the bytes of every StoredFile, read through STORAGES["default"] (disk or S3)

The database is saved first, then the files: documents are content-addressed and never rewritten, so a file
stored after the dump is only an extra, never a missing one. `backup_restore` checks every SHA-256 of the
manifest before touching anything, restores into an empty database (or `replace=True`), puts the files back
into the configured storage, then runs the same checks as `choeur verify_audit` and compares every stored
file with its record (`restore_verify`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from choeur.core.errors import ApplicationError
from choeur.core.models import AuditEntry, StoredFile

MANIFEST = "manifest.json"
FORMAT = "choeur-backup/1"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
FILES_DIR = "files"
_CHUNK = 1024 * 1024


@dataclass
class RestoreReport:
    audit_entries: int = 0
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _engine(alias: str = "default") -> str:
    engine = connections[alias].settings_dict["ENGINE"]
    if "postgresql" in engine:
        return "postgresql"
    if "sqlite3" in engine:
        return "sqlite"
    raise ApplicationError(f"Sauvegarde : moteur de base de données non pris en charge ({engine}).")


def _libpq(alias: str = "default") -> tuple[list[str], dict[str, str]]:
    """Connection arguments and environment for pg_dump / pg_restore.

    CHOEUR_DIRECT_DATABASE_URL, when set, points them at PostgreSQL itself rather than at a PgBouncer in
    transaction mode (pg_dump keeps session settings between its statements)."""
    direct = getattr(settings, "CHOEUR_DIRECT_DATABASE_URL", "")
    if direct:
        import dj_database_url

        db = dj_database_url.parse(direct)
    else:
        db = connections[alias].settings_dict
    args = ["--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=6 * 3600)
    except FileNotFoundError:
        raise ApplicationError(
            f"{what} : la commande {command[0]} est introuvable ; installez le client PostgreSQL "
            "de la même version majeure que le serveur (paquet postgresql-client)."
        ) from None
    if result.returncode != 0:
        raise ApplicationError(f"{what} : {command[0]} a échoué — {result.stderr.strip()[-2000:]}")


def _migrations() -> dict[str, str]:
    """The last applied migration of every app, so that a restore says which release the data belongs to."""
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connections["default"]).applied_migrations():
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


def backup_create(*, destination: Path) -> dict:
    """Write a backup of the database and of every stored document into `destination` (new or empty)."""
    destination = Path(destination)
    if connections["default"].in_atomic_block:
        # The copy would not see what this transaction has written (SQLite's online backup would even wait on it).
        raise ApplicationError("Sauvegarde : lancez-la hors de toute transaction ouverte (commande choeur backup).")
    if destination.exists() and any(destination.iterdir()):
        raise ApplicationError(
            f"Dossier de sauvegarde : {destination} n'est pas vide ; donnez un dossier neuf (par exemple daté)."
        )
    destination.mkdir(parents=True, exist_ok=True)
    engine = _engine()
    started = timezone.now()
    if engine == "postgresql":
        args, env = _libpq()
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(destination / PG_DUMP)]
            + args,
            env,
            "Sauvegarde de la base",
        )
        database_file = PG_DUMP
    else:
        connection = connections["default"]
        connection.ensure_connection()
        target = sqlite3.connect(destination / SQLITE_COPY)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        database_file = SQLITE_COPY

    storage = storages["default"]
    problems: list[str] = []
    files_dir = destination / FILES_DIR
    for stored in StoredFile.objects.order_by("pk").iterator(chunk_size=2000):
        path = files_dir / stored.storage_name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with storage.open(stored.storage_name, "rb") as source, path.open("wb") as copy:
                shutil.copyfileobj(source, copy, _CHUNK)
        except OSError as exc:  # includes FileNotFoundError; S3 errors surface as OSError subclasses too
            problems.append(f"Fichier {stored.storage_name} illisible dans le stockage : {exc}.")
            continue
        if _sha256_of(path) != stored.sha256:
            problems.append(f"Fichier {stored.storage_name} : son contenu ne correspond plus à son empreinte.")
    if problems:
        raise ApplicationError("Sauvegarde incomplète : " + " ".join(problems))

    entries = {}
    for path in sorted(destination.rglob("*")):
        if path.is_file():
            relative = path.relative_to(destination).as_posix()
            entries[relative] = {"sha256": _sha256_of(path), "size": path.stat().st_size}
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("choeur")
    except PackageNotFoundError:
        release = "inconnue"
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(),
        "choeur_version": release,
        "database_engine": engine,
        "database_file": database_file,
        "migrations": _migrations(),
        "audit_entries": AuditEntry.objects.count(),
        "stored_files": StoredFile.objects.count(),
        "files": entries,
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def backup_check(*, source: Path) -> dict:
    """Read the manifest of `source` and check the SHA-256 and size of every file it lists."""
    source = Path(source)
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise ApplicationError(f"Sauvegarde : {manifest_path} est introuvable ; donnez le dossier d'une sauvegarde.")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise ApplicationError(f"Sauvegarde : format {manifest.get('format')!r} inconnu (attendu {FORMAT}).")
    problems = []
    for relative, expected in manifest["files"].items():
        path = source / relative
        if not path.is_file():
            problems.append(f"{relative} manque")
        elif path.stat().st_size != expected["size"] or _sha256_of(path) != expected["sha256"]:
            problems.append(f"{relative} est altéré (empreinte SHA-256 différente)")
    if problems:
        raise ApplicationError("Sauvegarde inutilisable : " + " ; ".join(problems) + ".")
    return manifest


def _database_tables() -> list[str]:
    with connections["default"].cursor() as cursor:
        return connections["default"].introspection.table_names(cursor)


def backup_restore(*, source: Path, replace: bool = False) -> RestoreReport:
    """Restore the backup in `source` into the configured database and storage, then verify them."""
    source = Path(source)
    manifest = backup_check(source=source)
    engine = _engine()
    if manifest["database_engine"] != engine:
        raise ApplicationError(
            f"Restauration : la sauvegarde vient d'une base {manifest['database_engine']}, la base configurée "
            f"(DATABASE_URL) est {engine} ; restaurez dans le même moteur."
        )
    tables = _database_tables()
    if tables and not replace:
        raise ApplicationError(
            f"Restauration : la base cible n'est pas vide ({len(tables)} tables) ; restaurez dans une base neuve "
            "(createdb) ou ajoutez --replace pour l'écraser."
        )
    if engine == "postgresql":
        args, env = _libpq()
        clean = ["--clean", "--if-exists"] if replace else []
        _run(
            ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *clean, *args, str(source / PG_DUMP)],
            env,
            "Restauration de la base",
        )
    else:
        connection = connections["default"]
        connection.ensure_connection()
        backup = sqlite3.connect(source / SQLITE_COPY)
        try:
            backup.backup(connection.connection)
        finally:
            backup.close()
    connections["default"].close()

    storage = storages["default"]
    prefix = FILES_DIR + "/"
    for relative in manifest["files"]:
        if not relative.startswith(prefix):
            continue
        name = relative[len(prefix) :]
        if storage.exists(name):
            continue  # content-addressed: same name, same bytes (restore_verify checks them)
        with (source / relative).open("rb") as handle:
            saved = storage.save(name, ContentFile(handle.read()))
        if saved != name:
            raise ApplicationError(f"Restauration : le stockage a renommé {name} en {saved}.")
    return restore_verify()


def restore_verify() -> RestoreReport:
    """The audit chain is intact, so are its signed checkpoints (core.audit_signing: on a restore host, give the
    platform's public key in CHOEUR_AUDIT_PUBLIC_KEY), and every stored file's bytes match the SHA-256 of its
    record."""
    from choeur.core.audit_signing import audit_verify_report

    report = RestoreReport(problems=list(audit_verify_report().problems))
    report.audit_entries = AuditEntry.objects.count()
    storage = storages["default"]
    for stored in StoredFile.objects.order_by("pk").iterator(chunk_size=2000):
        digest = hashlib.sha256()
        try:
            with storage.open(stored.storage_name, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except OSError:
            report.problems.append(f"Fichier {stored.storage_name} absent du stockage.")
            continue
        if digest.hexdigest() != stored.sha256:
            report.problems.append(f"Fichier {stored.storage_name} : contenu différent de son empreinte SHA-256.")
        report.files_checked += 1
    return report
