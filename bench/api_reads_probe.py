"""Measured by bench/api_reads.py in a pytest child (it needs the API test world and its fixtures): the
server-side time of the API reads, through Django's test client (no network, no server: what the
application itself costs per call, authentication, queries and serialisation included)."""

from __future__ import annotations

import json
import os
import statistics
import time

from django.db import connection, reset_queries

from tests.api import factures_world
from tests.api.conftest import frozen, world  # noqa: F401 - fixtures used by the probe
from tests.api.native_client import NativeClient
from tests.conftest import _fresh_cache, _media_root  # noqa: F401 - the suite's autouse fixtures

CALLS = int(os.environ.get("CHOEUR_BENCH_API_CALLS", "300"))
WARMUP = 30


def _measure(name, call) -> dict:
    for _ in range(WARMUP):
        response = call()
    assert response.status_code == 200, response.content
    connection.force_debug_cursor = True
    reset_queries()
    call()
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    times.sort()
    return {
        "name": name,
        "median_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
        "queries": queries,
    }


def test_api_reads(client, world, settings):  # noqa: F811 - `world` is the imported fixture
    # The rate limit would answer 429 (cheaply) to a burst of calls: what is measured is the read itself.
    settings.CHOEUR_API_RATE_LIMIT = ""
    factures_world.invoice_sent(world)
    factures_world.flow_deposited(world)
    numero_flux = next(iter(world.strings))
    headers = world.fournisseur.headers()
    native = NativeClient(client, world.fournisseur, name="bench")

    def cpro_call(path, body):
        data = json.dumps(body)
        return lambda: client.post(f"/cpro/{path}", data=data, content_type="application/json", headers=headers)

    invoice_id = world.refs["invoice:envoyee"]
    results = [
        _measure("cpro consulterCR", cpro_call("transverses/v1/consulterCR", {"numeroFluxDepot": numero_flux})),
        _measure(
            "cpro consulter/fournisseur",
            cpro_call("factures/v1/consulter/fournisseur", {"identifiantFactureCPP": invoice_id}),
        ),
        _measure("cpro rechercher/fournisseur", cpro_call("factures/v1/rechercher/fournisseur", {})),
        _measure("natif GET invoices/{id}", lambda: native.get(f"invoices/{invoice_id}")),
        _measure("natif GET invoices", lambda: native.get("invoices")),
    ]
    print("BENCH-RESULT " + json.dumps(results))
