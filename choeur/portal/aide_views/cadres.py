# ruff: noqa: E501  (CADRE_HELP is one line per cadre, read as a table)
"""What each cadre de facturation is for, by role, and the chooser that leads a user to theirs.

Facts from chorus-pro.md §4 (the cadre table). The help test checks that every `Cadre` has an entry here, so
a cadre added to the enum without an explanation fails the build.
"""

from __future__ import annotations

from dataclasses import dataclass

from choeur.invoices.enums import Cadre as C


@dataclass(frozen=True)
class CadreHelp:
    deposited_by: str
    what: str
    next_actor: str
    attach: str


# One line per cadre reads as a table; long lines are accepted here.
CADRE_HELP: dict[str, CadreHelp] = {
    C.A1: CadreHelp("Fournisseur titulaire du marché", "Facture ordinaire d'un bien ou d'un service.",
                    "Le destinataire public, qui la traite et la paie.", "La facture ; le bon de commande si vous l'avez."),
    C.A2: CadreHelp("Fournisseur", "Facture déjà payée (achat par carte, par exemple), transmise pour information.",
                    "Le destinataire, sans paiement attendu.", "La facture et la preuve du paiement."),
    C.A3: CadreHelp("Expert ou prestataire de justice", "Mémoire de frais de justice.",
                    "Les services de la justice.", "Le mémoire et la réquisition."),
    C.A4: CadreHelp("Entreprise titulaire d'un marché de travaux", "Projet de décompte mensuel.",
                    "La maîtrise d'œuvre, qui en tire l'état d'acompte (A15).", "Le projet de décompte et son détail."),
    C.A5: CadreHelp("Entreprise de travaux, sans maîtrise d'œuvre", "État d'acompte établi par l'entreprise.",
                    "La maîtrise d'ouvrage.", "L'état d'acompte et son détail."),
    C.A6: CadreHelp("Entreprise de travaux", "État d'acompte déjà validé.", "Le service payeur.",
                    "L'état d'acompte validé."),
    C.A7: CadreHelp("Entreprise titulaire d'un marché de travaux", "Projet de décompte final, en fin de marché.",
                    "La maîtrise d'œuvre, qui établit le projet de décompte général (A17).", "Le projet de décompte final."),
    C.A8: CadreHelp("Entreprise titulaire d'un marché de travaux", "Décompte général et définitif (DGD) signé.",
                    "Le service payeur.", "Le DGD signé."),
    C.A9: CadreHelp("Sous-traitant de premier rang payé directement", "Facture d'un sous-traitant.",
                    "Le titulaire du marché valide (15 jours, sinon validation tacite), puis le destinataire.",
                    "La facture ; l'acte spécial ou l'avenant qui accepte le sous-traitant."),
    C.A10: CadreHelp("Sous-traitant d'un marché de travaux payé directement", "Projet de décompte mensuel.",
                     "Le titulaire valide, puis la maîtrise d'œuvre.", "Le projet de décompte ; l'acte spécial."),
    C.A11: CadreHelp("Sous-traitant d'un marché de travaux payé directement", "Projet de décompte final.",
                     "Le titulaire valide, puis la maîtrise d'œuvre.", "Le projet de décompte final ; l'acte spécial."),
    C.A12: CadreHelp("Cotraitant d'un groupement", "Facture d'un cotraitant.",
                     "Le mandataire du groupement valide (15 jours), puis le destinataire.",
                     "La facture ; la répartition des prestations du groupement."),
    C.A13: CadreHelp("Cotraitant d'un marché de travaux", "Projet de décompte mensuel.", "La maîtrise d'œuvre.",
                     "Le projet de décompte."),
    C.A14: CadreHelp("Cotraitant d'un marché de travaux", "Projet de décompte final.", "La maîtrise d'œuvre.",
                     "Le projet de décompte final."),
    C.A15: CadreHelp("Maîtrise d'œuvre", "État d'acompte établi après vérification du projet de décompte (A4).",
                     "La maîtrise d'ouvrage, qui le valide (A19).", "L'état d'acompte et le projet de décompte vérifié."),
    C.A16: CadreHelp("Maîtrise d'œuvre", "État d'acompte validé par la maîtrise d'œuvre.", "Le service payeur.",
                     "L'état d'acompte validé."),
    C.A17: CadreHelp("Maîtrise d'œuvre", "Projet de décompte général.", "La maîtrise d'ouvrage.",
                     "Le projet de décompte général."),
    C.A18: CadreHelp("Maîtrise d'œuvre", "Décompte général.", "L'entreprise titulaire, qui le signe (A8).",
                     "Le décompte général."),
    C.A19: CadreHelp("Maîtrise d'ouvrage", "État d'acompte validé par la maîtrise d'ouvrage.", "Le service payeur.",
                     "L'état d'acompte validé."),
    C.A20: CadreHelp("Maîtrise d'ouvrage", "Décompte général notifié au titulaire.",
                     "L'entreprise titulaire, qui le signe (A8).", "Le décompte général."),
    C.A21: CadreHelp("Exploitant agricole ou centre de gestion", "Demande de remboursement de la TIC/TICGN.",
                     "Les services fiscaux.", "Les justificatifs de consommation."),
    C.A22: CadreHelp("Entreprise de travaux, procédure tacite", "Projet de décompte général quand la maîtrise "
                     "d'ouvrage ne notifie pas le décompte général.", "La maîtrise d'œuvre et la maîtrise d'ouvrage.",
                     "Le projet de décompte général et la mise en demeure."),
    C.A23: CadreHelp("Entreprise de travaux, procédure tacite", "Décompte général et définitif tacite.",
                     "Le service payeur.", "Le DGD tacite."),
    C.A24: CadreHelp("Maîtrise d'œuvre, procédure tacite", "Décompte général et définitif tacite.",
                     "Le service payeur.", "Le DGD tacite."),
    C.A25: CadreHelp("Maîtrise d'œuvre, procédure tacite", "Décompte général et définitif.", "Le service payeur.",
                     "Le DGD."),
}  # fmt: skip

ROLES = {
    "titulaire": "Titulaire du marché (fournisseur)",
    "cotraitant": "Cotraitant d'un groupement",
    "sous_traitant": "Sous-traitant payé directement",
    "moe": "Maîtrise d'œuvre",
    "moa": "Maîtrise d'ouvrage",
}
DOCUMENTS = {
    "facture": "Une facture",
    "facture_payee": "Une facture déjà payée",
    "decompte_mensuel": "Un projet de décompte mensuel / un état d'acompte",
    "decompte_final": "Un projet de décompte final / un décompte général",
}

# (role, works contract?, document) → cadre. Only combinations a real user meets; the rest get an explanation.
_CHOICES: dict[tuple[str, bool, str], str] = {
    ("titulaire", False, "facture"): C.A1,
    ("titulaire", False, "facture_payee"): C.A2,
    ("titulaire", True, "facture"): C.A1,
    ("titulaire", True, "facture_payee"): C.A2,
    ("titulaire", True, "decompte_mensuel"): C.A4,
    ("titulaire", True, "decompte_final"): C.A7,
    ("cotraitant", False, "facture"): C.A12,
    ("cotraitant", True, "facture"): C.A12,
    ("cotraitant", True, "decompte_mensuel"): C.A13,
    ("cotraitant", True, "decompte_final"): C.A14,
    ("sous_traitant", False, "facture"): C.A9,
    ("sous_traitant", True, "facture"): C.A9,
    ("sous_traitant", True, "decompte_mensuel"): C.A10,
    ("sous_traitant", True, "decompte_final"): C.A11,
    ("moe", True, "decompte_mensuel"): C.A15,
    ("moe", True, "decompte_final"): C.A17,
    ("moa", True, "decompte_mensuel"): C.A19,
    ("moa", True, "decompte_final"): C.A20,
}


def cadre_choose(*, role: str, works: bool, document: str) -> tuple[C | None, str]:
    """The cadre for this situation, or None with a French explanation of why there is none."""
    if role not in ROLES:
        return None, "Choisissez votre rôle dans le marché."
    if document not in DOCUMENTS:
        return None, "Choisissez le document que vous voulez déposer."
    cadre = _CHOICES.get((role, works, document))
    if cadre is not None:
        return C(cadre), ""
    if role in ("moe", "moa") and not works:
        return None, "La maîtrise d'œuvre et la maîtrise d'ouvrage n'interviennent que dans un marché de travaux."
    if role in ("moe", "moa"):
        return None, (
            "La maîtrise d'œuvre ou d'ouvrage ne dépose pas de facture : elle établit l'état d'acompte "
            "ou le décompte général à partir des pièces de l'entreprise."
        )
    if document.startswith("decompte"):
        return (
            None,
            "Les décomptes et états d'acompte n'existent que dans un marché de travaux : "
            "cochez « marché de travaux ».",
        )
    return None, "Un cotraitant ou un sous-traitant n'a pas de cadre pour une facture déjà payée : utilisez A12 ou A9."
