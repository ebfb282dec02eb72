"""Setups of the `factures/v1` golden pairs (named by "setup" in a golden request): invoices sent through the
real services from the world's supplier to the Commune de Valfleurie, moved along their lifecycle, a
flow, files uploaded for later calls. Each returns the raccordement to call with (None: the supplier's)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from choeur.api.models import ApiUploadedFile
from choeur.core.files import file_store
from choeur.flows.enums import Channel as FlowChannel
from choeur.flows.services import flow_deposit
from choeur.invoices import lifecycle
from choeur.invoices.enums import Channel, InvoiceStatus, ModeDepot
from choeur.invoices.models import InvoiceStatusChange
from choeur.invoices.services import invoice_draft_create, invoice_send
from tests.api.conftest import make_raccordement
from tests.flows.fixtures import vat_number

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LINES = [
    {
        "reference": "MENU-01",
        "designation": "Remplacement de fenêtres — école Jules-Ferry",
        "quantity": Decimal("4"),
        "unit": "H87",
        "unit_price_ht": Decimal("450.00"),
        "vat_rate": Decimal("20"),
    },
    {
        "reference": "POSE-02",
        "designation": "Pose et réglages",
        "quantity": Decimal("6"),
        "unit": "HUR",
        "unit_price_ht": Decimal("55.00"),
        "vat_rate": Decimal("20"),
    },
]


def _recipient_raccordement(world):
    if not hasattr(world, "commune"):
        world.commune = make_raccordement(world["structure:commune"], name="commune")
    return world.commune


def _send(world, *, number: str = "F-2026-0042", name: str = "envoyee"):
    supplier = world["structure:fournisseur"]
    if supplier.numero_tva != vat_number(supplier.identifier[:9]):
        supplier.numero_tva = vat_number(supplier.identifier[:9])
        supplier.save(update_fields=["numero_tva"])
    draft = invoice_draft_create(
        supplier=supplier,
        by=None,
        lines=LINES,
        number=number,
        invoice_date=datetime.date(2026, 2, 20),
        recipient=world["structure:commune"],
        recipient_service=world["service:commune:FACTURES_PUBLIQUES"],
        supplier_bank_account=world["bank:fournisseur:principal"],
        payment_mode="VIREMENT",
        numero_marche="M-2025-017",
        numero_engagement="EJ-2026-0007",
        mode_depot=ModeDepot.SAISIE_API,
        comment="Travaux de l'été 2025",
    )
    invoice = invoice_send(invoice=draft, by=None, channel=Channel.API, by_label="API — golden")
    world.add("invoice", name, invoice)
    world.add("file", name, invoice.main_document)
    return invoice


def _register_history(world, invoice, name: str):
    for index, change in enumerate(InvoiceStatusChange.objects.for_invoice(invoice)):
        world.add("status_change", f"{name}:{index}", change)


def _process(world, invoice, transition: str, **kwargs):
    return lifecycle.invoice_process(
        invoice=invoice,
        by=None,
        structure=world["structure:commune"],
        transition=transition,
        channel=Channel.API,
        **kwargs,
    )


def invoice_sent(world):
    _send(world)


def invoice_sent_recipient(world):
    _send(world)
    return _recipient_raccordement(world)


def invoice_sent_with_history(world):
    invoice = _send(world)
    invoice = _process(world, invoice, "service_fait")
    invoice = _process(world, invoice, "mandater", numero_dp_mandat="MDT-2026-0042")
    _register_history(world, invoice, "envoyee")


def invoice_suspended(world):
    invoice = _send(world)
    _process(
        world,
        invoice,
        "suspendre",
        motif="BON_DE_LIVRAISON_MANQUANT",
        comment="Joignez le procès-verbal de réception des fenêtres.",
    )
    upload = ApiUploadedFile.objects.create(
        structure=world["structure:fournisseur"],
        technical_account=world.fournisseur.account,
        file=file_store(content=PDF, mime_type="application/pdf"),
        name="pv-reception.pdf",
        mime_type="application/pdf",
    )
    world.add("piece", "pv-reception", upload)


def invoice_to_recycle(world):
    invoice = _send(world)
    _process(
        world, invoice, "a_recycler", motif="ERREUR_CODE_SERVICE", comment="Adressez la facture au service des écoles."
    )


def invoice_rejected(world):
    invoice = _send(world)
    _process(world, invoice, "rejeter", motif="ERREUR_MONTANT", comment="Le prix unitaire n'est pas celui du marché.")
    assert invoice.__class__.objects.get(pk=invoice.pk).status == InvoiceStatus.REJETEE


def uploaded_pdf(world):
    upload = ApiUploadedFile.objects.create(
        structure=world["structure:fournisseur"],
        technical_account=world.fournisseur.account,
        file=file_store(content=PDF, mime_type="application/pdf"),
        name="facture-f-2026-0043.pdf",
        mime_type="application/pdf",
        purpose=ApiUploadedFile.Purpose.FACTURE,
    )
    world.add("piece", "facture-pdf", upload)


def flow_deposited(world):
    """A flow deposited (not processed: no commit in the golden test), its number shown as a name."""
    flow, _created = flow_deposit(
        structure=world["structure:fournisseur"],
        content=b"<Invoice>pas encore traite</Invoice>",
        filename="lot-mars.xml",
        channel=FlowChannel.API,
        by_label="API — golden",
    )
    world.strings = {**getattr(world, "strings", {}), flow.numero_flux_depot: "<flux:lot-mars>"}
