"""`choeur serve` refuses to start on a configuration that cannot serve safely, in French, saying what to set —
and never with a password in the message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import storages

from choeur.core import startup

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db

STRONG_KEY = "k" + "x9Q2-aZ7_mP4" * 6


def test_a_weak_secret_key_is_refused(settings):
    settings.SECRET_KEY = "changeme"
    with pytest.raises(startup.StartupRefused) as refused:
        startup.startup_verify()
    message = str(refused.value)
    assert "choeur.E002" in message and "CHOEUR_SECRET_KEY" in message
    assert "changeme" not in message


def test_debug_on_a_public_host_is_refused(settings):
    settings.SECRET_KEY = STRONG_KEY
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["factures.exemple.gouv.fr"]
    with pytest.raises(startup.StartupRefused) as refused:
        startup.startup_verify()
    assert "choeur.E001" in str(refused.value) and "CHOEUR_DEBUG=false" in str(refused.value)


def test_an_unreachable_database_is_refused_without_its_password():
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper

    config = {
        **connections["default"].settings_dict,
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "choeur",
        "USER": "choeur",
        "PASSWORD": "mot-de-passe-secret",
        "HOST": "127.0.0.1",
        "PORT": "1",
        "OPTIONS": {"connect_timeout": 2},
    }
    unreachable = DatabaseWrapper(config, alias="unreachable")
    try:
        with pytest.raises(startup.StartupRefused) as refused:
            startup.check_database_reachable(unreachable)
    finally:
        unreachable.close()
    message = str(refused.value)
    assert "127.0.0.1:1/choeur" in message and "DATABASE_URL" in message
    assert "mot-de-passe-secret" not in message


def test_an_unwritable_storage_is_refused(settings, tmp_path):
    blocker = tmp_path / "pas-un-dossier"
    blocker.write_text("un fichier")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "files")},
        },
    }
    settings.MEDIA_ROOT = str(blocker / "files")
    storages._storages = {}
    try:
        with pytest.raises(startup.StartupRefused) as refused:
            startup.check_storage_writable()
    finally:
        storages._storages = {}
    assert "CHOEUR_VAR_DIR" in str(refused.value) and "écriture" in str(refused.value)


def test_the_serve_command_exits_with_the_french_message(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CHOEUR_SECRET_KEY": "trop-courte",
        "CHOEUR_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-m", "choeur", "serve", "--port", "8113"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Démarrage refusé" in done.stderr and "CHOEUR_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr
