"""What `choeur serve` verifies before starting anything: each failure is a French sentence saying what to set.

Never the password of DATABASE_URL nor a storage secret in a message: the host, port and database name are
enough to find the mistake.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.checks import ERROR, run_checks
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connections


class StartupRefused(Exception):
    """The configuration cannot serve: the message says what to set."""


def configuration_errors() -> list[str]:
    """Errors of Django's checks, deployment ones included (weak secret key, DEBUG on a public host…)."""
    messages = []
    for message in run_checks(include_deployment_checks=True):
        if message.level >= ERROR and not message.is_silenced():
            hint = f" {message.hint}" if message.hint else ""
            messages.append(f"[{message.id}] {message.msg}{hint}")
    return messages


def database_where(config: dict) -> str:
    if "sqlite" in config["ENGINE"]:
        return f"fichier SQLite {config['NAME']}"
    return f"{config.get('HOST') or 'localhost'}:{config.get('PORT') or 5432}/{config.get('NAME')}"


def check_database_reachable(connection=None) -> None:
    connection = connection if connection is not None else connections["default"]
    where = database_where(connection.settings_dict)
    try:
        connection.ensure_connection()
    except Exception as exc:
        raise StartupRefused(
            f"La base de données ({where}) est injoignable ({exc.__class__.__name__}). "
            "Vérifiez DATABASE_URL (par exemple postgres://choeur:MOT_DE_PASSE@127.0.0.1:5432/choeur) "
            "et que le serveur PostgreSQL accepte les connexions."
        ) from None


def check_storage_writable() -> None:
    storage = storages["default"]
    name = f"startup/{uuid.uuid4().hex}"
    try:
        saved = storage.save(name, ContentFile(b"choeur-startup"))
        storage.delete(saved)
    except Exception as exc:
        backend = settings.STORAGES["default"]["BACKEND"]
        where = "stockage S3" if "s3" in backend.lower() else f"dossier {settings.MEDIA_ROOT}"
        raise StartupRefused(
            f"Le stockage des documents ({where}) est inaccessible en écriture ({exc.__class__.__name__}). "
            "Vérifiez CHOEUR_VAR_DIR (dossier existant, accessible en écriture par le service) ou, pour S3, "
            "CHOEUR_S3_BUCKET, CHOEUR_S3_ENDPOINT_URL, CHOEUR_S3_ACCESS_KEY et CHOEUR_S3_SECRET_KEY."
        ) from None


def startup_verify() -> None:
    """Raises StartupRefused with every reason at once for the configuration, then checks database and storage."""
    errors = configuration_errors()
    if errors:
        raise StartupRefused("Configuration refusée :\n  " + "\n  ".join(errors))
    check_database_reachable()
    check_storage_writable()
