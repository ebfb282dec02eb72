"""The database task queue (django-tasks-db) as production runs it.

- Each task row carries the id of the request that enqueued it (`request_id` beside the arguments), so
  that the worker's log lines of that task name the same request (choeur.core.observability).
- A task left RUNNING by a worker that died (killed, machine lost) is handed back to the queue when the
  supervisor restarts that worker's slot: django-tasks-db has no lease of its own; the task runs again
  (retried, never lost). Flows have their own lease on top (`reconcile_flows`).
"""

from __future__ import annotations

from django.db import transaction
from django_tasks_db.backend import DatabaseBackend as BaseDatabaseBackend
from django_tasks_db.compat import normalize_json

from choeur.core import observability


class DatabaseBackend(BaseDatabaseBackend):
    def _task_to_db_task(self, task, args, kwargs):
        from django_tasks_db.models import DBTaskResult

        args_kwargs = {"args": args, "kwargs": kwargs}
        request_id = observability.current_request_id()
        if request_id:
            args_kwargs["request_id"] = request_id
        return DBTaskResult.objects.create(
            id=self._get_id(),
            args_kwargs=normalize_json(args_kwargs),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )


def tasks_hand_back(*, worker_id: str) -> int:
    """Put back in the queue the tasks `worker_id` had claimed and not finished; returns how many."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        running = list(DBTaskResult.objects.select_for_update().filter(status=TaskResultStatus.RUNNING))
        mine = [row.pk for row in running if row.worker_ids and row.worker_ids[-1] == worker_id]
        if mine:
            DBTaskResult.objects.filter(pk__in=mine).update(status=TaskResultStatus.READY, started_at=None)
    return len(mine)
