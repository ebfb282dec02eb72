import hashlib

import factory

from choeur.core.models import StoredFile
from choeur.directory.enums import EspaceCode, Habilitation, SubscriptionStatus
from choeur.directory.models import EspaceSubscription, StructureEspace
from choeur.flows.enums import Channel, FlowState
from choeur.flows.models import Flow, flow_number
from tests.directory.factories import RattachementFactory, StructureFactory


def open_espace(structure, code=EspaceCode.FACTURES_EMISES) -> StructureEspace:
    espace, _ = StructureEspace.objects.get_or_create(structure=structure, code=code, defaults={"is_open": True})
    return espace


def subscribe(user, structure, *, habilitation=Habilitation.MODIFICATION, code=EspaceCode.FACTURES_EMISES):
    """A validated utilisateur simple of `structure`, subscribed to espace `code` with `habilitation`."""
    rattachement = RattachementFactory(user=user, structure=structure)
    EspaceSubscription.objects.create(
        rattachement=rattachement,
        espace=open_espace(structure, code),
        habilitation=habilitation,
        status=SubscriptionStatus.VALIDEE,
    )
    return rattachement


def supplier_structure(**kwargs):
    """A supplier ready to invoice through flows: its VAT number, the bank account of the fixture invoices
    (tests/flows/fixtures), its Factures émises espace open."""
    from tests.directory.factories import BankAccountFactory
    from tests.flows.fixtures import FIXTURE_IBAN, vat_number

    structure = StructureFactory(**kwargs)
    structure.numero_tva = vat_number(structure.identifier[:9])
    structure.save(update_fields=["numero_tva"])
    open_espace(structure)
    BankAccountFactory(structure=structure, iban=FIXTURE_IBAN)
    return structure


def buyer_structure(**kwargs):
    """A public recipient with its Factures reçues espace open."""
    structure = StructureFactory(public=True, **kwargs)
    open_espace(structure, code=EspaceCode.FACTURES_RECUES)
    return structure


class FlowFactory(factory.django.DjangoModelFactory):
    """A flow already recorded (waiting for processing by default). Traits: `integre`, `rejete`."""

    class Meta:
        model = Flow

    structure = factory.SubFactory(StructureFactory)
    channel = Channel.PORTAIL
    filename = factory.Sequence(lambda n: f"flux-{n}.xml")
    sha256 = factory.Sequence(lambda n: hashlib.sha256(f"contenu {n}".encode()).hexdigest())
    size = 1234
    state = FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP
    file = factory.LazyAttribute(
        lambda o: StoredFile.objects.get_or_create(
            sha256=o.sha256, defaults={"size": o.size, "mime_type": "application/xml", "storage_name": f"x/{o.sha256}"}
        )[0]
    )

    @factory.post_generation
    def number(obj, create, extracted, **kwargs):
        if create and not obj.numero_flux_depot:
            obj.numero_flux_depot = flow_number(pk=obj.pk, channel=obj.channel, year=2026)
            obj.save(update_fields=["numero_flux_depot"])

    class Params:
        integre = factory.Trait(state=FlowState.IN_INTEGRE, document_count=1)
        rejete = factory.Trait(state=FlowState.IN_REJETE, document_count=1)
