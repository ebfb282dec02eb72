"""The world the proof suite attacks: a « foreign » supplier and buyer whose every kind of object exists (and
carries the marker ZQXSECRET in its private text), and attackers of every role who belong elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from choeur.api.models import ApiEvent, WebhookDelivery, WebhookEndpoint
from choeur.core.files import file_store
from choeur.core.models import StoredFile
from choeur.directory.enums import EspaceCode, Role
from choeur.directory.services import structure_defaults_ensure
from choeur.invoices.enums import InvoiceStatus, NotificationFrequency
from choeur.invoices.models import InvoiceAttachment, InvoiceTemplate, Notification
from choeur.sollicitations.models import SollicitationAttachment
from choeur.works.services import dossier_create
from tests.accounts.factories import UserFactory
from tests.api.conftest import make_raccordement
from tests.directory.factories import BankAccountFactory, EngagementFactory, RattachementFactory, StructureFactory
from tests.flows.factories import FlowFactory
from tests.invoices.factories import InvoiceFactory, fr_vat, member_of
from tests.sollicitations.factories import make_sollicitation
from tests.works.factories import works_market

MARKER = "ZQXSECRET"
ATTACKERS = ("anonymous", "outsider", "supplier", "buyer", "gestionnaire")


@dataclass
class Foreign:
    """Every object of the foreign structures, by the key the expectations table names, and their owners."""

    objects: dict[str, object] = field(default_factory=dict)
    owners: dict[str, object] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    raccordements: dict[str, object] = field(default_factory=dict)

    def pk(self, key: str):
        return self.objects[key].pk


def _stored_file(name: str) -> StoredFile:
    return file_store(content=b"%PDF-1.4\n% " + name.encode() + b"\n%%EOF\n", mime_type="application/pdf")


def build_world() -> Foreign:
    from choeur.sollicitations.models import SollicitationCategory, SollicitationSubCategory
    from choeur.sollicitations.referential import categories_seed

    # Tests run without migrations: the seeded referential the data migration writes.
    categories_seed(SollicitationCategory, SollicitationSubCategory)
    world = Foreign()
    o = world.objects
    supplier = StructureFactory(raison_sociale="Fournisseur Étranger", numero_tva="")
    supplier.numero_tva = fr_vat(supplier.identifier)
    supplier.save(update_fields=["numero_tva"])
    buyer = StructureFactory(public=True, raison_sociale="Acheteur Étranger")
    for structure in (supplier, buyer):
        structure_defaults_ensure(structure=structure)
    o["structure"] = supplier
    o["buyer"] = buyer
    owner = member_of(supplier)  # a gestionnaire secondaire with every espace
    owner.rattachements.filter(structure=supplier).update(role=Role.GESTIONNAIRE_PRINCIPAL)
    buyer_owner = member_of(buyer)
    world.owners = {"supplier": owner, "buyer": buyer_owner}
    o["service"] = supplier.services.first()
    o["bank"] = BankAccountFactory(structure=supplier, label=f"Compte {MARKER}")
    o["rattachement"] = RattachementFactory(structure=supplier, pending=True)
    o["member"] = RattachementFactory(structure=supplier)
    rac = make_raccordement(supplier, name="etranger")
    world.raccordements["foreign"] = rac
    o["account"] = rac.account
    o["client"] = rac.client
    o["flow"] = FlowFactory(structure=supplier, filename=f"{MARKER}.xml", integre=True)
    o["draft"] = InvoiceFactory(supplier=supplier, recipient=buyer, number=f"{MARKER}-BR")
    o["invoice"] = InvoiceFactory(sent=True, with_lines=True, supplier=supplier, recipient=buyer, number=f"{MARKER}-1")
    o["attachment"] = InvoiceAttachment.objects.create(
        invoice=o["invoice"], file=_stored_file("piece"), name=f"{MARKER}.pdf"
    )
    valideur = StructureFactory(raison_sociale="Valideur Étranger")
    structure_defaults_ensure(structure=valideur)
    world.owners["valideur"] = member_of(valideur)
    o["to_validate"] = InvoiceFactory(
        sent=True,
        a9=True,
        valideur=valideur,
        supplier=supplier,
        recipient=buyer,
        number=f"{MARKER}-AV",
        status=InvoiceStatus.A_VALIDER_1,
    )
    o["to_validate_attachment"] = InvoiceAttachment.objects.create(
        invoice=o["to_validate"], file=_stored_file("piece-a-valider"), name=f"{MARKER}-av.pdf"
    )
    o["to_correct"] = InvoiceFactory(
        sent=True,
        a9=True,
        valideur=valideur,
        supplier=supplier,
        recipient=buyer,
        number=f"{MARKER}-EV",
        status=InvoiceStatus.ERREUR_FOURNISSEUR_SUR_VALIDEUR,
    )
    o["template"] = InvoiceTemplate.objects.create(supplier=supplier, name=f"Modèle {MARKER}")
    o["engagement"] = EngagementFactory(structure=buyer, supplier=supplier, number=f"EJ-{MARKER}")
    market = works_market(numero=f"MT-{MARKER}")
    o["marche"] = market.marche
    o["dossier"] = dossier_create(
        marche=market.marche,
        kind="MENSUEL",
        company=market.titulaire,
        by=market.users["titulaire"],
        structure=market.titulaire,
    )
    world.owners["works"] = market.users["titulaire"]
    o["notification"] = Notification.objects.create(
        user=owner,
        structure=supplier,
        espace=EspaceCode.FACTURES_EMISES,
        invoice=o["invoice"],
        title=f"Facture {MARKER}",
        frequency=NotificationFrequency.NONE,
    )
    o["webhook"] = WebhookEndpoint.objects.create(
        structure=supplier, url="https://recepteur.example/hook", secret="s" * 32, description=f"Hook {MARKER}"
    )
    event = ApiEvent.objects.create(
        structure=supplier,
        type=ApiEvent.Type.INVOICE_STATUS_CHANGED,
        source=f"test:{MARKER}",
        occurred_at=timezone.now(),
    )
    o["delivery"] = WebhookDelivery.objects.create(endpoint=o["webhook"], event=event)
    sender = owner.rattachements.get(structure=supplier)
    recipient = buyer_owner.rattachements.get(structure=buyer)
    o["sollicitation"] = make_sollicitation(sender=sender, recipient=recipient, subject=f"Question {MARKER}")
    o["sollicitation_attachment"] = SollicitationAttachment.objects.create(
        message=o["sollicitation"].messages.first(), file=_stored_file("soll"), name=f"{MARKER}.pdf"
    )

    # The attackers: each belongs to structures of its own, none to the foreign ones.
    own_supplier = StructureFactory(raison_sociale="Attaquant Fournisseur")
    own_buyer = StructureFactory(public=True, raison_sociale="Attaquant Acheteur")
    for structure in (own_supplier, own_buyer):
        structure_defaults_ensure(structure=structure)
    world.users = {
        "anonymous": None,
        "outsider": UserFactory(),
        "supplier": RattachementFactory(structure=own_supplier).user,
        "buyer": member_of(own_buyer),
        "gestionnaire": RattachementFactory(structure=own_supplier, gp=True).user,
    }
    for code in EspaceCode.values:
        from tests.invoices.factories import open_espace

        open_espace(own_supplier, code)
    world.raccordements["attacker"] = make_raccordement(own_supplier, name="attaquant")
    return world
