"""Helper process of test_serve_processes.py: `python -m tests.core.serve_scenario setup N | status`.

Runs with DJANGO_SETTINGS_MODULE=tests.core.serve_settings against the test's scratch database and prints one
JSON object on its last line: a supplier with an API token (flows:write) and N one-invoice flows to deposit
(base64), then, for `status`, every flow's state and the invoices per number.
"""

import base64
import json
import sys

import django


def setup(count: int) -> dict:
    from tests.api.conftest import make_raccordement
    from tests.flows.factories import buyer_structure, supplier_structure
    from tests.flows.fixtures import invoice_xml

    supplier = supplier_structure(raison_sociale="Atelier Dupont")
    buyer = buyer_structure(raison_sociale="Commune de Valfleurie")
    raccordement = make_raccordement(supplier, name="serve", scope="flows:write invoices:read")
    flows = [
        {
            "filename": f"facture-{index:03d}.xml",
            "content_base64": base64.b64encode(
                invoice_xml(
                    supplier_siret=supplier.identifier, buyer_siret=buyer.identifier, number=f"SRV-{index:03d}"
                )
            ).decode(),
        }
        for index in range(1, count + 1)
    ]
    return {"token": raccordement.token, "flows": flows}


def status() -> dict:
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from choeur.flows.models import Flow
    from choeur.invoices.models import Invoice

    per_number = Invoice.objects.values("number").annotate(n=Count("pk"))
    return {
        "flows": {flow.numero_flux_depot: [flow.state, flow.attempts] for flow in Flow.objects.all()},
        "invoices": {row["number"]: row["n"] for row in per_number},
        "flow_tasks": sorted(
            DBTaskResult.objects.filter(task_path__endswith="process_flow").values_list("status", flat=True)
        ),
    }


def main() -> None:
    django.setup()
    command = sys.argv[1]
    result = setup(int(sys.argv[2])) if command == "setup" else status()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
