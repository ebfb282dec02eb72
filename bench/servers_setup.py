"""Child of bench/servers.py, run on its scratch PostgreSQL database with the production settings: migrate, load
the demo data, deposit one flow, and print (last line, JSON) what the load generator needs — the demo supplier's
API credentials, a flow number, one of its invoices, a portal session."""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from choeur.directory.demo import demo_credentials
    from choeur.directory.models import Structure
    from choeur.flows.enums import Channel
    from choeur.flows.services import flow_deposit
    from choeur.invoices.models import Invoice

    if "--reuse" not in sys.argv:  # --reuse: a database already seeded and static files already collected
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", verbosity=0, stdout=sys.stderr)
        call_command("collectstatic", interactive=False, verbosity=0)
    credentials, _warnings = demo_credentials()
    api = credentials["api"][0]
    structure = Structure.objects.get(identifier=api["siret"])
    flow, _created = flow_deposit(
        structure=structure,
        content=b"<Invoice>banc de mesure</Invoice>",
        filename="banc.xml",
        channel=Channel.API,
        by_label="banc de mesure",
    )
    invoice = Invoice.objects.filter(supplier=structure).exclude(status="BROUILLON").order_by("pk").first()
    user = get_user_model().objects.filter(email=credentials["users"][1]["email"]).get()
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    print(
        json.dumps(
            {
                "client_id": api["client_id"],
                "client_secret": api["client_secret"],
                "cpro_login": api["cpro_login"],
                "cpro_password": api["cpro_password"],
                "numero_flux": flow.numero_flux_depot,
                "invoice_id": invoice.pk,
                "session": session.session_key,
            }
        )
    )


if __name__ == "__main__":
    main()
