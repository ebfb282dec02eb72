"""Signed checkpoints: a database writer who rewrites the audit chain and recomputes every hash is caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from choeur.core import audit_signing
from choeur.core.audit import GENESIS_HASH, audit_log, audit_verify
from choeur.core.models import AuditChainHead, AuditCheckpoint, AuditEntry
from choeur.core.scheduler import registered_jobs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def keyed(settings, tmp_path):
    settings.CHOEUR_AUDIT_SIGNING_KEY = str(tmp_path / "keys" / "audit.pem")
    settings.CHOEUR_AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit" / "checkpoints.jsonl")
    settings.CHOEUR_AUDIT_PUBLIC_KEY = ""
    audit_signing.signing_key_create()
    return tmp_path


def _entries(count: int, start: int = 0) -> None:
    for index in range(start, start + count):
        audit_log(action="tests.audit.action", data={"rang": index})


def _rewrite_chain_as_a_database_writer(*, entry_id: int, data: dict) -> None:
    """What whoever can write the database can do: change a row, then recompute every hash after it and the
    head, with plain SQL (the model refuses to update an entry)."""
    previous = GENESIS_HASH
    with connection.cursor() as cursor:
        for entry in AuditEntry.objects.order_by("id"):
            if entry.pk == entry_id:
                entry.data = data
            entry.prev_hash = previous
            entry.hash = previous = entry.compute_hash()
            cursor.execute(
                "UPDATE core_auditentry SET data = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(entry.data), entry.prev_hash, entry.hash, entry.pk],
            )
    AuditChainHead.objects.filter(pk=1).update(last_hash=previous)


@pytest.mark.django_db
def test_checkpoint_signs_the_head_once(keyed):
    _entries(3)
    first = audit_signing.checkpoint_create()
    assert first.sequence == 1 and first.entries == 3 and first.entry_id == AuditEntry.objects.last().pk
    assert audit_signing.checkpoint_create() is None  # nothing new since
    _entries(2, start=3)
    second = audit_signing.checkpoint_create()
    assert second.sequence == 2 and second.entries == 5
    assert json.loads(second.payload)["previous"] == audit_signing.checkpoint_digest(first.as_record())
    lines = Path(keyed / "audit" / "checkpoints.jsonl").read_text().splitlines()
    assert [json.loads(line)["payload"]["sequence"] for line in lines] == [1, 2]
    report = audit_signing.audit_verify_report()
    assert report.intact and report.checkpoints == 2


@pytest.mark.django_db
def test_a_recomputed_chain_passes_the_chain_check_but_not_the_signed_checkpoint(keyed):
    _entries(4)
    audit_signing.checkpoint_create()
    _entries(2, start=4)
    target = AuditEntry.objects.order_by("id")[1]
    _rewrite_chain_as_a_database_writer(entry_id=target.pk, data={"rang": 999})
    assert audit_verify() == []  # the hash chain alone is fooled
    report = audit_signing.audit_verify_report()
    assert not report.intact
    (problem,) = report.problems
    fourth = AuditEntry.objects.order_by("id")[3]
    assert f"les entrées jusqu'à n°{fourth.pk} ont été modifiées" in problem
    assert "2 entrée(s) postérieure(s) au dernier point de contrôle" in " ".join(report.notes)
    with pytest.raises(CommandError, match="altéré"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_rows_rewritten_after_a_valid_checkpoint_are_located_between_two_checkpoints(keyed):
    _entries(2)
    audit_signing.checkpoint_create()
    _entries(3, start=2)
    audit_signing.checkpoint_create()
    ids = list(AuditEntry.objects.order_by("id").values_list("pk", flat=True))
    _rewrite_chain_as_a_database_writer(entry_id=ids[3], data={"rang": -1})
    (problem,) = audit_signing.audit_verify_report().problems
    assert f"les entrées n°{ids[1] + 1} à n°{ids[4]}" in problem


@pytest.mark.django_db
def test_deleting_checkpoints_from_the_database_shows_against_the_file(keyed):
    _entries(2)
    audit_signing.checkpoint_create()
    _entries(1, start=2)
    audit_signing.checkpoint_create()
    AuditCheckpoint.objects.filter(sequence=2).delete()
    report = audit_signing.audit_verify_report()
    assert any("absent(s) de la base" in problem for problem in report.problems)


@pytest.mark.django_db
def test_a_checkpoint_signed_with_another_key_is_refused(keyed, tmp_path, settings):
    _entries(2)
    audit_signing.checkpoint_create()
    settings.CHOEUR_AUDIT_SIGNING_KEY = str(tmp_path / "other.pem")
    audit_signing.signing_key_create()
    report = audit_signing.audit_verify_report()
    assert any("signature invalide" in problem for problem in report.problems)


@pytest.mark.django_db
def test_missing_key_is_a_french_error_and_a_key_is_never_overwritten(settings, tmp_path):
    settings.CHOEUR_AUDIT_SIGNING_KEY = str(tmp_path / "absent.pem")
    with pytest.raises(CommandError, match="audit_key create"):
        call_command("audit_key", "show")
    call_command("audit_key", "create")
    assert oct(os.stat(tmp_path / "absent.pem").st_mode & 0o777) == "0o600"
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("audit_key", "create")


@pytest.mark.django_db
def test_the_scheduler_signs_periodically(keyed):
    import choeur.core.periodic  # noqa: F401  (as run_periodic loads it)

    job = registered_jobs()["core.audit_checkpoint"]
    _entries(1)
    assert job.func(now=None, since=None) == "point de contrôle n°1"
    assert job.func(now=None, since=None) == "rien de nouveau"


def _offline(directory: Path, *extra: str) -> subprocess.CompletedProcess:
    # Django made unimportable: the verifier must need only the export and `cryptography`.
    blocker = directory.parent / "no-django"
    (blocker / "django").mkdir(parents=True, exist_ok=True)
    (blocker / "django" / "__init__.py").write_text("raise ImportError('Django interdit ici')\n")
    env = {**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{REPO}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "choeur.core.audit_offline", str(directory), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.django_db
def test_export_is_verified_offline_and_a_tampered_export_is_caught(keyed):
    _entries(5)
    audit_signing.checkpoint_create()
    export = keyed / "export"
    call_command("audit_export", str(export))
    archived_key = keyed / "archived.pem"
    archived_key.write_text((export / "public-key.pem").read_text())
    done = _offline(export, "--public-key", str(archived_key))
    assert done.returncode == 0, done.stderr
    assert "intègre (5 entrées, 1 point(s) de contrôle" in done.stdout
    # Rewrite one exported entry and recompute the whole exported chain: only the signature can tell.
    records = [json.loads(line) for line in (export / "entries.jsonl").read_text().splitlines()]
    import hashlib

    previous = GENESIS_HASH
    for index, record in enumerate(records):
        if index == 2:
            record["payload"] = record["payload"].replace('"rang":2', '"rang":3')
        record["prev_hash"] = previous
        record["hash"] = previous = hashlib.sha256(previous.encode() + record["payload"].encode()).hexdigest()
    (export / "entries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    done = _offline(export, "--public-key", str(archived_key))
    assert done.returncode == 1 and "n'a plus l'empreinte" in done.stderr
