"""Flows end to end: invoices integrated per second, deposit → `choeur db_worker` → IN_INTEGRE.

For each database (a SQLite file; PostgreSQL in a scratch database `choeur_bench` on
CHOEUR_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test) and for 1 then 2 worker
processes (the real django-tasks-db worker, as in production): deposit a batch of flows of several valid
invoices each, wait until every flow is final, and divide the invoices by the elapsed time (first deposit →
last flow final). Medians over the rounds are printed, with a per-invoice breakdown measured in one process
(validation engine; invoice creation and sending by the invoice domain) to show where the time goes.

Sizes: CHOEUR_BENCH_FLOWS flows of CHOEUR_BENCH_INVOICES invoices per round, CHOEUR_BENCH_ROUNDS rounds
(10 × 5 by default: a round of 20 invoices lasted under half a second, too short to be measured steadily).
The workers keep their PostgreSQL connection (CONN_MAX_AGE 60 s, the production default of
config/settings.py); the notifications and webhooks of the status changes (priority −10) and the PDF
rendering (−20) wait behind the flows and are not part of the figure.
Target: ≥ 150 invoices/s on PostgreSQL with 2 workers (was ≥ 50 for the first flows issue).

Each measurement runs in a child process (`python -m bench.flows child <DATABASE_URL>`) configured with
tests/flows/worker_settings.py (django-tasks-db backend, tables built from the models).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import REPO, drop_postgres_scratch, machine, postgres_scratch, run_child

SCRATCH_DB = "choeur_bench"
FLOWS = int(os.environ.get("CHOEUR_BENCH_FLOWS", "10"))
INVOICES = int(os.environ.get("CHOEUR_BENCH_INVOICES", "5"))
ROUNDS = int(os.environ.get("CHOEUR_BENCH_ROUNDS", "3"))
WORKER_COUNTS = (1, 2)
TARGET = 150.0  # issue « Every invoice the norm accepts… »: Chorus Pro's national peak on one small machine
FINAL = ("IN_INTEGRE", "IN_INTEGRE_PARTIEL", "IN_REJETE", "IN_INCIDENTE")


# --- Parent: one child process per database ----------------------------------------------------------------


def run() -> None:
    print("\n== Flux de bout en bout (dépôt → worker → IN_INTEGRE) : factures intégrées par seconde ==")
    print(f"Machine : {machine()}")
    print(f"Lot par tour : {FLOWS} flux × {INVOICES} factures UBL valides ; {ROUNDS} tours ; médianes.")
    print(
        "Workers django-tasks-db réels, connexion PostgreSQL conservée (CONN_MAX_AGE 60 s, défaut de production) ; "
        "notifications, webhooks et rendu des PDF passent après les flux (priorités −10 et −20), hors mesure."
    )
    results = {}
    with tempfile.TemporaryDirectory(prefix="choeur-bench-") as tmp:
        results["SQLite"] = run_child(
            "bench.flows", f"sqlite:///{tmp}/bench.sqlite3", f"{tmp}/var-sqlite", what="des flux", echo=True
        )
        postgres = postgres_scratch(SCRATCH_DB)
        if postgres:
            try:
                results["PostgreSQL"] = run_child("bench.flows", postgres, f"{tmp}/var-pg", what="des flux", echo=True)
            finally:
                drop_postgres_scratch(SCRATCH_DB)
    for database, result in results.items():
        print(f"\n{database} :")
        breakdown = result["breakdown"]
        print(
            f"  en un seul processus, par facture : validation {breakdown['validation_ms']:.1f} ms, "
            f"création et envoi de la facture {breakdown['invoice_ms']:.1f} ms "
            f"(dont rendu des PDF Factur-X et certificat {breakdown['pdf_ms']:.1f} ms), "
            f"{breakdown.get('queries', 0):.1f} requêtes SQL par facture (hors lot de flux)"
        )
        for workers, measure in result["workers"].items():
            rates = measure["rates"]
            print(
                f"  {workers} worker(s) : {statistics.median(rates):.1f} factures/s "
                f"(min {min(rates):.1f}, max {max(rates):.1f}) — "
                f"{statistics.median(measure['flows_per_s']):.2f} flux/s"
            )
            if measure.get("side_effects"):
                print(
                    f"    puis {measure['side_effects']} changements de statut en attente (notifications, "
                    f"événements, webhooks) traités à {measure['side_effects_per_s']:.0f}/s"
                )
    postgres_two = results.get("PostgreSQL", {}).get("workers", {}).get("2")
    if postgres_two:
        rate = statistics.median(postgres_two["rates"])
        verdict = "atteinte" if rate >= TARGET else "NON atteinte"
        print(f"\nCible ≥ {TARGET:.0f} factures/s sur PostgreSQL avec 2 workers : {verdict} ({rate:.1f}).")


# --- Child: measures against one database ------------------------------------------------------------------


def _start_workers(count: int, tag: str) -> list[subprocess.Popen]:
    workers = []
    for index in range(count):
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "choeur", "db_worker", "--queue-name", "*", "--no-reload"]
                + ["--interval", "0.05", "--no-startup-delay", "--worker-id", f"bench-{tag}-{index}"],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return workers


def _stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _deposit_batch(supplier, buyer, *, prefix: str, flows: int, invoices: int) -> list[int]:
    from django.db import transaction

    from choeur.flows.enums import Channel
    from choeur.flows.services import flow_deposit
    from tests.flows.fixtures import invoice_xml, zip_of

    ids = []
    for flow_index in range(flows):
        members = {
            f"f{number}.xml": invoice_xml(
                supplier_siret=supplier.identifier,
                buyer_siret=buyer.identifier,
                number=f"{prefix}-{flow_index}-{number}",
            )
            for number in range(invoices)
        }
        with transaction.atomic():
            flow, _ = flow_deposit(
                structure=supplier, content=zip_of(members), filename=f"{prefix}-{flow_index}.zip", channel=Channel.API
            )
        ids.append(flow.pk)
    return ids


def _wait_final(ids: list[int], timeout: float = 1800) -> float:
    from choeur.flows.models import Flow

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Flow.objects.filter(pk__in=ids, state__in=FINAL).count() == len(ids):
            return time.perf_counter()
        time.sleep(0.05)
    raise RuntimeError("Les flux ne sont pas tous traités dans le délai imparti.")


def _breakdown(supplier, buyer) -> dict:
    """Per-invoice costs in this process: the validation engine, then the invoice domain's creation and
    sending (checks, amounts, certificate data, routing), and the share of the latter spent rendering PDFs
    (measured under the profiler on other invoices, applied to the plain timing; it should be nil since the
    PDFs of a structured deposit are rendered after the commit, by a low-priority task)."""
    import cProfile
    import pstats

    from choeur.flows.validation import validate_bytes
    from choeur.flows.worker import document_view, invoice_input
    from choeur.invoices.services import invoice_create_from_data
    from tests.flows.fixtures import invoice_xml

    def create(samples: list[bytes]) -> None:
        for index, sample in enumerate(samples):
            document = document_view(validate_bytes(sample)[0], index, content=sample)
            # As the worker does: the XML is the deposited document (its PDFs are rendered after the commit).
            invoice_create_from_data(
                supplier=supplier,
                by=None,
                data=invoice_input(document.data),
                structured_xml=sample,
                mode_depot="UPLOAD_API",
                by_label="banc",
            )

    def samples(prefix: str, count: int = 6) -> list[bytes]:
        return [
            invoice_xml(supplier_siret=supplier.identifier, buyer_siret=buyer.identifier, number=f"{prefix}-{i}")
            for i in range(count)
        ]

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    create(samples("CHAUFFE"))  # compile the rule sets, load WeasyPrint's fonts
    with CaptureQueriesContext(connection) as captured:
        create(samples("REQUETES", 4))
    queries = len(captured.captured_queries) / 4
    plain = samples("VALIDATION")
    started = time.perf_counter()
    for sample in plain:
        validate_bytes(sample)
    validation_ms = (time.perf_counter() - started) * 1000 / len(plain)
    started = time.perf_counter()
    create(samples("CREATION"))
    total_ms = (time.perf_counter() - started) * 1000 / 6
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    create(samples("PROFIL", 3))
    profile.disable()
    profiled = time.perf_counter() - started
    stats = pstats.Stats(profile).stats
    rendering = sum(entry[3] for key, entry in stats.items() if key[2] == "render_html_pdf")
    return {
        "validation_ms": validation_ms,
        "invoice_ms": total_ms - validation_ms,
        "pdf_ms": (total_ms - validation_ms) * min(1.0, rendering / profiled),
        "queries": queries,
    }


def _drain_side_effects(timeout: float = 600) -> dict:
    """Once the flows are in: how fast the same workers catch up with the status changes' side effects
    (notifications, API events, webhooks) that waited behind them."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path__in=("choeur.invoices.tasks.invoice_status_changed", "choeur.invoices.tasks.invoice_status_changes"),
        status__in=("READY", "RUNNING"),
    )
    # A flow's batch enqueues one task for all its status changes (core.tasks.tasks_batched): count the changes.
    count = 0
    for task_path, args_kwargs in waiting.values_list("task_path", "args_kwargs"):
        args = (args_kwargs or {}).get("args") or [[]]
        count += len(args[0]) if task_path.endswith("invoice_status_changes") else 1
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while waiting.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("Les effets des changements de statut ne sont pas tous traités dans le délai.")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    return {"side_effects": count, "side_effects_per_s": count / elapsed if elapsed and count else 0.0}


def child(database_url: str) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    from tests.flows.factories import buyer_structure, supplier_structure

    supplier = supplier_structure(raison_sociale="Entreprise du banc d'essai")
    buyer = buyer_structure(raison_sociale="Commune du banc d'essai")
    result = {"breakdown": _breakdown(supplier, buyer), "workers": {}}
    for count in WORKER_COUNTS:
        workers = _start_workers(count, f"w{count}")
        try:
            # Warm-up: each worker compiles the rule sets and loads WeasyPrint once; not measured.
            _wait_final(_deposit_batch(supplier, buyer, prefix=f"CHAUFFE{count}", flows=count * 2, invoices=1))
            rates, flows_per_s = [], []
            for round_index in range(ROUNDS):
                started = time.perf_counter()
                ids = _deposit_batch(supplier, buyer, prefix=f"W{count}R{round_index}", flows=FLOWS, invoices=INVOICES)
                elapsed = _wait_final(ids) - started
                from choeur.flows.models import Flow

                states = set(Flow.objects.filter(pk__in=ids).values_list("state", flat=True))
                if states != {"IN_INTEGRE"}:
                    raise RuntimeError(f"Flux non intégrés pendant la mesure : {states}")
                rates.append(FLOWS * INVOICES / elapsed)
                flows_per_s.append(FLOWS / elapsed)
            result["workers"][str(count)] = {"rates": rates, "flows_per_s": flows_per_s, **_drain_side_effects()}
        finally:
            _stop_workers(workers)
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "child":
        child(sys.argv[2])
    else:
        run()
