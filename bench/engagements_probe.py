"""Measured by bench/engagements.py in a pytest child (it needs the test database and the factories): the
import of a CSV of engagements juridiques (first time, then the same file again), and the consumption of
every EJ of a buyer (the CSV export's read) over invoices that carry their numbers."""

from __future__ import annotations

import json
import os
import statistics
import time
from decimal import Decimal

import pytest
from django.db import connection, reset_queries

from choeur.directory.enums import EspaceCode
from choeur.directory.models import EngagementJuridique
from choeur.invoices import engagement_selectors as selectors
from choeur.invoices.engagements import engagement_import
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice
from tests.conftest import _fresh_cache, _media_root  # noqa: F401 - the suite's autouse fixtures
from tests.directory.factories import StructureFactory
from tests.invoices.factories import member_of

ROWS = int(os.environ.get("CHOEUR_BENCH_EJ_ROWS", "2000"))
INVOICES_PER_EJ = 2
ROUNDS = 5

pytestmark = pytest.mark.django_db


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def test_engagements():
    buyer = StructureFactory(public=True)
    supplier = StructureFactory()
    agent = member_of(buyer, EspaceCode.FACTURES_RECUES)
    lines = ["numero_engagement;siret_fournisseur;montant_ttc;date_notification"]
    lines += [f"BC-{i:06d};{supplier.identifier};{1000 + i},00;01/09/2026" for i in range(ROWS)]
    content = ("\n".join(lines) + "\n").encode()
    first_ms, report = _timed(lambda: engagement_import(by=agent, structure=buyer, name="ej.csv", content=content))
    assert len(report.created) == ROWS
    again = []
    for _ in range(ROUNDS):
        ms, report = _timed(lambda: engagement_import(by=agent, structure=buyer, name="ej.csv", content=content))
        assert len(report.unchanged) == ROWS
        again.append(ms)
    Invoice.objects.bulk_create(
        Invoice(
            supplier=supplier,
            recipient=buyer,
            number=f"F-{i:06d}-{k}",
            numero_engagement=f"BC-{i:06d}",
            status=InvoiceStatus.MISE_EN_PAIEMENT if k else InvoiceStatus.MISE_A_DISPOSITION,
            total_ttc=Decimal("100.00"),
        )
        for i in range(ROWS)
        for k in range(INVOICES_PER_EJ)
    )
    engagements = list(EngagementJuridique.objects.filter(structure=buyer))
    connection.force_debug_cursor = True
    reset_queries()
    selectors.engagement_consumptions(engagements)
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    consumption = sorted(_timed(lambda: selectors.engagement_consumptions(engagements))[0] for _ in range(ROUNDS))
    page = engagements[:25]
    page_times = sorted(_timed(lambda: selectors.engagement_consumptions(page))[0] for _ in range(ROUNDS * 4))
    print(
        "BENCH-RESULT "
        + json.dumps(
            {
                "rows": ROWS,
                "invoices": ROWS * INVOICES_PER_EJ,
                "import_first_ms": round(first_ms),
                "import_again_median_ms": round(statistics.median(again)),
                "consumption_all_median_ms": round(statistics.median(consumption)),
                "consumption_all_queries": queries,
                "consumption_page_median_ms": round(statistics.median(page_times), 1),
            }
        )
    )
