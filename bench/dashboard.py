"""Dashboards at scale: « Factures émises » and « Factures reçues » with 100,000 invoices.

A generator lays down CHOEUR_BENCH_DASHBOARD_INVOICES invoices (100,000 by default) with `bulk_create` — 40
suppliers, 10 public buyers with 5 services each, statuses spread as in production (four in ten paid,
returns with coded reasons and their status changes) over 24 months. The measured people are the largest
buyer's clerk (about 40 % of the invoices) and the largest supplier's user (about 20 %); one buyer does not
report « mise en paiement », so the supplier-side status rewrite is exercised.

For each filter of each dashboard we time what one page view asks the database: the count, the first page
of 20 rows (sorted), and the counts by status (facets). Median of ROUNDS runs after a warm-up, on SQLite
(a file) and on PostgreSQL (scratch database `choeur_bench_dashboard` on CHOEUR_BENCH_POSTGRES_URL).
Target (lifecycle issue): each filter < 300 ms at the median.

Each database is measured in a child process (`python -m bench.dashboard child <DATABASE_URL>`) configured
with tests/flows/worker_settings.py (tables built from the models, no migrations).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time

from bench.common import drop_postgres_scratch, machine, postgres_scratch, run_child

SCRATCH_DB = "choeur_bench_dashboard"
INVOICES = int(os.environ.get("CHOEUR_BENCH_DASHBOARD_INVOICES", "100000"))
ROUNDS = int(os.environ.get("CHOEUR_BENCH_ROUNDS", "7"))
TARGET_MS = 300.0
SUPPLIERS = 40
BUYERS = 10
SERVICES_PER_BUYER = 5
BATCH = 5000

# Status mix of sent invoices (weights), close to what a mature platform holds.
STATUS_WEIGHTS = {
    "MISE_EN_PAIEMENT": 40,
    "MISE_A_DISPOSITION": 18,
    "SERVICE_FAIT": 9,
    "MANDATEE": 9,
    "MISE_A_DISPOSITION_COMPTABLE": 3,
    "COMPTABILISEE": 5,
    "COMPLETEE": 2,
    "SUSPENDUE": 3,
    "A_RECYCLER": 2,
    "REJETEE": 5,
    "BROUILLON": 3,
    "A_VALIDER_1": 1,
}
# Indexes the bench proposes (not in the models yet): they let the default sorts read the newest rows of one
# structure straight from an index instead of sorting its whole list. Measured with and without.
PROPOSED_INDEXES = {
    "invoices_supplier_created": ("supplier_id", "created_at"),
    "invoices_recipient_deposited": ("recipient_id", "deposited_at"),
}
RETURN_TRANSITIONS = {"REJETEE": "rejeter", "SUSPENDUE": "suspendre", "A_RECYCLER": "a_recycler"}


# --- Parent ---------------------------------------------------------------------------------------------


def run() -> None:
    print(
        f"\n== Tableaux de bord « Factures émises » / « Factures reçues » avec {INVOICES:,} factures ==".replace(
            ",", " "
        )
    )

    print(f"Machine : {machine()}")
    print(
        f"Par filtre : comptage + première page de 20 lignes triées + comptes par statut ; médiane de {ROUNDS} "
        f"mesures après échauffement. Cible : < {TARGET_MS:.0f} ms."
    )
    results = {}
    with tempfile.TemporaryDirectory(prefix="choeur-bench-dashboard-") as tmp:
        results["SQLite"] = run_child(
            "bench.dashboard", f"sqlite:///{tmp}/bench.sqlite3", f"{tmp}/var-sqlite", what="des tableaux de bord"
        )
        postgres = postgres_scratch(SCRATCH_DB)
        if postgres:
            try:
                results["PostgreSQL"] = run_child(
                    "bench.dashboard", postgres, f"{tmp}/var-pg", what="des tableaux de bord"
                )
            finally:
                drop_postgres_scratch(SCRATCH_DB)
    worst = {"current": 0.0, "indexed": 0.0}
    for database, result in results.items():
        line = (
            f"\n{database} : génération de {result['invoices']:,} factures en {result['generate_s']:.1f} s ; "
            f"périmètre mesuré : {result['issued_scope']:,} factures émises, {result['received_scope']:,} reçues"
        )
        print(line.replace(",", " "))
        print(f"  {'':<28} {'schéma actuel':^27} {'avec les index proposés':^27}")
        print(f"  {'Filtre (médiane, ms)':<28} {'émises':>13} {'reçues':>13} {'émises':>13} {'reçues':>13}")
        for name, sides in result["filters"].items():
            cells = []
            for measured, key in ((sides, "current"), (result["filters_indexed"][name], "indexed")):
                for side in ("emises", "recues"):
                    value = measured.get(side)
                    cells.append(f"{value:13.1f}" if value is not None else f"{'—':>13}")
                    worst[key] = max(worst[key], value or 0.0)
            print(f"  {name:<28} {' '.join(cells)}")
        for name, value in result["other"].items():
            print(f"  {name:<28} {value:12.1f} (hors cible, pour information)")
    for key, label in (("current", "schéma actuel"), ("indexed", "avec les index proposés")):
        verdict = "atteinte" if worst[key] < TARGET_MS else "NON atteinte"
        print(f"Cible < {TARGET_MS:.0f} ms par filtre, {label} : {verdict} (pire médiane {worst[key]:.1f} ms).")
    indexes = ", ".join(f"{name} ({', '.join(columns)})" for name, columns in PROPOSED_INDEXES.items())
    print(f"Index proposés sur invoices_invoice : {indexes}.")


# --- Child: generate, then measure ------------------------------------------------------------------------


def _structures():
    from choeur.directory.enums import IdentifierType, PublicCategory, StructureKind
    from choeur.directory.identifiers import make_siret
    from choeur.directory.models import Service, Structure

    suppliers = Structure.objects.bulk_create(
        Structure(
            identifier_type=IdentifierType.SIRET,
            identifier=make_siret(f"{70000000 + i:08d}", "0001"),
            kind=StructureKind.PRIVEE,
            raison_sociale=f"Entreprise du banc {i:02d}",
        )
        for i in range(SUPPLIERS)
    )
    buyers = Structure.objects.bulk_create(
        Structure(
            identifier_type=IdentifierType.SIRET,
            identifier=make_siret(f"{21000000 + i:08d}", "0001"),
            kind=StructureKind.PUBLIQUE,
            public_category=PublicCategory.ETABLISSEMENT_SANTE if i == 2 else PublicCategory.COLLECTIVITE,
            raison_sociale=f"Commune du banc {i:02d}",
            # One buyer keeps « mise en paiement » from its suppliers.
            mise_en_paiement_non_remontee=(i == 1),
        )
        for i in range(BUYERS)
    )
    services = Service.objects.bulk_create(
        Service(structure=buyer, code=f"SERV_{k}", libelle=f"Service {k} de {buyer.raison_sociale}")
        for buyer in buyers
        for k in range(SERVICES_PER_BUYER)
    )
    by_buyer: dict[int, list] = {}
    for service in services:
        by_buyer.setdefault(service.structure_id, []).append(service)
    return suppliers, buyers, by_buyer


def _person(structure, espace: str, email: str):
    from choeur.accounts.models import User
    from choeur.directory.enums import RattachementStatus, Role
    from choeur.directory.models import Rattachement, StructureEspace

    user = User.objects.create_user(email=email, password="banc-essai-2026", is_active=True)
    StructureEspace.objects.get_or_create(structure=structure, code=espace, defaults={"is_open": True})
    Rattachement.objects.create(
        user=user, structure=structure, role=Role.GESTIONNAIRE_PRINCIPAL, status=RattachementStatus.VALIDEE
    )
    return user


def _raw_insert(model, rows: list[dict]) -> None:
    """INSERT many rows with `executemany`, below the ORM: `bulk_create` spends ~1 ms per invoice building
    its SQL, which is most of the generation time at 100,000 rows. Columns absent from a row take the field's
    default, prepared once."""
    from django.db import connection
    from django.utils import timezone

    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in rows[0])]
    now = timezone.now()
    constants = {}
    for field in fields:
        default = now if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) else None
        default = default if default is not None else field.get_default()
        constants[field.attname] = field.get_db_prep_save(default, connection)
    slow = {f.attname: f for f in fields if f.get_internal_type() in ("DecimalField", "DateField", "DateTimeField")}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    names = [f.attname for f in fields]

    def value(row, name):
        if name not in row:
            return constants[name]
        raw = row[name]
        field = slow.get(name)
        return field.get_db_prep_save(raw, connection) if field is not None and raw is not None else raw

    with connection.cursor() as cursor:
        cursor.executemany(sql, [tuple(value(row, name) for name in names) for row in rows])


def generate(count: int) -> dict:
    """Lay down `count` invoices and the status changes the dashboards and statistics read."""
    import datetime
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from choeur.directory.enums import EspaceCode
    from choeur.invoices.enums import Cadre, Channel
    from choeur.invoices.models import Invoice, InvoiceStatusChange

    rng = random.Random(20260101)
    suppliers, buyers, services = _structures()
    seller = _person(suppliers[0], EspaceCode.FACTURES_EMISES, "fournisseur@banc.example")
    clerk = _person(buyers[0], EspaceCode.FACTURES_RECUES, "acheteur@banc.example")
    # Skewed on purpose: the measured supplier issues ~20 % of everything, the measured buyer receives ~40 %.
    supplier_weights = [20] + [80 / (SUPPLIERS - 1)] * (SUPPLIERS - 1)
    buyer_weights = [40] + [60 / (BUYERS - 1)] * (BUYERS - 1)
    statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    motifs = {
        "rejeter": ["ERREUR_MONTANT", "ERREUR_TVA", "DOUBLE_FACTURE", "PRESTATION_NON_CONFORME"],
        "suspendre": ["PIECE_JUSTIFICATIVE_MANQUANTE", "BON_DE_LIVRAISON_MANQUANT"],
        "a_recycler": ["ERREUR_CODE_SERVICE", "ERREUR_ENGAGEMENT"],
    }
    cadres = [Cadre.A1.value] * 90 + [Cadre.A2.value] * 4 + [Cadre.A9.value] * 6
    service_ids = {buyer.pk: [s.pk for s in services[buyer.pk]] for buyer in buyers}
    now = timezone.now()
    sequences = [0] * SUPPLIERS
    next_id = (Invoice.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    started = time.perf_counter()
    created = 0
    while created < count:
        size = min(BATCH, count - created)
        invoices, changes = [], []
        for _ in range(size):
            s_index = rng.choices(range(SUPPLIERS), supplier_weights)[0]
            buyer = buyers[rng.choices(range(BUYERS), buyer_weights)[0]]
            status = rng.choices(statuses, weights)[0]
            sequences[s_index] += 1
            deposited = now - datetime.timedelta(days=rng.uniform(0, 730))
            changed = deposited + datetime.timedelta(days=rng.randint(0, 60))
            ttc = Decimal(rng.randint(1_000, 5_000_000)) / 100
            ht = (ttc / Decimal("1.2")).quantize(Decimal("0.01"))
            draft = status == "BROUILLON"
            invoice_id = next_id
            next_id += 1
            invoices.append(
                {
                    "id": invoice_id,
                    "supplier_id": suppliers[s_index].pk,
                    "recipient_id": buyer.pk,
                    "recipient_service_id": rng.choice(service_ids[buyer.pk]) if rng.random() < 0.8 else None,
                    "number": f"B{s_index:02d}-{sequences[s_index]:07d}",
                    "invoice_date": (deposited - datetime.timedelta(days=rng.randint(0, 10))).date(),
                    "cadre": rng.choice(cadres),
                    "numero_engagement": f"EJ{rng.randint(1, 99999):05d}" if rng.random() < 0.5 else "",
                    "numero_marche": f"M-{rng.randint(1, 500):04d}",
                    "total_ht": ht,
                    "total_tva": ttc - ht,
                    "total_ttc": ttc,
                    "montant_a_payer": ttc,
                    "status": status,
                    "status_changed_at": changed,
                    "deposited_at": None if draft else deposited,
                    "numero_flux_depot": f"CPP-FLUX-{rng.randint(1, 9_999_999):07d}" if rng.random() < 0.3 else "",
                    "downloaded_by_recipient": (not draft) and rng.random() < 0.7,
                    "created_at": deposited,
                    "updated_at": changed,
                }
            )
            if status == "MISE_EN_PAIEMENT":
                changes.append(
                    {
                        "invoice_id": invoice_id,
                        "from_status": "COMPTABILISEE",
                        "to_status": status,
                        "transition": "mettre_en_paiement",
                        "channel": Channel.SYSTEME.value,
                        "actor_role": "SYSTEME",
                        "created_at": deposited + datetime.timedelta(days=rng.randint(3, 75)),
                    }
                )
            elif status in RETURN_TRANSITIONS:
                transition = RETURN_TRANSITIONS[status]
                changes.append(
                    {
                        "invoice_id": invoice_id,
                        "from_status": "MISE_A_DISPOSITION",
                        "to_status": status,
                        "transition": transition,
                        "channel": Channel.PORTAIL.value,
                        "actor_role": "DESTINATAIRE",
                        "motif": rng.choice(motifs[transition]),
                        "comment": "Généré pour le banc d'essai.",
                        "created_at": changed,
                    }
                )
        with transaction.atomic():
            _raw_insert(Invoice, invoices)
            _raw_insert(InvoiceStatusChange, changes)
        created += size
    _reset_sequence(Invoice)
    return {"seller": seller, "clerk": clerk, "generate_s": time.perf_counter() - started, "buyers": buyers}


def _reset_sequence(model) -> None:
    """Explicit ids leave PostgreSQL's sequence behind; put it past them (SQLite needs nothing)."""
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), [model])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _add_proposed_indexes() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name, columns in PROPOSED_INDEXES.items():
            cursor.execute(f"CREATE INDEX {name} ON invoices_invoice ({', '.join(columns)})")
    _analyze()


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def scenarios(side: str, buyers) -> dict:
    """The filters measured, as the dashboard form would pass them."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    today = timezone.localdate()
    counterpart = "banc 03" if side == "emises" else "banc 05"
    cases = {
        "sans filtre": {},
        "statut": {"statuses": ("MISE_A_DISPOSITION",)},
        "dates de dépôt (3 mois)": {
            "date_from": today - datetime.timedelta(days=150),
            "date_to": today - datetime.timedelta(days=60),
        },
        "date de facture (1 mois)": {
            "date_field": "facture",
            "date_from": today - datetime.timedelta(days=60),
            "date_to": today - datetime.timedelta(days=30),
        },
        "montants (1 000–5 000 €)": {"amount_min": Decimal("1000"), "amount_max": Decimal("5000")},
        "contrepartie (nom)": {"counterpart": counterpart},
        "service": {"service": "SERV_2"},
        "cadre": {"cadre": "A9"},
        "numéro (partiel)": {"number": "-00012"},
        "numéro de flux": {"flow_number": "FLUX-00042"},
        "recherche libre": {"q": "EJ0421"},
        "tri par montant": {"sort": "-montant"},
        "tri par contrepartie": {"sort": "contrepartie"},
        "filtres combinés": {
            "statuses": ("MISE_EN_PAIEMENT",),
            "amount_min": Decimal("500"),
            "date_from": today - datetime.timedelta(days=365),
            "sort": "montant",
        },
    }
    if side == "recues":
        cases["non téléchargées"] = {"downloaded": False}
    return cases


def _page_view(user, side: str, filters) -> None:
    """What one dashboard page asks the database (tracking_views.views._dashboard)."""
    from dataclasses import replace

    from django.core.paginator import Paginator

    from choeur.invoices import search

    base = search.dashboard_queryset(user=user, side=side)
    listed = search.invoices_sort(
        search.invoices_filter(base, side=side, filters=filters), side=side, sort=filters.sort
    )
    counts = search.status_counts(
        search.invoices_filter(base, side=side, filters=replace(filters, statuses=())), side=side
    )
    total = sum(c.count for c in counts) if not filters.statuses else None
    page = Paginator(search.InvoicePage(listed, side=side, total=total), 20).get_page(1)
    rows = list(page)
    assert page.paginator.count >= len(rows)


def _median_ms(function, rounds: int = ROUNDS) -> float:
    function()  # warm-up: caches, query plans
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def child(database_url: str) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    from choeur.invoices import search, stats
    from choeur.invoices.search import InvoiceFilters

    generated = generate(INVOICES)
    _analyze()
    seller, clerk = generated["seller"], generated["clerk"]
    users = {"emises": seller, "recues": clerk}

    def measure_filters() -> dict[str, dict[str, float]]:
        measured: dict[str, dict[str, float]] = {}
        for side, user in users.items():
            for name, values in scenarios(side, generated["buyers"]).items():
                spec = InvoiceFilters(**values)
                measured.setdefault(name, {})[side] = _median_ms(lambda u=user, s=side, f=spec: _page_view(u, s, f))
        return measured

    filters = measure_filters()
    _add_proposed_indexes()
    filters_indexed = measure_filters()
    other = {
        "synthèse (émises)": _median_ms(
            lambda: search.issued_synthesis(search.dashboard_queryset(user=seller, side="emises"))
        ),
        "synthèse (reçues)": _median_ms(
            lambda: search.received_synthesis(search.dashboard_queryset(user=clerk, side="recues"))
        ),
        "statistiques (reçues)": _median_ms(
            lambda: stats.side_stats(search.dashboard_queryset(user=clerk, side="recues"), side="recues"), rounds=3
        ),
    }
    from choeur.invoices.models import Invoice

    result = {
        "invoices": Invoice.objects.count(),
        "generate_s": generated["generate_s"],
        "issued_scope": search.dashboard_queryset(user=seller, side="emises").count(),
        "received_scope": search.dashboard_queryset(user=clerk, side="recues").count(),
        "filters": filters,
        "filters_indexed": filters_indexed,
        "other": other,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "child":
        child(sys.argv[2])
    else:
        run()
