"""Demo works data (choeur/directory/demo.py, DEMO_MARKETS[0]): the fiche of the market « Réhabilitation de
l'école des Tilleuls » and three dossiers de facturation, so that « Factures de travaux » shows every actor
something after `choeur seed_demo`:

- dossier 1: an A4 of the mandataire corrected by the MOE (A15), validated by the MOA (A19), with the payer;
- dossier 2: an A4 waiting for the MOE (MISE_A_DISPOSITION_MOE), the MOE's queue is not empty;
- dossier 3: an A10 of the sous-traitant waiting for its titulaire's validation (A_VALIDER_1).

Everything is made by the demo people through the works services (history, audit, deadlines are real).
Idempotent: a market or a document already there is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from choeur.directory.demo import DEMO_MARKETS, demo_structure
from choeur.directory.enums import IdentifierType
from choeur.directory.models import Structure
from choeur.directory.services import structure_update
from choeur.invoices.models import Invoice
from choeur.works.enums import PartyRole
from choeur.works.models import Marche
from choeur.works.services import (
    PartyInput,
    marche_create,
    works_moa_validate,
    works_moe_transmit,
    works_piece_deposit,
)

MARKET = DEMO_MARKETS[0]
COMPLETED_A4 = "DEMO-PDM-2026-01"
PENDING_A4 = "DEMO-PDM-2026-02"
SUBCONTRACTOR_A10 = "DEMO-PDST-2026-01"


@dataclass
class DemoWorksReport:
    created: list[str] = field(default_factory=list)
    kept: int = 0

    def summary(self) -> str:
        if not self.created:
            return f"Travaux de démonstration déjà présents ({self.kept} élément(s)) : rien n'a changé."
        return f"Travaux de démonstration : {', '.join(self.created)} ; {self.kept} élément(s) déjà présent(s)."


def _structure(key: str) -> Structure:
    return Structure.objects.get(identifier_type=IdentifierType.SIRET, identifier=demo_structure(key).siret)


def _person(key: str):
    """The demo structure's gestionnaire principal, subscribed to « Factures de travaux »."""
    return get_user_model().objects.get(email=demo_structure(key).people[0].email)


def _vat_ensure(key: str) -> None:
    # A works document carries VAT: the company's gestionnaire fills its VAT number in, as before any invoice.
    structure = _structure(key)
    if not structure.numero_tva:
        siren = structure.identifier[:9]
        structure_update(
            by=_person(key), structure=structure, numero_tva=f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
        )


def _line(ref, designation, quantity, unit, price) -> dict:
    return {
        "reference": ref,
        "designation": designation,
        "quantity": Decimal(quantity),
        "unit": unit,
        "unit_price_ht": Decimal(price),
        "discount_ht": Decimal("0"),
        "vat_rate": Decimal("20"),
    }


MANDATAIRE_LINES = [
    _line("LOT1", "Désamiantage et curage des salles de classe", "1", "LS", "18400"),
    _line("LOT2", "Reprise des planchers du préau", "120", "MTK", "95"),
]
SUBCONTRACTOR_LINES = [_line("PEINT", "Peinture des circulations (2 couches)", "310", "MTK", "24.50")]


def _marche_ensure(report: DemoWorksReport) -> Marche:
    commune, lumen = _structure(MARKET["moa"]), _structure(MARKET["moe"])
    existing = Marche.objects.filter(
        numero=MARKET["numero_marche"], parties__role=PartyRole.MOA, parties__structure=commune
    ).first()
    if existing is not None:
        report.kept += 1
        return existing
    groupement = MARKET["groupement"]
    parties = [
        PartyInput(PartyRole.MOA, commune, commune.services.get(code=MARKET["service_executant"])),
        PartyInput(PartyRole.MOE, lumen),
        PartyInput(PartyRole.MANDATAIRE, _structure(groupement["mandataire"])),
        *(PartyInput(PartyRole.COTRAITANT, _structure(key)) for key in groupement["cotraitants"]),
        *(
            PartyInput(
                PartyRole.SOUS_TRAITANT,
                _structure(item["sous_traitant"]),
                works_for=_structure(item["titulaire"]),
                paiement_direct=item["paiement_direct"],
            )
            for item in MARKET["sous_traitants"]
        ),
    ]
    marche = marche_create(
        by=_person(MARKET["moe"]),
        structure=lumen,
        numero=MARKET["numero_marche"],
        objet=MARKET["objet"],
        numero_engagement="EJ-2026-TRX-014",
        parties=parties,
    )
    report.created.append(f"fiche du marché {marche.numero}")
    return marche


def _exists(key: str, number: str) -> bool:
    return Invoice.objects.filter(supplier=_structure(key), number=number).exists()


def demo_works_seed() -> DemoWorksReport:
    """Create what is missing of the demo works data (the demo structures must exist: `demo_seed` first)."""
    report = DemoWorksReport()
    mandataire_key = MARKET["groupement"]["mandataire"]
    sub_key = MARKET["sous_traitants"][0]["sous_traitant"]
    for key in (mandataire_key, sub_key):
        _vat_ensure(key)
    with transaction.atomic():
        marche = _marche_ensure(report)
    mandataire, moe, moa = _structure(mandataire_key), _structure(MARKET["moe"]), _structure(MARKET["moa"])

    if _exists(mandataire_key, COMPLETED_A4):
        report.kept += 1
    else:
        with transaction.atomic():
            a4 = works_piece_deposit(
                marche=marche, cadre="A4", by=_person(mandataire_key), structure=mandataire,
                data={"number": COMPLETED_A4}, lines=MANDATAIRE_LINES,
            )  # fmt: skip
            works_moe_transmit(
                dossier=a4.dossier, by=_person(MARKET["moe"]), structure=moe,
                corrections={2: {"quantity": "100", "reason": "Métré contradictoire : 100 m² repris sur 120"}},
            )  # fmt: skip
            works_moa_validate(dossier=a4.dossier, by=_person(MARKET["moa"]), structure=moa)
        report.created.append(f"dossier {a4.dossier.reference} (A4 → A15 → A19, chez le service payeur)")

    if _exists(mandataire_key, PENDING_A4):
        report.kept += 1
    else:
        with transaction.atomic():
            a4 = works_piece_deposit(
                marche=marche, cadre="A4", by=_person(mandataire_key), structure=mandataire,
                data={"number": PENDING_A4}, lines=MANDATAIRE_LINES,
            )  # fmt: skip
        report.created.append(f"dossier {a4.dossier.reference} (A4 chez la maîtrise d'œuvre)")

    if _exists(sub_key, SUBCONTRACTOR_A10):
        report.kept += 1
    else:
        with transaction.atomic():
            a10 = works_piece_deposit(
                marche=marche, cadre="A10", by=_person(sub_key), structure=_structure(sub_key),
                data={"number": SUBCONTRACTOR_A10}, lines=SUBCONTRACTOR_LINES,
            )  # fmt: skip
        report.created.append(f"dossier {a10.dossier.reference} (A10 à valider par le titulaire)")
    return report
