"""Engagements juridiques: import of a CSV (first time, then the same file again: idempotent, nothing
written), and the consumption (invoiced, validated, paid) of every EJ of a buyer and of one page of 25, over
two invoices per EJ. Measured in a pytest child (bench/engagements_probe.py) on SQLite. No target was set by
the issue: the figures are recorded to see a regression."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.common import REPO, machine


def run() -> None:
    print("\n== Engagements juridiques : import et consommation ==")
    print(f"Machine : {machine()}")
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
            "bench/engagements_probe.py",
        ],
        cwd=REPO,
        env={**os.environ, "CHOEUR_DEBUG": "false"},
        capture_output=True,
        text=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            result = json.loads(line.removeprefix("BENCH-RESULT "))
            print(
                f"Import de {result['rows']} engagements (CSV) : {result['import_first_ms']} ms la première fois, "
                f"{result['import_again_median_ms']} ms (médiane) pour le même fichier de nouveau"
            )
            print(
                f"Consommation des {result['rows']} engagements sur {result['invoices']} factures : "
                f"{result['consumption_all_median_ms']} ms (médiane, {result['consumption_all_queries']} requête) ; "
                f"d'une page de 25 : {result['consumption_page_median_ms']} ms"
            )
            return
    print(f"Mesure impossible :\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


if __name__ == "__main__":
    run()
