"""What the benchmark suites share: the machine's description, a scratch PostgreSQL database, and a measuring
child process configured with tests/flows/worker_settings.py (tables built from the models, no migrations)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("CHOEUR_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = cpu or platform.processor()
    return f"{platform.platform()} — {cpu} — {os.cpu_count()} cœurs — Python {platform.python_version()}"


def postgres_scratch(name: str) -> str | None:
    """A new empty database `name` on CHOEUR_BENCH_POSTGRES_URL's server, or None (said) if unreachable."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # server absent or refusing: the PostgreSQL measurement is skipped, said so
        print(f"PostgreSQL injoignable sur {POSTGRES_URL} ({exc.__class__.__name__}) : mesure ignorée.")
        return None
    return f"{POSTGRES_URL.rpartition('/')[0]}/{name}"


def drop_postgres_scratch(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, connect_timeout=3, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_child(module: str, database_url: str, var_dir: str, *, what: str, echo: bool = False) -> dict:
    """Run `python -m <module> child <database_url>`; its last output line is its JSON result. `echo`: print
    the lines before it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.flows.worker_settings",
        "DATABASE_URL": database_url,
        "CHOEUR_VAR_DIR": var_dir,
        "CHOEUR_DEBUG": "false",
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-m", module, "child", database_url], cwd=REPO, env=env, capture_output=True, text=True
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"Mesure {what} impossible :\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    if echo:
        for line in lines[:-1]:
            print(line)
    return json.loads(lines[-1])
