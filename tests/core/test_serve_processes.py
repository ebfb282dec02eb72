"""`choeur serve` for real on loopback: 2 web processes (granian) and 2 task workers over one scratch database.

- Flows deposited through the API from several clients at once are each integrated exactly once.
- Every request logs one JSON line with its request id; the worker's lines for the task a request enqueued
  carry the same id; /metrics counts the flows and requests.
- SIGTERM while a flow is being processed: the worker finishes it (graceful stop), nothing is lost. With a
  grace period too short, the worker is killed, its task handed back, and the next start finishes the flow.

The database is a SQLite file, or a scratch PostgreSQL database when DATABASE_URL points at PostgreSQL.
Every wait is bounded; the supervisor is killed (with its process group) if a test fails midway.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PORT = 8112
FINAL = {"IN_INTEGRE", "IN_INTEGRE_PARTIEL", "IN_REJETE", "IN_INCIDENTE"}


@pytest.fixture
def scratch_database(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'serve.sqlite3'}"
        return
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"prod_serve_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Stack:
    def __init__(self, database_url: str, tmp_path: Path):
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.core.serve_settings",
            "DATABASE_URL": database_url,
            "CHOEUR_VAR_DIR": str(tmp_path / "var"),
            "CHOEUR_SECRET_KEY": "serve-test-" + uuid.uuid4().hex * 2,
            "PYTHONPATH": str(REPO),
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests; refused in deployment
        self.process: subprocess.Popen | None = None
        self.runs = 0

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"{' '.join(args)} a échoué :\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def scenario(self, *args: str) -> dict:
        return json.loads(self.run("-m", "tests.core.serve_scenario", *args).strip().splitlines()[-1])

    @property
    def log_path(self) -> Path:
        return self.tmp_path / f"serve-{self.runs}.log"

    def start(self, **env: str) -> None:
        self.runs += 1
        log = open(self.log_path, "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "choeur", "serve", "--port", str(PORT), "--no-migrate", "--no-collectstatic"]
            + ["--web-workers", "2", "--task-workers", "2", "--worker-interval", "0.2"],
            cwd=REPO,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: cleaned up as a whole if the test fails
        )
        self.wait_for("/healthz", lambda: self.get("/healthz")[0] == 200, timeout=120)

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers=headers or {})
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 0, b""

    def deposit(self, token: str, flow: dict) -> tuple[int, str, str]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORT}/api/v1/flows/base64",
            data=json.dumps(flow).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
            return response.status, body["numero_flux_depot"], response.headers["X-Request-ID"]

    def flow_states(self) -> list[str]:
        """Polled straight from the database (a Django process per poll would miss a short state)."""
        sql = "SELECT state FROM flows_flow ORDER BY id"
        if self.database_url.startswith("sqlite"):
            with sqlite3.connect(self.database_url.removeprefix("sqlite:///"), timeout=20) as connection:
                return [row[0] for row in connection.execute(sql).fetchall()]
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            return [row[0] for row in connection.execute(sql).fetchall()]

    def wait_for(self, what: str, predicate, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"choeur serve s'est arrêté (code {self.process.returncode}) :\n{self.logs()}")
            time.sleep(0.3)
        pytest.fail(f"Délai dépassé en attendant : {what}\n{self.logs()}")

    def terminate(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-4000:] for p in sorted(self.tmp_path.glob("serve-*.log")))

    def json_lines(self) -> list[dict]:
        lines = []
        for path in sorted(self.tmp_path.glob("serve-*.log")):
            for line in path.read_text().splitlines():
                if line.startswith("{"):
                    try:
                        lines.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
        return lines

    def cleanup(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def stack(scratch_database, tmp_path):
    stack = Stack(scratch_database, tmp_path)
    stack.run("-m", "choeur", "migrate", "--run-syncdb", "--no-input", "-v", "0")
    try:
        yield stack
    finally:
        stack.cleanup()


def _final(status: dict) -> bool:
    return bool(status["flows"]) and all(state in FINAL for state, _attempts in status["flows"].values())


def test_two_web_and_two_worker_processes_integrate_every_flow_exactly_once(stack):
    world = stack.scenario("setup", "8")
    stack.start()
    with ThreadPoolExecutor(max_workers=4) as pool:
        deposits = list(pool.map(lambda flow: stack.deposit(world["token"], flow), world["flows"]))
    assert [status for status, _numero, _rid in deposits] == [201] * 8
    stack.wait_for("les 8 flux intégrés", lambda: _final(stack.scenario("status")), timeout=180)

    status = stack.scenario("status")
    assert {numero for _s, numero, _rid in deposits} == set(status["flows"])
    assert all(state == "IN_INTEGRE" and attempts == 1 for state, attempts in status["flows"].values()), status
    assert status["invoices"] == {f"SRV-{index:03d}": 1 for index in range(1, 9)}
    assert status["flow_tasks"] == ["SUCCESSFUL"] * 8

    # Metrics: the database figures and the requests of both web processes, added up.
    code, body = stack.get("/metrics", {"Authorization": "Bearer jeton-metriques-de-test"})
    assert code == 200
    text = body.decode()
    assert 'choeur_flows{state="IN_INTEGRE"} 8.0' in text
    assert (
        'choeur_http_request_duration_seconds_count{method="POST",route="api/v1/flows/base64",status="201"} 8.0'
        in text
    )
    assert 'choeur_validation_duration_seconds_count{layer="total"} 8.0' in text
    assert stack.get("/metrics")[0] == 401

    assert stack.terminate() == 0
    # JSON logs: one line per request with its id; the worker's lines of the flow task carry the same id.
    lines = stack.json_lines()
    request_ids = {rid for _s, _n, rid in deposits}
    logged = {line["request_id"] for line in lines if line.get("route") == "api/v1/flows/base64"}
    assert logged == request_ids
    task_lines = [line for line in lines if line.get("logger") == "choeur.tasks" and "process_flow" in line["message"]]
    assert request_ids <= {line["request_id"] for line in task_lines}


def test_sigterm_during_a_flow_lets_the_worker_finish_it(stack):
    world = stack.scenario("setup", "1")
    # 5 s between the steps of the flow's processing: SIGTERM arrives in the middle.
    stack.start(CHOEUR_TEST_FLOW_STEP_DELAY="5")
    stack.deposit(world["token"], world["flows"][0])
    stack.wait_for("le flux en cours de traitement", lambda: stack.flow_states() == ["IN_EN_COURS_TRAITEMENT_CPP"])
    assert stack.terminate(timeout=60) == 0
    status = stack.scenario("status")
    assert list(status["flows"].values()) == [["IN_INTEGRE", 1]], stack.logs()
    assert status["flow_tasks"] == ["SUCCESSFUL"]


def test_a_worker_killed_past_the_grace_period_hands_its_task_back(stack):
    world = stack.scenario("setup", "1")
    stack.start(CHOEUR_TEST_FLOW_STEP_DELAY="8", CHOEUR_SHUTDOWN_GRACE_SECONDS="1", CHOEUR_FLOW_LEASE_SECONDS="2")
    stack.deposit(world["token"], world["flows"][0])
    stack.wait_for("le flux en cours de traitement", lambda: stack.flow_states() == ["IN_EN_COURS_TRAITEMENT_CPP"])
    stack.terminate(timeout=60)
    halfway = stack.scenario("status")
    assert list(halfway["flows"].values())[0][0] == "IN_EN_COURS_TRAITEMENT_CPP"
    assert halfway["flow_tasks"] == ["READY"]  # handed back, not left RUNNING forever

    # The next start runs it again: the flow's lease lets the new claim in once it has expired.
    stack.start(CHOEUR_FLOW_LEASE_SECONDS="2")
    stack.wait_for("le flux intégré", lambda: _final(stack.scenario("status")), timeout=180)
    final = stack.scenario("status")
    assert list(final["flows"].values())[0][0] == "IN_INTEGRE", stack.logs()
    assert final["invoices"] == {"SRV-001": 1}
    stack.terminate()
