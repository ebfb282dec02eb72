"""Production servers side by side: granian, gunicorn and Django's runserver, each serving the same PostgreSQL
database, loaded by wrk on loopback (bounded: CHOEUR_BENCH_SERVER_SECONDS per endpoint and server).

Endpoints: `/healthz` (the server and middleware alone), the portal (a supplier's home page, logged in), and
the API status reads — `consulterCR`,
`consulter/fournisseur` (/cpro/) and `GET /api/v1/invoices/{id}` (native). Target (issue 15): the API reads at
≥ 1 000 requêtes/s with p99 < 50 ms. The load generator shares the machine's cores with the server: the
figures are a floor for a server with its own cores.

Each server runs the same layout as `choeur serve`: 2 processes with CHOEUR_WEB_THREADS threads each
(runserver: one threaded process, as `make run`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from base64 import b64encode
from pathlib import Path

from bench.common import REPO, drop_postgres_scratch, machine, postgres_scratch

TARGET_RPS = 1000
TARGET_P99_MS = 50.0
SECONDS = int(os.environ.get("CHOEUR_BENCH_SERVER_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("CHOEUR_BENCH_SERVER_CONNECTIONS", "16"))
PORT = int(os.environ.get("CHOEUR_BENCH_SERVER_PORT", "8111"))
WORKERS = 2
THREADS = int(os.environ.get("CHOEUR_WEB_THREADS", "4"))
DATABASE = "bench_servers"

LUA = """
wrk.method = "{method}"
wrk.body = {body}
{headers}
"""


def _server_command(name: str) -> list[str]:
    from choeur.core.serving import web_command

    if name == "runserver":
        return [sys.executable, "-m", "choeur", "runserver", f"127.0.0.1:{PORT}", "--noreload", "--skip-checks"]
    return web_command(name, host="127.0.0.1", port=PORT, workers=WORKERS, threads=THREADS, grace=5)


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"le serveur s'est arrêté (code {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("le serveur ne répond pas")


def _token(base: str, world: dict) -> str:
    body = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": world["client_id"],
            "client_secret": world["client_secret"],
            "scope": "openid invoices:read",
        }
    ).encode()
    with urllib.request.urlopen(f"{base}/api/oauth/token", data=body, timeout=60) as response:
        return json.loads(response.read())["access_token"]


def _endpoints(world: dict, token: str) -> list[tuple[str, str, str, dict, str | None]]:
    account = b64encode(f"{world['cpro_login']}:{world['cpro_password']}".encode()).decode()
    cpro = {"Authorization": f"Bearer {token}", "cpro-account": account, "Content-Type": "application/json"}
    return [
        # The server's own cost: the whole middleware stack, no database.
        ("sonde /healthz", "GET", "/healthz", {}, None),
        ("portail : accueil connecté", "GET", "/", {"Cookie": f"sessionid={world['session']}"}, None),
        (
            "cpro consulterCR",
            "POST",
            "/cpro/transverses/v1/consulterCR",
            cpro,
            json.dumps({"numeroFluxDepot": world["numero_flux"]}),
        ),
        (
            "cpro consulter/fournisseur",
            "POST",
            "/cpro/factures/v1/consulter/fournisseur",
            cpro,
            json.dumps({"identifiantFactureCPP": world["invoice_id"]}),
        ),
        (
            "natif GET invoices/{id}",
            "GET",
            f"/api/v1/invoices/{world['invoice_id']}",
            {"Authorization": f"Bearer {token}"},
            None,
        ),
    ]


def _check(base: str, method: str, path: str, headers: dict, body: str | None) -> None:
    request = urllib.request.Request(base + path, data=body.encode() if body else None, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:  # the first call also warms the process up
        if response.status != 200:
            raise RuntimeError(f"{path} : {response.status}")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def _wrk(base: str, method: str, path: str, headers: dict, body: str | None, scratch: Path) -> dict:
    script = scratch / "request.lua"
    lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    script.write_text(LUA.format(method=method, body=json.dumps(body) if body else "nil", headers=lines))
    done = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", str(script), base + path],
        capture_output=True,
        text=True,
        timeout=SECONDS + 30,
    )
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
        "errors": int(errors.group(1)) if errors else 0,
    }


def _measure_server(name: str, env: dict, world: dict, scratch: Path) -> dict[str, dict]:
    base = f"http://127.0.0.1:{PORT}"
    process = subprocess.Popen(
        _server_command(name), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_ready(f"{base}/healthz", process)
        token = _token(base, world)
        results = {}
        for label, method, path, headers, body in _endpoints(world, token):
            _check(base, method, path, headers, body)
            results[label] = _wrk(base, method, path, headers, body, scratch)
        return results
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run() -> None:
    print("\n== Serveurs de production : granian, gunicorn, runserver (wrk sur la boucle locale) ==")
    print(f"Machine : {machine()}")
    print(
        f"Cible : lectures d'API ≥ {TARGET_RPS} requêtes/s à p99 < {TARGET_P99_MS:.0f} ms ; {CONNECTIONS} connexions, "
        f"{SECONDS} s par point ; {WORKERS} processus × {THREADS} fils (runserver : 1 processus)."
    )
    if not shutil.which("wrk"):
        print("wrk absent (apt-get install wrk) : mesure ignorée.")
        return
    url = postgres_scratch(DATABASE)
    if url is None:
        return
    # Kept between runs: collectstatic then only fingerprints and compresses what changed.
    scratch = REPO / "var" / "bench-servers"
    shutil.rmtree(scratch / "files", ignore_errors=True)
    scratch.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "CHOEUR_VAR_DIR": str(scratch),
        "CHOEUR_DEBUG": "false",
        "CHOEUR_SECRET_KEY": "banc-" + os.urandom(32).hex(),
        "CHOEUR_API_RATE_LIMIT": "",
        "CHOEUR_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    try:
        setup = subprocess.run(
            [sys.executable, "-m", "bench.servers_setup"], cwd=REPO, env=env, capture_output=True, text=True
        )
        if setup.returncode != 0:
            print(f"Préparation impossible :\n{setup.stderr[-3000:]}")
            return
        world = json.loads(setup.stdout.strip().splitlines()[-1])
        table: dict[str, dict[str, dict]] = {}
        for name in ("granian", "gunicorn", "runserver"):
            try:
                table[name] = _measure_server(name, env, world, scratch)
            except Exception as exc:  # one server failing must not hide the others' figures
                print(f"{name} : mesure impossible ({exc})")
        _print(table)
        print("BENCH-SERVERS " + json.dumps(table))
    finally:
        shutil.rmtree(scratch / "files", ignore_errors=True)
        drop_postgres_scratch(DATABASE)


def _print(table: dict[str, dict[str, dict]]) -> None:
    servers = list(table)
    if not servers:
        return
    labels = list(next(iter(table.values())))
    header = f"{'point de mesure':<30}" + "".join(f"{name:>28}" for name in servers)
    print(header)
    print(f"{'':<30}" + "".join(f"{'req/s   p50   p99 (ms)':>28}" for _ in servers))
    for label in labels:
        cells = []
        for name in servers:
            row = table[name].get(label)
            if row is None:
                cells.append(f"{'—':>28}")
                continue
            errors = f" !{row['errors']}" if row["errors"] else ""
            cells.append(f"{row['rps']:>10.0f} {row['p50_ms']:>6.1f} {row['p99_ms']:>6.1f}{errors:>4}")
        print(f"{label:<30}" + "".join(f"{cell:>28}" for cell in cells))
    for name in servers:
        api = [row for label, row in table[name].items() if label.startswith(("cpro", "natif"))]
        ok = all(row["rps"] >= TARGET_RPS and row["p99_ms"] < TARGET_P99_MS for row in api)
        print(f"{name} : lectures d'API {'dans la cible' if ok else 'hors cible'}")


if __name__ == "__main__":
    run()
