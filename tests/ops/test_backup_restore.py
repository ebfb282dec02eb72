"""Restore drill: `choeur backup` of a live instance, `choeur restore` into a fresh database and a fresh storage
(in another process, as an operator would), then `choeur verify_audit` passes and every stored file's SHA-256
matches its record. Also: a damaged backup or a non-empty target is refused with a French message."""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

from choeur.core.models import AuditEntry, StoredFile
from tests.flows.factories import FlowFactory
from tests.ops.conftest import FLOW, PDF
from tests.ops.drill import choeur, fresh_database

pytestmark = pytest.mark.django_db(transaction=True)


def test_restore_drill_into_a_fresh_database_and_storage(instance, tmp_path):
    backup = tmp_path / "sauvegarde"
    call_command("backup", str(backup))
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["stored_files"] == StoredFile.objects.count() >= 2
    assert manifest["audit_entries"] == AuditEntry.objects.count() > 0
    attachment_file = f"files/{instance['attachment'].file.storage_name}"
    assert manifest["files"][attachment_file]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert manifest["files"][f"files/{instance['flow'].file.storage_name}"]["size"] == len(FLOW)

    with fresh_database(tmp_path) as url:
        env = {"DATABASE_URL": url, "CHOEUR_VAR_DIR": str(tmp_path / "neuve")}
        restored = choeur("restore", str(backup), env=env)
        assert restored.returncode == 0, restored.stderr
        assert f"{StoredFile.objects.count()} documents conformes" in restored.stdout

        audit = choeur("verify_audit", env=env)
        assert audit.returncode == 0, audit.stderr
        assert f"({AuditEntry.objects.count()} entrées," in audit.stdout

        # The fresh storage holds the very bytes; the restored database knows the invoice and its attachment.
        restored_file = tmp_path / "neuve" / "files" / instance["attachment"].file.storage_name
        assert restored_file.read_bytes() == PDF
        shell = choeur(
            "shell",
            "-c",
            "from choeur.invoices.models import Invoice; i = Invoice.objects.get(number='RESTAURATION-1'); "
            "print(i.attachments.get().file.read() == " + repr(PDF) + ")",
            env=env,
        )
        assert shell.stdout.strip().splitlines()[-1] == "True", shell.stderr

        # A second restore into the now populated database is refused, saying what to do.
        again = choeur("restore", str(backup), env=env)
        assert again.returncode != 0
        assert "la base cible n'est pas vide" in again.stderr
        assert "--replace" in again.stderr

        # A stored document altered afterwards is reported by the verification.
        restored_file.write_bytes(PDF + b"modifie")
        verify = choeur("restore", str(backup), "--verify-only", env=env)
        assert verify.returncode != 0
        assert "contenu différent de son empreinte SHA-256" in verify.stderr


def test_a_damaged_backup_is_refused_before_anything_is_restored(instance, tmp_path):
    backup = tmp_path / "sauvegarde"
    call_command("backup", str(backup))
    call_command("restore", str(backup), "--check-only")
    damaged = backup / "files" / instance["attachment"].file.storage_name
    damaged.write_bytes(b"%PDF-1.7 autre contenu")
    with pytest.raises(CommandError, match=r"Sauvegarde inutilisable : files/sha256/.* est altéré"):
        call_command("restore", str(backup), "--check-only")
    with fresh_database(tmp_path) as url:
        result = choeur("restore", str(backup), env={"DATABASE_URL": url, "CHOEUR_VAR_DIR": str(tmp_path / "neuve")})
        assert result.returncode != 0
        assert "est altéré" in result.stderr
        assert not (tmp_path / "neuve" / "files").exists()


def test_backup_refuses_an_open_transaction(tmp_path):
    from django.db import transaction

    with transaction.atomic(), pytest.raises(CommandError, match="hors de toute transaction ouverte"):
        call_command("backup", str(tmp_path / "sauvegarde"))


def test_backup_refuses_a_non_empty_destination_and_a_missing_document(instance, tmp_path):
    (tmp_path / "occupe").mkdir()
    (tmp_path / "occupe" / "autre").write_text("x")
    with pytest.raises(CommandError, match="n'est pas vide ; donnez un dossier neuf"):
        call_command("backup", str(tmp_path / "occupe"))
    FlowFactory()  # its StoredFile row names bytes that were never stored
    with pytest.raises(CommandError, match="Sauvegarde incomplète : Fichier x/.* illisible dans le stockage"):
        call_command("backup", str(tmp_path / "neuve"))
