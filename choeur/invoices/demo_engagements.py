"""Demo engagements juridiques of the demo buyers, entered by their gestionnaire through `engagement_create`:
the numbers the demo invoices carry (choeur/invoices/demo.py), so that each EJ's page shows what was invoiced,
validated and paid, and a few not yet consumed that the saisie proposes. Idempotent: an EJ number the buyer
already has is left alone. Run after `demo_seed` (structures) and before or after the demo invoices.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model

from choeur.directory.demo import demo_structure
from choeur.directory.enums import EngagementType, IdentifierType
from choeur.directory.models import EngagementJuridique, Structure
from choeur.invoices.demo import EJ_ETAT, EJ_HOPITAL
from choeur.invoices.engagements import engagement_create


@dataclass(frozen=True)
class DemoEngagement:
    buyer: str  # keys of choeur.directory.demo
    supplier: str
    number: str
    amount_ttc: Decimal
    notified_on: datetime.date
    service: str = ""
    type: str = EngagementType.BON_DE_COMMANDE
    numero_marche: str = ""
    label: str = ""


DEMO_ENGAGEMENTS: tuple[DemoEngagement, ...] = (
    # Consumed by FM-2026-0101 … 0109 (the rejected one not counted).
    DemoEngagement(
        "etat", "marchand", EJ_ETAT, Decimal("9000.00"), datetime.date(2026, 1, 12), "SG_ACHATS",
        numero_marche="2026-FCS-003", label="Fournitures de bureau 2026",
    ),
    # Consumed by FM-2026-0201 … 0206 (the ones to recycle not counted).
    DemoEngagement(
        "hopital", "marchand", EJ_HOPITAL, Decimal("6000.00"), datetime.date(2026, 1, 20), "PHARMACIE",
        type=EngagementType.MARCHE, numero_marche="2026-HOS-021", label="Consommables de la pharmacie",
    ),
    # Not consumed yet: proposed by the saisie to these suppliers.
    DemoEngagement(
        "hopital", "marchand", "EJ-2026-01044", Decimal("2400.00"), datetime.date(2026, 3, 2), "PHARMACIE",
        label="Solutions hydroalcooliques, 2e trimestre",
    ),
    DemoEngagement(
        "commune", "garnier", "BC-2026-0314", Decimal("15000.00"), datetime.date(2026, 2, 16), "SERV_TECHNIQUES",
        numero_marche="2026-TRX-014", label="Reprise des menuiseries du préau",
    ),
    DemoEngagement(
        "commune", "aubert", "BC-2026-0322", Decimal("8400.00"), datetime.date(2026, 3, 4), "AFFAIRES_SCOLAIRES",
        label="Menuiseries de l'école Jules-Ferry",
    ),
)  # fmt: skip


@dataclass
class DemoEngagementsReport:
    created: list[str] = field(default_factory=list)
    kept: int = 0

    def summary(self) -> str:
        if not self.created:
            return f"Engagements juridiques de démonstration déjà présents ({self.kept}) : rien n'a changé."
        return f"Engagements juridiques de démonstration : {len(self.created)} créé(s), {self.kept} déjà présent(s)."


def _structure(key: str) -> Structure:
    return Structure.objects.get(identifier_type=IdentifierType.SIRET, identifier=demo_structure(key).siret)


def demo_engagements_seed() -> DemoEngagementsReport:
    report = DemoEngagementsReport()
    for spec in DEMO_ENGAGEMENTS:
        buyer = _structure(spec.buyer)
        if EngagementJuridique.objects.filter(structure=buyer, number__iexact=spec.number).exists():
            report.kept += 1
            continue
        engagement_create(
            by=get_user_model().objects.get(email=demo_structure(spec.buyer).people[0].email),
            structure=buyer,
            number=spec.number,
            supplier=_structure(spec.supplier),
            service=spec.service or None,
            amount_ttc=spec.amount_ttc,
            notified_on=spec.notified_on,
            type=spec.type,
            numero_marche=spec.numero_marche,
            label=spec.label,
        )
        report.created.append(spec.number)
    return report
