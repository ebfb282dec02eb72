"""A task for the PgBouncer drill: it writes one audit entry (which locks the chain head FOR UPDATE)."""

from django.tasks import task

from choeur.core.audit import audit_log
from choeur.core.models import AuditEntry


@task()
def record_drill_step(step: int) -> int:
    audit_log(action="exercice.pgbouncer.tache", actor_kind=AuditEntry.ActorKind.SYSTEM, data={"step": step})
    return step
