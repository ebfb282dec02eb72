"""Setups of the `engagementsJuridiques/v1` and `telecharger/pieceJointe` ENGAGEMENT_JURIDIQUE golden pairs:
EJs the commune and the hospital addressed to the world's supplier, one with its PDF, and one to another
supplier that the caller must not see."""

from __future__ import annotations

import datetime
from decimal import Decimal

from choeur.core.files import file_store
from choeur.directory.enums import EngagementState, EngagementType
from tests.api.factures_world import PDF
from tests.directory.factories import EngagementFactory


def engagements_recorded(world):
    fournisseur = world["structure:fournisseur"]
    world.add(
        "engagement",
        "voirie",
        EngagementFactory(
            structure=world["structure:commune"],
            supplier=fournisseur,
            number="EJ-2026-0001",
            service=world["service:commune:VOIRIE"],
            amount_ttc=Decimal("12000.00"),
            notified_on=datetime.date(2026, 2, 1),
            label="Entretien de la voirie",
            document=file_store(content=PDF, mime_type="application/pdf"),
            document_name="bon-de-commande.pdf",
        ),
    )
    world.add(
        "engagement",
        "pharmacie",
        EngagementFactory(
            structure=world["structure:hopital"],
            supplier=fournisseur,
            number="EJ-H-77",
            type=EngagementType.MARCHE,
            numero_marche="M-2026-3",
            amount_ttc=Decimal("480.50"),
            notified_on=datetime.date(2026, 1, 10),
            state=EngagementState.CLOTURE,
        ),
    )
    world.add(
        "engagement",
        "autre",
        EngagementFactory(
            structure=world["structure:commune"], supplier=world["structure:autre_prive"], number="EJ-2026-0002"
        ),
    )
