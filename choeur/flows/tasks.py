"""Background tasks of flows (django.tasks: the backend is a setting — django-tasks-db's `choeur db_worker`
in production, the immediate backend in tests). Arguments are ids only: the Flow row is the ledger."""

from django.tasks import task

from choeur.flows.services import flow_process, flows_reconcile


@task()
def process_flow(flow_id: int) -> str:
    """Claim and process one flow; returns the state reached ("" if another worker holds it)."""
    return str(flow_process(flow_id=flow_id))


@task()
def reconcile_flows() -> dict[str, int]:
    """Re-queue flows lost by a dead worker or a lost task; end hopeless ones IN_INCIDENTE."""
    return flows_reconcile()
