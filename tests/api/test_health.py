"""Probes: /healthz answers without I/O, /readyz names each failing check and never leaks configuration."""

from datetime import timedelta

import pytest
from django.utils import timezone

from choeur.api import health


def test_healthz_answers_ok_without_touching_the_database(client):
    # No django_db mark: any query would raise here.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_reports_every_check_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "task_queue": "ok", "storage": "ok", "artefacts": "ok"},
    }


@pytest.mark.django_db
def test_readyz_leaves_no_probe_file_in_storage(client, settings):
    from pathlib import Path

    client.get("/readyz")
    location = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    assert not list(location.rglob("*")) or all(p.is_dir() for p in location.rglob("*"))


@pytest.mark.django_db
def test_readyz_fails_with_503_and_no_detail_when_storage_breaks(client, monkeypatch):
    secret_detail = "/srv/secret/path password=hunter2"

    def broken():
        raise OSError(secret_detail)

    monkeypatch.setitem(health.READINESS_CHECKS, "storage", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.content.decode()
    assert response.json()["checks"]["storage"] == "error"
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["status"] == "indisponible"
    assert "hunter2" not in body and "/srv" not in body


@pytest.mark.django_db
def test_readyz_says_the_queue_is_late_when_a_ready_task_waits_too_long(client, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.CHOEUR_READY_QUEUE_MAX_AGE_SECONDS = 60
    result = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="choeur.core.tasks.nothing",
        backend_name="default",
        run_after=timezone.now() - timedelta(hours=1),
    )
    DBTaskResult.objects.filter(pk=result.pk).update(enqueued_at=timezone.now() - timedelta(minutes=10))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["task_queue"] == "late"

    DBTaskResult.objects.filter(pk=result.pk).update(enqueued_at=timezone.now())
    assert client.get("/readyz").json()["checks"]["task_queue"] == "ok"


@pytest.mark.django_db
def test_readyz_fails_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable():
        raise RuntimeError("connection to server at 10.0.0.5 failed")

    monkeypatch.setitem(health.READINESS_CHECKS, "database", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "10.0.0.5" not in response.content.decode()


def test_probes_refuse_writes(client):
    assert client.post("/healthz").status_code == 405


def test_readyz_refuses_a_tampered_cen_release(client, tmp_path):
    from choeur.flows.validation import artefacts
    from tests.conftest import CEN_RELEASE_DIR

    if not CEN_RELEASE_DIR.is_dir():
        pytest.skip("Artefacts CEN absents : ../shared/artefacts/en16931-1.3.16 introuvable sur cette machine.")
    previous = artefacts.store_dir()
    artefacts.configure_store(tmp_path / "store")
    try:
        release = artefacts.install(CEN_RELEASE_DIR)
        path = release.path("cen-cii")
        path.write_bytes(path.read_bytes() + b"<!-- change -->")
        artefacts.installed_file.cache_clear()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["artefacts"] == "error"
        assert str(tmp_path) not in response.content.decode()
    finally:
        artefacts.configure_store(previous)
