"""Enqueueing a side effect so that it happens if, and only if, the change it follows commits."""

from __future__ import annotations

from django.db import transaction
from django_tasks_db.backend import DatabaseBackend


def task_enqueue_on_commit(task, *args) -> None:
    """Enqueue `task(*args)` for when the current transaction commits.

    With the database queue (django-tasks-db, as in production) the task row is written now, in the
    caller's transaction: it becomes visible to the workers with the change it follows, or never if that
    rolls back. That costs no commit of its own per task, and no side effect is lost if the process dies
    between the commit and an after-commit enqueue. With any other backend (the immediate one of the
    tests, a broker) the task is enqueued after the commit, as `transaction.on_commit` does.
    """
    if isinstance(task.get_backend(), DatabaseBackend) and transaction.get_connection().in_atomic_block:
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args))
