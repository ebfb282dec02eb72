"""Reads of both APIs: server-side time per call of `consulterCR`, `consulter/fournisseur`,
`rechercher/fournisseur` (/cpro/) and `GET /api/v1/invoices/{id}`, `GET /api/v1/invoices` (native), side by
side, with the queries each one runs.

Measured in-process with Django's test client (bench/api_reads_probe.py, run by pytest for the API test
world): this is the application's own cost, not a throughput under a production server (that needs the
production-serving issue's server and a load generator). Target (issue 17): ≤ 2 ms of server time per read.
Run on SQLite and, when it answers, on PostgreSQL (CHOEUR_BENCH_POSTGRES_URL).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.common import POSTGRES_URL, REPO, machine

TARGET_MS = 2.0


def _child(database_url: str | None) -> list[dict] | None:
    env = {**os.environ, "CHOEUR_DEBUG": "false"}
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
            "bench/api_reads_probe.py",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line.removeprefix("BENCH-RESULT "))
    print(f"Mesure impossible :\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return None


def _postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception:  # absent server: measured on SQLite only, said so
        return False
    return True


def run() -> None:
    print("\n== Lectures des API (temps serveur par appel, client de test Django) ==")
    print(f"Machine : {machine()}")
    print(f"Cible : ≤ {TARGET_MS:.0f} ms par lecture (médiane).")
    databases = [("SQLite", None)]
    if _postgres_reachable():
        databases.append(("PostgreSQL", POSTGRES_URL))
    else:
        print(f"PostgreSQL injoignable sur {POSTGRES_URL} : mesure sur SQLite seulement.")
    for label, url in databases:
        results = _child(url)
        if not results:
            continue
        print(f"-- {label}")
        for row in results:
            verdict = "OK" if row["median_ms"] <= TARGET_MS else "au-dessus de la cible"
            print(
                f"   {row['name']:<30} médiane {row['median_ms']:>6.2f} ms   p99 {row['p99_ms']:>6.2f} ms   "
                f"{row['queries']:>2} requêtes SQL   {verdict}"
            )


if __name__ == "__main__":
    run()
