"""A works contract for tests: a public MOA (also the payer), a MOE, a titulaire with a VAT number and a bank
account, and people who may act for each of them (espace « Factures de travaux » included).

`works_market()` returns a `Market` holding the structures, the people and the `Marche` (entered by the MOE
through `marche_create`, so the sheet's rules apply). `a4_lines()` are the lines of a monthly draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from choeur.directory.enums import EspaceCode
from choeur.works.enums import PartyRole
from choeur.works.services import PartyInput, marche_create
from tests.directory.factories import BankAccountFactory, StructureFactory
from tests.invoices.factories import fr_vat, member_of


def a4_lines():
    return [
        {"reference": "LOT1", "designation": "Gros œuvre — fondations", "quantity": Decimal("1"), "unit": "LS",
         "unit_price_ht": Decimal("12000"), "discount_ht": Decimal("0"), "vat_rate": Decimal("20")},
        {"reference": "LOT2", "designation": "Maçonnerie — murs porteurs", "quantity": Decimal("40"), "unit": "MTK",
         "unit_price_ht": Decimal("150"), "discount_ht": Decimal("0"), "vat_rate": Decimal("20")},
    ]  # fmt: skip


def company(**kwargs):
    structure = StructureFactory(**kwargs)
    if not structure.numero_tva:
        structure.numero_tva = fr_vat(structure.identifier)
        structure.save(update_fields=["numero_tva"])
    BankAccountFactory(structure=structure)
    return structure


@dataclass
class Market:
    marche: object
    moa: object
    moe: object
    titulaire: object
    users: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def user(self, name: str):
        return self.users[name]


def works_market(*, with_moe: bool = True, numero: str = "MT-2026-001", extra_parties=(), **names) -> Market:
    moa = StructureFactory(public=True, is_moa=True, raison_sociale=names.get("moa", "Commune de Beaulieu"))
    moe = (
        StructureFactory(moe=True, raison_sociale=names.get("moe", "Atelier Dubois Architectes")) if with_moe else None
    )
    titulaire = company(raison_sociale=names.get("titulaire", "Bâtiments Martin SA"))
    users = {
        "moa": member_of(moa, EspaceCode.FACTURES_TRAVAUX, EspaceCode.FACTURES_RECUES),
        "titulaire": member_of(titulaire, EspaceCode.FACTURES_TRAVAUX, EspaceCode.FACTURES_EMISES),
    }
    creator_structure = moa
    creator = users["moa"]
    if moe is not None:
        users["moe"] = member_of(moe, EspaceCode.FACTURES_TRAVAUX)
        creator_structure, creator = moe, users["moe"]
    parties = [
        PartyInput(PartyRole.MOA, moa, moa.services.first()),
        PartyInput(PartyRole.TITULAIRE, titulaire),
        *extra_parties,
    ]
    if moe is not None:
        parties.append(PartyInput(PartyRole.MOE, moe))
    marche = marche_create(
        by=creator,
        structure=creator_structure,
        numero=numero,
        objet="Construction d'un groupe scolaire",
        numero_engagement="EJ-2026-77",
        parties=parties,
    )
    return Market(marche=marche, moa=moa, moe=moe, titulaire=titulaire, users=users)


@dataclass
class Groupement:
    marche: object
    mandataire: object
    cotraitant: object
    sous_traitant: object | None
    users: dict = field(default_factory=dict)


def groupement_market(
    base: Market, *, numero: str, objet: str, sous_traitant: bool = False, espaces=(EspaceCode.FACTURES_TRAVAUX,)
) -> Groupement:
    """A second market of `base`'s MOA and MOE let to a groupement: a mandataire and a cotraitant, and, with
    `sous_traitant`, a sous-traitant of the cotraitant paid directly. `users`: one person per company, with
    `espaces` opened (all of them when empty)."""
    mandataire = company(raison_sociale="Mandataire SA")
    cotraitant = company(raison_sociale="Cotraitant SARL")
    sub = company() if sous_traitant else None
    parties = [
        PartyInput(PartyRole.MOA, base.moa),
        PartyInput(PartyRole.MOE, base.moe),
        PartyInput(PartyRole.MANDATAIRE, mandataire),
        PartyInput(PartyRole.COTRAITANT, cotraitant),
    ]
    if sub is not None:
        parties.append(PartyInput(PartyRole.SOUS_TRAITANT, sub, works_for=cotraitant, paiement_direct=True))
    users = {s: member_of(s, *espaces) for s in (mandataire, cotraitant, sub) if s is not None}
    marche = marche_create(by=base.user("moe"), structure=base.moe, numero=numero, objet=objet, parties=parties)
    return Groupement(marche=marche, mandataire=mandataire, cotraitant=cotraitant, sous_traitant=sub, users=users)
