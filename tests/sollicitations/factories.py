"""Sollicitations for tests. A sollicitation about an invoice from its supplier to its public recipient by
default (through the service, so the message and the number exist). Traits: none; use `to_support=True`."""

from choeur.sollicitations.models import SollicitationSubCategory
from choeur.sollicitations.services import sollicitation_create
from tests.directory.factories import RattachementFactory, StructureFactory


def subcategory(category: str = "FACTURE", code: str = "SUSPENSION") -> SollicitationSubCategory:
    return SollicitationSubCategory.objects.get(category__code=category, code=code)


def personas():
    """A supplier person and a buyer person, each attached to their structure, and an outsider."""
    supplier = RattachementFactory(structure=StructureFactory())
    buyer = RattachementFactory(structure=StructureFactory(public=True))
    outsider = RattachementFactory(structure=StructureFactory(public=True))
    return supplier, buyer, outsider


def make_sollicitation(*, sender, recipient=None, to_support=False, **kwargs):
    sub = subcategory("SUPPORT", "AUTRE") if to_support else kwargs.pop("subcategory", subcategory())
    return sollicitation_create(
        by=sender.user,
        sender_structure=sender.structure,
        recipient_structure=None if to_support else recipient.structure,
        subcategory=sub,
        subject=kwargs.pop("subject", "Pourquoi ma facture est-elle suspendue ?"),
        body=kwargs.pop("body", "Bonjour, la facture F-1 est suspendue : que manque-t-il ?"),
        **kwargs,
    )
