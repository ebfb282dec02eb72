"""Cadres de facturation: who may deposit what, and what happens next (chorus-pro.md §4).

Each cadre (A1…A25) says which kind of payment request it is, who deposits it and whether a valideur must
be named. The table is data, so the portal's selects, the API's `recuperer/cadrefacturation` and the
routing checks all read the same facts.

Which cadres go where:
- **Portal saisie** (the form that generates the invoice) offers only the non-works cadres of ordinary
  suppliers: A1, A2, A9 and A12 (`PORTAL_SAISIE_CADRES`).
- **A3 (mémoire de justice) and A21 (TIC/TICGN refund)** are *specialised*: they belong to dedicated
  circuits (justice services, tax services) that Chœur does not run; they can be received through flows
  and the API, but are not offered in the saisie.
- **Works cadres** (A4–A8, A10, A11, A13–A20, A22–A25) are handled by the works app (dossiers de
  facturation, MOE/MOA circuits). Since 2016 Chorus Pro does not allow their manual saisie either.
"""

from __future__ import annotations

from dataclasses import dataclass

from choeur.invoices.enums import Cadre, DepositorRole, TypeDemandePaiement

R = DepositorRole


@dataclass(frozen=True)
class CadreRule:
    cadre: Cadre
    label: str
    type_demande_paiement: str
    depositor_roles: frozenset[str]
    next_actor: str
    valideur_required: bool = False
    is_works: bool = False
    specialised: bool = False

    @property
    def code(self) -> str:
        return self.cadre.code

    @property
    def api_value(self) -> str:
        return self.cadre.value


def _rule(cadre, label, roles, next_actor, *, valideur=False, works=False, specialised=False) -> CadreRule:
    return CadreRule(
        cadre=cadre,
        label=label,
        type_demande_paiement=TypeDemandePaiement.FACTURE_TRAVAUX if works else TypeDemandePaiement.FACTURE,
        depositor_roles=frozenset(roles),
        next_actor=next_actor,
        valideur_required=valideur,
        is_works=works,
        specialised=specialised,
    )


CADRE_RULES: dict[Cadre, CadreRule] = {
    rule.cadre: rule
    for rule in (
        _rule(Cadre.A1, "Facture d'un fournisseur", [R.FOURNISSEUR], "destinataire"),
        _rule(
            Cadre.A2,
            "Facture déjà payée, transmise pour information (achat par carte, par exemple)",
            [R.FOURNISSEUR],
            "destinataire (aucun paiement attendu)",
        ),
        _rule(Cadre.A3, "Mémoire de frais de justice", [R.FOURNISSEUR], "services de la justice", specialised=True),
        _rule(Cadre.A4, "Projet de décompte mensuel", [R.FOURNISSEUR], "maîtrise d'œuvre", works=True),
        _rule(Cadre.A5, "État d'acompte (sans maîtrise d'œuvre)", [R.FOURNISSEUR], "maîtrise d'ouvrage", works=True),
        _rule(Cadre.A6, "État d'acompte validé", [R.FOURNISSEUR], "service payeur", works=True),
        _rule(Cadre.A7, "Projet de décompte final", [R.FOURNISSEUR], "maîtrise d'œuvre", works=True),
        _rule(Cadre.A8, "Décompte général et définitif signé", [R.FOURNISSEUR], "service payeur", works=True),
        _rule(
            Cadre.A9,
            "Facture d'un sous-traitant (paiement direct)",
            [R.SOUS_TRAITANT],
            "valideur (titulaire du marché), puis destinataire",
            valideur=True,
        ),
        _rule(
            Cadre.A10,
            "Projet de décompte mensuel d'un sous-traitant",
            [R.SOUS_TRAITANT],
            "titulaire et MOE",
            works=True,
        ),
        _rule(
            Cadre.A11, "Projet de décompte final d'un sous-traitant", [R.SOUS_TRAITANT], "titulaire et MOE", works=True
        ),
        _rule(
            Cadre.A12,
            "Facture d'un cotraitant",
            [R.COTRAITANT],
            "valideur (mandataire du groupement), puis destinataire",
            valideur=True,
        ),
        _rule(Cadre.A13, "Projet de décompte mensuel d'un cotraitant", [R.COTRAITANT], "maîtrise d'œuvre", works=True),
        _rule(Cadre.A14, "Projet de décompte final d'un cotraitant", [R.COTRAITANT], "maîtrise d'œuvre", works=True),
        _rule(Cadre.A15, "État d'acompte établi par la maîtrise d'œuvre", [R.MOE], "maîtrise d'ouvrage", works=True),
        _rule(Cadre.A16, "État d'acompte validé par la maîtrise d'œuvre", [R.MOE], "service payeur", works=True),
        _rule(Cadre.A17, "Projet de décompte général", [R.MOE], "maîtrise d'ouvrage", works=True),
        _rule(Cadre.A18, "Décompte général", [R.MOE], "titulaire (qui le signe : A8)", works=True),
        _rule(Cadre.A19, "État d'acompte validé par la maîtrise d'ouvrage", [R.MOA], "service payeur", works=True),
        _rule(
            Cadre.A20, "Décompte général notifié au titulaire", [R.MOA], "titulaire (qui le signe : A8)", works=True
        ),
        _rule(
            Cadre.A21,
            "Demande de remboursement de la TIC/TICGN",
            [R.FOURNISSEUR],
            "services fiscaux",
            specialised=True,
        ),
        _rule(
            Cadre.A22,
            "Projet de décompte général (procédure tacite)",
            [R.FOURNISSEUR],
            "maîtrise d'œuvre et maîtrise d'ouvrage",
            works=True,
        ),
        _rule(Cadre.A23, "Décompte général et définitif tacite", [R.FOURNISSEUR], "service payeur", works=True),
        _rule(Cadre.A24, "Décompte général et définitif tacite", [R.MOE], "service payeur", works=True),
        _rule(Cadre.A25, "Décompte général et définitif (procédure tacite)", [R.MOE], "service payeur", works=True),
    )
}

PORTAL_SAISIE_CADRES: tuple[Cadre, ...] = (Cadre.A1, Cadre.A2, Cadre.A9, Cadre.A12)
VALIDEUR_CADRES = frozenset(c for c, rule in CADRE_RULES.items() if rule.valideur_required)
# A sous-traitant's works drafts go to its titulaire before the MOE (chorus-pro.md §4, « titulaire and MOE »):
# the works app names that valideur (optional here, never typed by the depositor).
WORKS_VALIDEUR_CADRES = frozenset({Cadre.A10, Cadre.A11})
WORKS_CADRES = frozenset(c for c, rule in CADRE_RULES.items() if rule.is_works)


def cadre_rule(cadre: str | Cadre) -> CadreRule:
    """The rule of a cadre given as `Cadre`, API string or short code; ValueError (French) if unknown."""
    return CADRE_RULES[Cadre.from_code(cadre)]


def roles_available_to(structure) -> set[str]:
    """The depositor roles a structure can take.

    Anybody may invoice as fournisseur, sous-traitant or cotraitant (those roles come from a contract, which
    the platform does not hold). Only a structure declared as maîtrise d'œuvre (`is_moe`) issues MOE
    documents, and only a public structure declared as maîtrise d'ouvrage (`is_moa`) issues MOA documents.
    """
    roles = {R.FOURNISSEUR, R.SOUS_TRAITANT, R.COTRAITANT}
    if structure.is_moe:
        roles.add(R.MOE)
    if structure.is_moa and structure.is_public:
        roles.add(R.MOA)
    return roles


def cadres_allowed_for(*, supplier, as_role: str, portal_saisie: bool = False) -> list[CadreRule]:
    """Cadres the supplier may deposit when acting as `as_role` (a DepositorRole), in table order.

    `portal_saisie=True` keeps only the cadres offered by the saisie form (PORTAL_SAISIE_CADRES).
    """
    if as_role not in roles_available_to(supplier):
        return []
    return [
        rule
        for cadre, rule in CADRE_RULES.items()
        if as_role in rule.depositor_roles and (not portal_saisie or cadre in PORTAL_SAISIE_CADRES)
    ]


def cadre_refusal_for(*, supplier, cadre: str | Cadre) -> str | None:
    """Why the supplier may not deposit under this cadre (French), or None when it may."""
    rule = cadre_rule(cadre)
    if rule.depositor_roles & roles_available_to(supplier):
        return None
    if DepositorRole.MOE in rule.depositor_roles:
        return (
            f"Le cadre {rule.code} est réservé à la maîtrise d'œuvre : la structure {supplier.designation} "
            "n'est pas déclarée maîtrise d'œuvre (MOE) dans l'annuaire."
        )
    if DepositorRole.MOA in rule.depositor_roles:
        return (
            f"Le cadre {rule.code} est réservé à une maîtrise d'ouvrage publique : la structure "
            f"{supplier.designation} n'est pas une structure publique déclarée maîtrise d'ouvrage (MOA)."
        )
    return f"Le cadre {rule.code} n'est pas ouvert à la structure {supplier.designation}."
