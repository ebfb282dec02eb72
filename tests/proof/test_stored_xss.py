"""Stored XSS through every free-text field: each field gets its own hostile payload (a script tag, an
attribute break-out with an event handler), links get a `javascript:` URL, and every page that shows them is
rendered as their owners see it. Nothing comes out live: each payload is found, escaped, where it is shown."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from choeur.api.models import WebhookEndpoint
from choeur.directory.models import BankAccount, Service, Structure
from choeur.flows.models import Flow
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import InvoiceAttachment, InvoiceLine, InvoiceStatusChange, InvoiceTemplate, Notification
from choeur.sollicitations.models import Sollicitation, SollicitationAttachment, SollicitationMessage
from tests.proof.test_authorization_matrix import _client
from tests.proof.world import build_world

pytestmark = pytest.mark.django_db


def payload(n: int) -> str:
    # At most 50 characters: the narrowest fields are varchar(50), which PostgreSQL enforces (SQLite does not).
    return f'"><img src=x onerror=a({n})><script>x({n})</script>'


def escaped(n: int) -> str:
    return f"&lt;script&gt;x({n})&lt;/script&gt;"


LIVE = re.compile(r"<script>x\(\d+\)|<img src=x onerror|href=\"?\s*javascript:", re.IGNORECASE)


def _plant(world) -> dict[str, int]:
    """Write a payload into each free-text field; returns field → payload number."""
    o = world.objects
    invoice = o["invoice"]
    line = InvoiceLine.objects.filter(invoice=invoice).order_by("position").first()
    fields = {}

    def put(field, model, pk, /, **values):
        n = len(fields) + 1
        fields[field] = n
        model.objects.filter(pk=pk).update(**{k: (payload(n) if v is None else v) for k, v in values.items()})

    put("désignation de ligne", InvoiceLine, line.pk, designation=None)
    put("référence de ligne", InvoiceLine, line.pk, reference=None)
    put("raison sociale", Structure, o["structure"].pk, raison_sociale=None)
    put("commentaire de facture", type(invoice), invoice.pk, comment=None)
    put("pièce jointe de facture", InvoiceAttachment, o["attachment"].pk, name=None)
    change = InvoiceStatusChange.objects.create(
        invoice=invoice,
        from_status=InvoiceStatus.MISE_A_DISPOSITION,
        to_status=InvoiceStatus.MISE_A_DISPOSITION,
        transition="commentaire",
        channel="PORTAIL",
        created_at=timezone.now(),
    )
    put("motif", InvoiceStatusChange, change.pk, motif=payload(len(fields) + 1)[:100])
    put("commentaire du motif", InvoiceStatusChange, change.pk, comment=None)
    put("libellé de service", Service, o["service"].pk, libelle=None)
    put("libellé de compte", BankAccount, o["bank"].pk, label=None)
    put("nom de modèle", InvoiceTemplate, o["template"].pk, name=None)
    put("nom de fichier de flux", Flow, o["flow"].pk, filename=None)
    put("titre de notification", Notification, o["notification"].pk, title=None)
    put("description de webhook", WebhookEndpoint, o["webhook"].pk, description=None)
    WebhookEndpoint.objects.filter(pk=o["webhook"].pk).update(url="javascript:alert(document.cookie)")
    put("objet de sollicitation", Sollicitation, o["sollicitation"].pk, subject=None)
    message = o["sollicitation"].messages.first()
    put("message de sollicitation", SollicitationMessage, message.pk, body=None)
    put("pièce jointe de sollicitation", SollicitationAttachment, o["sollicitation_attachment"].pk, name=None)
    return fields


def _pages(world):
    o = world.objects
    supplier, buyer = o["structure"].pk, o["buyer"].pk
    return {
        "supplier": [
            reverse("portal:invoice_detail", args=[o["invoice"].pk]),
            reverse("portal:invoices_issued"),
            reverse("portal:structures"),
            reverse("portal:structure_detail", args=[supplier]),
            reverse("portal:structure_services", args=[supplier]),
            reverse("portal:structure_bank_accounts", args=[supplier]),
            reverse("portal:invoice_new"),
            reverse("portal:flows"),
            reverse("portal:flow_detail", args=[o["flow"].pk]),
            reverse("portal:notifications"),
            reverse("portal:webhooks"),
            reverse("portal:webhook_detail", args=[o["webhook"].pk]),
            reverse("portal:sollicitations_sent"),
            reverse("portal:sollicitation_detail", args=[o["sollicitation"].pk]),
        ],
        "buyer": [
            reverse("portal:invoice_detail", args=[o["invoice"].pk]),
            reverse("portal:invoices_received"),
            reverse("portal:sollicitations_received"),
            reverse("portal:sollicitation_detail", args=[o["sollicitation"].pk]),
            reverse("portal:engagement_detail", args=[o["engagement"].pk]),
            reverse("portal:annuaire") + f"?q={buyer}",
        ],
    }


def test_downloads_carrying_free_text_are_never_served_as_html():
    """The readable PDF, the audit trail and the compte rendu carry the same free text: never as a page a
    browser would run (not text/html, and no sniffing)."""
    world = build_world()
    _plant(world)
    o = world.objects
    client = _client(world.owners["supplier"])
    urls = [
        reverse("portal:invoice_download", args=[o["invoice"].pk, kind]) for kind in ("piste-pdf", "piste-json")
    ] + [reverse("portal:flow_cr_json", args=[o["flow"].pk]), reverse("portal:flow_cr_pdf", args=[o["flow"].pk])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert not response["Content-Type"].startswith("text/html"), (url, response["Content-Type"])
        assert response.get("X-Content-Type-Options") == "nosniff", url


def test_no_free_text_comes_out_live(capsys):
    world = build_world()
    fields = _plant(world)
    shown: set[int] = set()
    live, pages = [], 0
    for owner, urls in _pages(world).items():
        client = _client(world.owners[owner])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, f"{url} en {owner} : {response.status_code}"
            body = response.content.decode()
            pages += 1
            for match in LIVE.finditer(body):
                live.append(f"{url} : « {body[max(0, match.start() - 80) : match.end() + 40]} »")
            shown |= {n for n in fields.values() if escaped(n) in body}
    assert not live, "Balise ou URL active rendue telle quelle :\n" + "\n".join(live)
    never_shown = sorted(name for name, n in fields.items() if n not in shown)
    # A field shown nowhere proves nothing: every field planted is found, escaped, on at least one page.
    assert not never_shown, f"Champs introuvables sur les pages visitées : {never_shown}"
    with capsys.disabled():
        print(f"\nXSS stockée : {len(fields)} champs × {pages} pages, aucune balise active")
