"""core.tasks.task_enqueue_on_commit: the task follows the change it belongs to, or does not happen."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from choeur.core.tasks import task_enqueue_on_commit
from choeur.flows.tasks import reconcile_flows

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_with_the_database_queue_the_task_row_commits_with_the_transaction(settings):
    settings.TASKS = DATABASE_QUEUE
    with transaction.atomic():
        task_enqueue_on_commit(reconcile_flows)
        # Written in the transaction itself: no commit of its own, visible to workers at the commit.
        assert DBTaskResult.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path="choeur.flows.tasks.reconcile_flows").count() == 1


def test_with_the_database_queue_a_rollback_leaves_no_task(settings):
    settings.TASKS = DATABASE_QUEUE
    with pytest.raises(RuntimeError), transaction.atomic():
        task_enqueue_on_commit(reconcile_flows)
        raise RuntimeError("annulé")
    assert DBTaskResult.objects.count() == 0


def test_other_backends_enqueue_after_the_commit(settings):
    ran = []
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}

    from django.tasks import default_task_backend

    with transaction.atomic():
        task_enqueue_on_commit(reconcile_flows)
        ran.append(len(default_task_backend.results))
    assert ran == [0]
    assert len(default_task_backend.results) == 1
