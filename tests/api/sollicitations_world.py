"""Setups of the sollicitation golden pairs: the seeded referential (tests run without migrations) and a
sollicitation of the supplier to the commune with a document."""

from choeur.sollicitations.models import SollicitationCategory, SollicitationSubCategory
from choeur.sollicitations.referential import categories_seed
from choeur.sollicitations.services import sollicitation_create

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def referential(world):
    categories_seed(SollicitationCategory, SollicitationSubCategory)
    for category in SollicitationCategory.objects.all():
        world.add("categorie", category.code, category)


def asked(world):
    referential(world)
    sollicitation = sollicitation_create(
        by=None, api_structure=world["structure:fournisseur"], recipient_structure=world["structure:commune"],
        subcategory=SollicitationSubCategory.objects.get(category__code="FACTURE", code="SUSPENSION"),
        subject="Facture suspendue", body="Que manque-t-il ?", attachments=[("bon.pdf", PDF)],
    )  # fmt: skip
    world.add("sollicitation", "question", sollicitation)
    # Its number follows the row id: shown by name in the answers.
    world.strings = {**getattr(world, "strings", {}), f"{sollicitation.numero}.zip": "<numero:question>.zip"}


def asked_seen_by_another_structure(world):
    """The same sollicitation, downloaded with another structure's credentials: « introuvable »."""
    asked(world)
    return world.autre
