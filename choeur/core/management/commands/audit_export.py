import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from choeur.core.audit_signing import SigningKeyError, checkpoints_from_file, public_key_pem
from choeur.core.models import AuditCheckpoint, AuditEntry


class Command(BaseCommand):
    help = (
        "Exporte le journal d'audit (entrées, points de contrôle signés, clé publique) dans un dossier, "
        "vérifiable hors ligne par « python -m choeur.core.audit_offline DOSSIER »."
    )

    def add_arguments(self, parser):
        parser.add_argument("destination", type=Path)

    def handle(self, *args, destination: Path, **options):
        try:
            public = public_key_pem(create=False)
        except SigningKeyError as exc:
            raise CommandError(str(exc)) from None
        destination.mkdir(parents=True, exist_ok=True)
        count = 0
        with (destination / "entries.jsonl").open("w", encoding="utf-8") as handle:
            for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=5000):
                # The exact bytes that were hashed, so that the verifier needs no knowledge of the model.
                record = {
                    "id": entry.pk,
                    "prev_hash": entry.prev_hash,
                    "hash": entry.hash,
                    "payload": entry.canonical_payload().decode(),
                }
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        records = checkpoints_from_file() or [c.as_record() for c in AuditCheckpoint.objects.order_by("sequence")]
        with (destination / "checkpoints.jsonl").open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        (destination / "public-key.pem").write_text(public)
        self.stdout.write(f"{count} entrée(s) et {len(records)} point(s) de contrôle exportés dans {destination}.")
