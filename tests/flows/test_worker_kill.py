"""A real `choeur db_worker` is SIGKILLed in the middle of a flow; a new worker and the reconciler finish it:
the flow ends final and every invoice exists exactly once.

Runs against a scratch database: a SQLite file, or — when DATABASE_URL points at PostgreSQL, as in the
second run of `make test` — a scratch PostgreSQL database on the same server. The tables are built from
the models (`migrate --run-syncdb` with migrations off, as in the test suite).
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
INVOICES = 5
LEASE_SECONDS = 3


@pytest.fixture
def scratch_database(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'worker.sqlite3'}"
        return
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"choeur_kill_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Scenario:
    def __init__(self, database_url: str, tmp_path: Path):
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.flows.worker_settings",
            "DATABASE_URL": database_url,
            "CHOEUR_VAR_DIR": str(tmp_path / "var"),
            "CHOEUR_FLOW_LEASE_SECONDS": str(LEASE_SECONDS),
            "CHOEUR_FLOW_STALE_SECONDS": "600",
            "PYTHONPATH": str(REPO),
        }
        self.workers: list[subprocess.Popen] = []

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, f"{' '.join(args)} a échoué :\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def json(self, *args: str) -> dict:
        return json.loads(self.run("-m", "tests.flows.kill_scenario", *args).strip().splitlines()[-1])

    def start_worker(self, name: str, *, step_delay: float) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        worker = subprocess.Popen(
            [sys.executable, "-m", "choeur", "db_worker", "--queue-name", "*", "--no-reload", "--interval", "0.2"]
            + ["--no-startup-delay", "--worker-id", name],
            cwd=REPO,
            env={**self.env, "CHOEUR_TEST_FLOW_STEP_DELAY": str(step_delay)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(worker)
        return worker

    def query(self, sql: str, params: tuple) -> tuple:
        """Poll the scratch database directly (cheaper than a Django process per poll)."""
        if self.database_url.startswith("sqlite"):
            with sqlite3.connect(self.database_url.removeprefix("sqlite:///"), timeout=20) as connection:
                return connection.execute(sql.replace("%s", "?"), params).fetchone()
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            return connection.execute(sql, params).fetchone()

    def wait_for(self, what: str, predicate, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            for worker in self.workers:
                if worker.poll() not in (None, -signal.SIGKILL, 0):
                    pytest.fail(f"Un worker s'est arrêté (code {worker.returncode}) :\n{self.logs()}")
            time.sleep(0.2)
        pytest.fail(f"Délai dépassé en attendant : {what}\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp_path.glob("*.log")))

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait(timeout=10)


@pytest.fixture
def scenario(scratch_database, tmp_path):
    scenario = Scenario(scratch_database, tmp_path)
    try:
        yield scenario
    finally:
        scenario.stop()


def test_sigkilled_worker_mid_flow_is_recovered_without_duplicates(scenario):
    scenario.run("-m", "choeur", "migrate", "--run-syncdb", "--no-input", "-v", "0")
    flow_id = scenario.json("setup", str(INVOICES))["flow_id"]

    def items_done() -> int:
        return scenario.query(
            "SELECT count(*) FROM flows_flowitem WHERE flow_id = %s AND status <> 'EN_COURS'", (flow_id,)
        )[0]

    def state() -> str:
        return scenario.query("SELECT state FROM flows_flow WHERE id = %s", (flow_id,))[0]

    # A slow first worker (1.5 s between invoices): killed once two invoices are in.
    first = scenario.start_worker("worker-1", step_delay=1.5)
    scenario.wait_for("deux factures intégrées par le premier worker", lambda: items_done() >= 2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    halfway = scenario.json("status", str(flow_id))
    assert halfway["state"] == "IN_EN_COURS_TRAITEMENT_CPP"
    assert 2 <= halfway["items_done"] < INVOICES
    assert halfway["invoices"] == halfway["items_linked"] == halfway["items_done"]
    assert "RUNNING" in halfway["tasks"]  # django-tasks-db's row of the dead worker, stuck

    # A new worker idles: nothing is queued. The reconciler re-queues the flow once its lease has expired.
    scenario.start_worker("worker-2", step_delay=0.1)
    time.sleep(LEASE_SECONDS + 0.5)
    output = scenario.run("-m", "choeur", "reconcile_flows")
    assert "Flux remis en file : 1" in output, output
    scenario.wait_for(
        "le flux dans un état final", lambda: state() in ("IN_INTEGRE", "IN_INTEGRE_PARTIEL", "IN_REJETE")
    )

    final = scenario.json("status", str(flow_id))
    assert final["state"] == "IN_INTEGRE", final
    assert final["items"] == final["items_linked"] == INVOICES
    assert final["invoices"] == INVOICES
    assert final["duplicates"] == []
    assert final["attempts"] == 2
    # The orphaned task row is marked failed, the re-queued one succeeded.
    assert "RUNNING" not in final["tasks"] and "FAILED" in final["tasks"] and "SUCCESSFUL" in final["tasks"]
