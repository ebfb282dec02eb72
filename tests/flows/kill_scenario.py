"""Helper process of test_worker_kill.py: `python -m tests.flows.kill_scenario setup N | status ID`.

Runs with DJANGO_SETTINGS_MODULE=tests.flows.worker_settings against the scratch database of the test, and
prints one JSON object on its last line of output.
"""

import json
import sys

import django


def setup(count: int) -> dict:
    from django.db import transaction

    from choeur.flows.enums import Channel
    from choeur.flows.services import flow_deposit
    from tests.flows.factories import buyer_structure, supplier_structure
    from tests.flows.fixtures import invoice_xml, zip_of

    supplier = supplier_structure(raison_sociale="Atelier Dupont")
    buyer = buyer_structure(raison_sociale="Commune de Valfleurie")
    members = {
        f"facture-{index}.xml": invoice_xml(
            supplier_siret=supplier.identifier, buyer_siret=buyer.identifier, number=f"KILL-{index:03d}"
        )
        for index in range(1, count + 1)
    }
    with transaction.atomic():
        flow, _ = flow_deposit(
            structure=supplier, content=zip_of(members), filename="lot.zip", channel=Channel.EDI_DIR, by_label="test"
        )
    return {"flow_id": flow.pk, "numero": flow.numero_flux_depot}


def status(flow_id: int) -> dict:
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from choeur.flows.models import Flow
    from choeur.invoices.models import Invoice

    flow = Flow.objects.get(pk=flow_id)
    invoices = Invoice.objects.filter(supplier=flow.structure)
    per_number = invoices.values("number").annotate(n=Count("pk"))
    return {
        "state": flow.state,
        "attempts": flow.attempts,
        "items": flow.items.count(),
        "items_done": flow.items.exclude(status="EN_COURS").count(),
        "items_linked": flow.items.filter(invoice__isnull=False).count(),
        "invoices": invoices.count(),
        "duplicates": [row["number"] for row in per_number if row["n"] > 1],
        # The flow's processing tasks only: the low-priority PDF renderings (invoices.rendering) run after.
        "tasks": sorted(
            DBTaskResult.objects.filter(task_path__endswith="process_flow").values_list("status", flat=True)
        ),
        "technical_errors": flow.technical_errors,
    }


def main() -> None:
    django.setup()
    command = sys.argv[1]
    if command == "setup":
        result = setup(int(sys.argv[2]))
    elif command == "status":
        result = status(int(sys.argv[2]))
    else:
        raise SystemExit(f"Commande inconnue : {command}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
