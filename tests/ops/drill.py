"""Helpers for the drills: run `choeur` in a child process against another database and storage."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def child_env(env: dict[str, str]) -> dict[str, str]:
    """Production settings for a child process; never the test's database, storage or secret."""
    child = {
        key: value for key, value in os.environ.items() if not key.startswith(("CHOEUR_", "DATABASE_URL", "DJANGO_"))
    }
    child.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CHOEUR_SECRET_KEY": "drill-secret-key-" + "x" * 40,
            **env,
        }
    )
    return child


def choeur(*args: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    """`choeur ARGS` in a child process (see child_env)."""
    return subprocess.run(
        [sys.executable, "-m", "choeur", *args],
        cwd=ROOT,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def fresh_database(tmp_path: Path):
    """The URL of a new, empty database of the engine the tests run on (dropped afterwards on PostgreSQL)."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    import psycopg

    settings = connection.settings_dict
    name = f"choeur_drill_{uuid.uuid4().hex[:10]}"
    params = {
        key: value
        for key, value in {
            "host": settings["HOST"],
            "port": settings["PORT"],
            "user": settings["USER"],
            "password": settings["PASSWORD"],
        }.items()
        if value
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    credentials = f"{params.get('user', '')}:{params.get('password', '')}@" if params.get("user") else ""
    try:
        yield f"postgres://{credentials}{params.get('host', '')}:{params.get('port', 5432)}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
