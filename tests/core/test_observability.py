"""Request ids and JSON log lines; the request id stored with the tasks a request enqueues; tasks handed back."""

from __future__ import annotations

import json
import logging

import pytest
from django.tasks import TaskResultStatus

from choeur.core import observability
from choeur.core.taskqueue import DatabaseBackend, tasks_hand_back

pytestmark = pytest.mark.django_db


def test_each_request_gets_an_id_and_one_log_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="choeur.request"):
        response = client.get("/healthz")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    (record,) = [r for r in caplog.records if r.name == "choeur.request"]
    assert record.request_id == request_id and record.route == "healthz" and record.status == 200
    assert record.duration_ms >= 0


def test_a_sane_proxy_request_id_is_kept_and_a_hostile_one_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "proxy-1234abcd"})["X-Request-ID"] == "proxy-1234abcd"
    replaced = client.get("/healthz", headers={"X-Request-ID": "a\nb<script>"})["X-Request-ID"]
    assert replaced != "a\nb<script>" and len(replaced) == 32


def test_the_json_formatter_writes_one_object_per_line_with_the_request_id():
    formatter = observability.JsonLogFormatter()
    record = logging.LogRecord("choeur.request", logging.INFO, __file__, 1, "GET %s", ("healthz",), None)
    record.route = "healthz"
    token = observability.bind_request_id("abcd1234abcd1234")
    try:
        observability.RequestIdFilter().filter(record)
    finally:
        observability.unbind_request_id(token)
    line = formatter.format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "GET healthz" and data["request_id"] == "abcd1234abcd1234"
    assert data["level"] == "INFO" and data["logger"] == "choeur.request" and data["route"] == "healthz"


def _enqueue_row(settings):
    settings.TASKS = {"default": {"BACKEND": "choeur.core.taskqueue.DatabaseBackend"}}
    from django.tasks import task_backends

    from choeur.flows.tasks import process_flow

    backend = task_backends["default"]
    assert isinstance(backend, DatabaseBackend)
    return backend, process_flow


def test_a_task_enqueued_during_a_request_carries_its_id(settings):
    from django_tasks_db.models import DBTaskResult

    backend, task = _enqueue_row(settings)
    token = observability.bind_request_id("req-0123456789")
    try:
        result = task.enqueue(12345)
    finally:
        observability.unbind_request_id(token)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.args_kwargs == {"args": [12345], "kwargs": {}, "request_id": "req-0123456789"}
    # The worker reads it back when the task starts, and puts it on its log lines.
    observability.task_started_receiver(None, task_result=row.task_result)
    try:
        assert observability.current_request_id() == "req-0123456789"
    finally:
        observability.task_finished_receiver(None, task_result=row.task_result)
    assert observability.current_request_id() == ""


def test_the_tasks_of_a_dead_worker_slot_are_handed_back(settings):
    from django_tasks_db.models import DBTaskResult

    backend, task = _enqueue_row(settings)
    mine, other = task.enqueue(1), task.enqueue(2)
    DBTaskResult.objects.get(pk=mine.id).claim("vm-serve-1")
    DBTaskResult.objects.get(pk=other.id).claim("vm-serve-2")
    assert tasks_hand_back(worker_id="vm-serve-1") == 1
    assert DBTaskResult.objects.get(pk=mine.id).status == TaskResultStatus.READY
    assert DBTaskResult.objects.get(pk=other.id).status == TaskResultStatus.RUNNING
