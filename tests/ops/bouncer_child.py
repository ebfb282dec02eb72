"""Run by tests/ops/test_pgbouncer.py in child processes, connected through PgBouncer in transaction mode.

`enqueue N`: N tasks, then concurrent threads each writing audit entries, re-running one query past psycopg's
prepare threshold and walking a table with .iterator(). `check N`: every task ran once, the chain is intact."""

import os
import sys
import threading

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from choeur.core.audit import audit_log, audit_verify  # noqa: E402
from choeur.core.models import AuditEntry  # noqa: E402
from tests.ops.bouncer_tasks import record_drill_step  # noqa: E402


def _thread_work(index: int, errors: list) -> None:
    try:
        for step in range(15):
            with transaction.atomic():
                audit_log(
                    action="exercice.pgbouncer.web",
                    actor_kind=AuditEntry.ActorKind.SYSTEM,
                    data={"thread": index, "step": step},
                )
            # The same statement many times: psycopg would prepare it on one server connection and, on the next
            # transaction, run it on another where it does not exist.
            for _ in range(8):
                AuditEntry.objects.filter(action="exercice.pgbouncer.web", data__thread=index).count()
            # A server-side cursor WITH HOLD would outlive the transaction on a connection PgBouncer reassigns.
            sum(1 for _ in AuditEntry.objects.order_by("id").iterator(chunk_size=3))
    except Exception as exc:  # reported to the parent test
        errors.append(f"fil {index} : {type(exc).__name__}: {exc}")
    finally:
        connection.close()


def main(command: str, count: int) -> int:
    db = settings.DATABASES["default"]
    assert str(db["PORT"]) == os.environ["BOUNCER_PORT"], "le test doit passer par PgBouncer"
    if os.environ.get("BOUNCER_UNCONFIGURED") != "1":
        assert db["DISABLE_SERVER_SIDE_CURSORS"] is True and db["OPTIONS"]["prepare_threshold"] is None
    if command == "enqueue":
        for step in range(count):
            record_drill_step.enqueue(step)
        errors: list[str] = []
        threads = [threading.Thread(target=_thread_work, args=(i, errors)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        if errors:
            print("\n".join(errors), file=sys.stderr)
            return 1
        print(AuditEntry.objects.filter(action="exercice.pgbouncer.web").count())
        return 0
    results = DBTaskResult.objects.filter(task_path__endswith="record_drill_step")
    steps = sorted(AuditEntry.objects.filter(action="exercice.pgbouncer.tache").values_list("data__step", flat=True))
    problems = audit_verify()
    print(f"tasks={results.count()} succeeded={results.filter(status='SUCCESSFUL').count()} steps={steps}")
    if problems or steps != list(range(count)):
        print("\n".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
