"""PgBouncer in transaction mode (the real one, on loopback, for the duration of the test): with
CHOEUR_PGBOUNCER=1, concurrent web-like threads (audit chain locked FOR UPDATE, repeated statements, .iterator())
and two task workers claiming with SELECT … FOR UPDATE SKIP LOCKED all work, and every task runs exactly once.
Without those settings the same work fails (the test can tell)."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.ops.drill import ROOT, child_env, choeur

pytestmark = pytest.mark.django_db(transaction=True)

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
PORT = 8122  # this helper's port range (docs/OPERATIONS.md uses PgBouncer's usual 6432)
TASKS = 12


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"PgBouncer s'est arrêté (code {process.returncode}).")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"PgBouncer ne répond pas sur 127.0.0.1:{port} après {seconds} s.")


@pytest.fixture
def bouncer_database():
    """A copy of the test database's schema, reached through a PgBouncer in transaction mode."""
    if connection.vendor != "postgresql":
        pytest.skip("PgBouncer se teste sur PostgreSQL (DATABASE_URL=postgres://…).")
    if not Path(PGBOUNCER).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("pgbouncer absent : apt-get install -y pgbouncer.")
        pytest.skip("pgbouncer absent (apt-get install -y pgbouncer).")
    settings = connection.settings_dict
    name = f"choeur_bouncer_{uuid.uuid4().hex[:8]}"
    template = settings["NAME"]
    connection.close()
    import psycopg

    params = {"host": settings["HOST"] or "127.0.0.1", "port": settings["PORT"] or 5432, "user": settings["USER"]}
    if settings["PASSWORD"]:
        params["password"] = settings["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    # PgBouncer refuses to run as root: it runs as `postgres` when we are root, from a folder it can read.
    workdir = Path(tempfile.mkdtemp(prefix="choeur-pgbouncer-"))
    workdir.chmod(0o777)
    (workdir / "users.txt").write_text(f'"{params["user"]}" "{params.get("password", "")}"\n')
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={params["host"]} port={params["port"]}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {PORT}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "users.txt"}
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
ignore_startup_parameters = extra_float_digits,options
logfile = {workdir / "pgbouncer.log"}
"""
    )
    for path in workdir.iterdir():
        path.chmod(0o644)
    command = [PGBOUNCER, *(["-u", "postgres"] if os.geteuid() == 0 else []), str(workdir / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(PORT, process)
        credentials = params["user"] + (f":{params['password']}" if "password" in params else "")
        yield f"postgres://{credentials}@127.0.0.1:{PORT}/{name}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_web_threads_and_two_workers_through_pgbouncer_in_transaction_mode(bouncer_database, tmp_path):
    env = {
        "DATABASE_URL": bouncer_database,
        "CHOEUR_PGBOUNCER": "true",
        "CHOEUR_VAR_DIR": str(tmp_path / "var"),
        "BOUNCER_PORT": str(PORT),
    }
    child = child_env(env)
    enqueue = subprocess.run(
        [sys.executable, "tests/ops/bouncer_child.py", "enqueue", str(TASKS)],
        cwd=ROOT,
        env=child,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert enqueue.returncode == 0, enqueue.stderr[-3000:]
    assert enqueue.stdout.strip().splitlines()[-1] == str(4 * 15)

    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "choeur", "db_worker", "--queue-name", "*", "--batch", "--no-reload"],
            cwd=ROOT,
            env={**child, "CHOEUR_DEBUG": "false"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        try:
            _, err = worker.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            worker.kill()
            raise
        assert worker.returncode == 0, err[-3000:]

    check = subprocess.run(
        [sys.executable, "tests/ops/bouncer_child.py", "check", str(TASKS)],
        cwd=ROOT,
        env=child,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr[-3000:]
    assert f"tasks={TASKS} succeeded={TASKS}" in check.stdout
    audit = choeur("verify_audit", env=env)
    assert audit.returncode == 0, audit.stderr


def test_without_the_pgbouncer_settings_the_same_work_breaks(bouncer_database, tmp_path):
    env = {
        "DATABASE_URL": bouncer_database,
        "CHOEUR_PGBOUNCER": "false",
        "CHOEUR_VAR_DIR": str(tmp_path / "var"),
        "BOUNCER_PORT": str(PORT),
        "BOUNCER_UNCONFIGURED": "1",
    }
    enqueue = subprocess.run(
        [sys.executable, "tests/ops/bouncer_child.py", "enqueue", "1"],
        cwd=ROOT,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert enqueue.returncode == 1
    # Django's server-side cursor (WITH HOLD) was fetched on a server connection that never opened it.
    assert "does not exist" in enqueue.stderr, enqueue.stderr[-3000:]
