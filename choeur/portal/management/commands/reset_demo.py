"""`choeur reset_demo`: bring a demo instance back to its initial state between two training sessions.

The first run (or `--rebuild`) empties the database, seeds the demo (`seed_demo`: structures, people,
invoices, works) and keeps a snapshot of it in CHOEUR_VAR_DIR/demo/ (Django's serialisation, with
microsecond times: core.snapshot_json); the next runs empty the database and reload that snapshot, which
takes seconds where seeding takes minutes (every demo invoice renders its PDFs). The snapshot is rebuilt by
itself when the migrations applied differ from those it was taken under. Emptying the database is refused
unless CHOEUR_DEMO_MODE is on.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from choeur.core import snapshot_json

# Rebuilt by Django itself after a flush (post_migrate), or meaningless to restore.
EXCLUDED = ("contenttypes", "auth.permission", "sessions", "admin.logentry", "axes")


def snapshot_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo"


def _schema_key() -> str:
    applied = sorted(MigrationRecorder(connection).applied_migrations())
    return hashlib.sha256(json.dumps(applied).encode()).hexdigest()[:16]


class Command(BaseCommand):
    help = (
        "Rétablit l'état initial de la démonstration entre deux sessions de formation : vide la base puis "
        "recharge l'instantané pris après « seed_demo » (créé au premier passage). Réservé à une instance "
        "de démonstration (CHOEUR_DEMO_MODE=true)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recrée l'instantané depuis seed_demo")

    def handle(self, *args, **options):
        if not settings.CHOEUR_DEMO_MODE:
            raise CommandError(
                "reset_demo vide la base : il n'est permis que sur une instance de démonstration. "
                "Lancez-le avec CHOEUR_DEMO_MODE=true."
            )
        started = time.monotonic()
        folder = snapshot_dir()
        folder.mkdir(parents=True, exist_ok=True)
        # Microsecond timestamps (the audit chain hashes them): a format of our own, named by the extension.
        serializers.register_serializer(snapshot_json.FORMAT, "choeur.core.snapshot_json")
        data, key_file = folder / f"snapshot.{snapshot_json.FORMAT}", folder / "snapshot.key"
        key = _schema_key()
        fresh = data.exists() and key_file.exists() and key_file.read_text().strip() == key
        call_command("flush", interactive=False, verbosity=0)
        action = "rechargée depuis l'instantané"
        if not fresh or options["rebuild"]:
            call_command("seed_demo", stdout=self.stdout)
            call_command(
                "dumpdata",
                exclude=list(EXCLUDED),
                natural_foreign=True,
                format=snapshot_json.FORMAT,
                output=str(data),
                verbosity=0,
            )
            key_file.write_text(key)
            # Loaded back at once: every reset, the first included, leaves exactly the snapshot's state (the
            # serialisation keeps milliseconds, not microseconds).
            call_command("flush", interactive=False, verbosity=0)
            action = "reconstruite (seed_demo), mise en instantané et rechargée"
        call_command("loaddata", str(data), verbosity=0)
        self.stdout.write(
            self.style.SUCCESS(f"Démonstration {action} en {time.monotonic() - started:.1f} s ({data}).")
        )
