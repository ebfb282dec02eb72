"""Enqueueing a side effect so that it happens if, and only if, the change it follows commits."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.db import transaction
from django_tasks_db.backend import DatabaseBackend

# task path → the task that does the same for a list of ids (registered by the app that owns both).
_BATCHED: dict[str, object] = {}
_collector: contextvars.ContextVar[list | None] = contextvars.ContextVar("choeur_task_batch", default=None)


def task_enqueue_on_commit(task, *args) -> None:
    """Enqueue `task(*args)` for when the current transaction commits.

    With the database queue (django-tasks-db, as in production) the task row is written now, in the
    caller's transaction: it becomes visible to the workers with the change it follows, or never if that
    rolls back. That costs no commit of its own per task, and no side effect is lost if the process dies
    between the commit and an after-commit enqueue. With any other backend (the immediate one of the
    tests, a broker) the task is enqueued after the commit, as `transaction.on_commit` does.

    Inside `tasks_batched()`, a task with a batched counterpart (`task_register_batched`) is collected
    instead, and enqueued once for the whole batch.
    """
    collected = _collector.get()
    if collected is not None and task.module_path in _BATCHED and len(args) == 1:
        collected.append((task.module_path, args[0]))
        return
    _enqueue(task, *args)


def _enqueue(task, *args) -> None:
    if isinstance(task.get_backend(), DatabaseBackend) and transaction.get_connection().in_atomic_block:
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args))


def task_register_batched(task, batched_task) -> None:
    """`batched_task(ids)` does what `task(id)` does for each id, in order."""
    _BATCHED[task.module_path] = batched_task


@contextlib.contextmanager
def tasks_batched() -> Iterator[None]:
    """Collect the batchable side effects enqueued inside, and enqueue one task per kind at the end (still in
    the caller's transaction, so they commit with it). A flow's batch of 50 invoices writes 2 task rows
    instead of 150, and a worker then handles 50 status changes per claimed task.

    Nothing is enqueued if the block raises (its transaction rolls back too); a part rolled back on its own
    (an invoice's savepoint) drops what it collected with `tasks_batched_mark()` / `tasks_batched_discard()`.
    """
    if _collector.get() is not None:
        yield  # already batching: the outer block enqueues
        return
    collected: list = []
    token = _collector.set(collected)
    try:
        yield
    finally:
        _collector.reset(token)
    ids_by_path: dict[str, list] = {}
    for path, value in collected:
        ids_by_path.setdefault(path, []).append(value)
    for path, ids in ids_by_path.items():
        _enqueue(_BATCHED[path], ids)


def tasks_batched_mark() -> int:
    collected = _collector.get()
    return len(collected) if collected is not None else 0


def tasks_batched_discard(mark: int) -> None:
    """Forget what was collected since `mark` (the savepoint of the part that enqueued it rolled back)."""
    collected = _collector.get()
    if collected is not None:
        del collected[mark:]
