"""docs/OPERATIONS.md, followed as written: the shell blocks marked `<!-- exercice -->` (nightly backup, restore
drill) run in order, in one shell, against an instance of their own (SQLite or PostgreSQL, as the suite runs)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from choeur.core.models import AuditEntry, StoredFile
from tests.ops.drill import ROOT, child_env, choeur, fresh_database

pytestmark = pytest.mark.django_db(transaction=True)

GUIDE = ROOT / "docs" / "OPERATIONS.md"
BLOCK = re.compile(r"<!-- exercice -->\n```sh\n(.*?)```", re.S)


def guide_blocks() -> list[str]:
    return BLOCK.findall(GUIDE.read_text())


def test_the_guide_marks_the_backup_and_the_restore_drill():
    blocks = guide_blocks()
    assert len(blocks) == 2
    assert "choeur backup" in blocks[0] and "choeur restore --check-only" in blocks[0]
    assert "choeur restore" in blocks[1] and "choeur verify_audit" in blocks[1]


def test_backup_and_restore_drill_run_as_written(instance, tmp_path):
    # The instance being operated: this test's data, put into a database and a storage of its own.
    seed = tmp_path / "amorce"
    call_command("backup", str(seed), verbosity=0)
    wrapper = tmp_path / "bin" / "choeur"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m choeur "$@"\n')
    wrapper.chmod(0o755)
    with fresh_database(tmp_path / "instance") as instance_url, fresh_database(tmp_path) as restore_url:
        (tmp_path / "instance").mkdir(exist_ok=True)
        instance_env = {"DATABASE_URL": instance_url, "CHOEUR_VAR_DIR": str(tmp_path / "instance" / "var")}
        seeded = choeur("restore", str(seed), env=instance_env)
        assert seeded.returncode == 0, seeded.stderr

        env = child_env(instance_env)
        env.update(
            {
                "PATH": f"{wrapper.parent}:{env['PATH']}",
                "SAUVEGARDES": str(tmp_path / "sauvegardes"),
                "RESTAURATION_DATABASE_URL": restore_url,
                "RESTAURATION_VAR_DIR": str(tmp_path / "restauration"),
            }
        )
        script = "set -euo pipefail\n" + "\n".join(guide_blocks())
        result = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stdout + result.stderr
        [backup] = list((tmp_path / "sauvegardes").glob("choeur-*"))
        assert re.fullmatch(r"choeur-\d{8}T\d{6}Z", backup.name)
        assert "Sauvegarde intègre" in result.stdout
        assert f"{StoredFile.objects.count()} documents conformes à leur empreinte SHA-256" in result.stdout
        assert f"Journal d'audit intègre ({AuditEntry.objects.count()} entrées," in result.stdout
        restored = Path(tmp_path / "restauration" / "files" / instance["attachment"].file.storage_name)
        assert restored.read_bytes() == instance["attachment"].file.read()
