"""Statuses grouped as users think of them: « à traiter », « en cours », « payées », « rejetées »…

Chorus Pro has 57 statuses (enums.InvoiceStatus); a supplier or a buyer asks fewer questions: what do I
have to do, what is moving, what is paid, what came back. Each side has its groups, in the order shown;
every status of a side falls in exactly one group (« En cours » takes what no other group names), so the
groups' counts add up to the list's total and the detailed statuses stay one level below.
"""

from __future__ import annotations

from dataclasses import dataclass

from choeur.invoices.enums import InvoiceStatus

S = InvoiceStatus
ISSUED, RECEIVED = "emises", "recues"  # the sides of invoices.search


@dataclass(frozen=True)
class StatusGroup:
    key: str
    label: str
    help: str
    statuses: tuple[str, ...]


REJECTED = (
    S.REJETEE,
    S.REFUSEE_1,
    S.REFUSEE_2,
    S.REFUSEE_MOE,
    S.REFUSEE_MOA,
    S.REFUSEE_FOURNISSEUR,
    S.NON_CONFORME,
)
CLOSED = (S.ABANDONNEE, S.SUPPRIMEE, S.REMPLACEE_PAR_A22, S.DUPLIQUE_APRES_REFUS)
SUPPLIER_TO_FIX = (
    S.ERREUR_FOURNISSEUR_SUR_VALIDEUR,
    S.ERREUR_COTRAITANT_SUR_VALIDEUR,
    S.ERREUR_FOURNISSEUR_SUR_MOE,
    S.ERREUR_FOURNISSEUR_SUR_MOA,
    S.ERREUR_MOE_SUR_FOURNISSEUR,
    S.ERREUR_MOA_SUR_FOURNISSEUR,
    S.ERREUR_DESTINATAIRE_PD,
    S.ERREUR_DESTINATAIRE_EA,
    S.A_ASSOCIER_FOURNISSEUR,
)
EN_COURS = "en_cours"

_GROUPS = {
    ISSUED: [
        StatusGroup("brouillons", "Brouillons", "à terminer puis envoyer", (S.BROUILLON,)),
        StatusGroup("a_corriger", "À corriger", "une erreur vous est signalée", SUPPLIER_TO_FIX),
        StatusGroup("suspendues", "Suspendues", "à compléter avec les pièces demandées", (S.SUSPENDUE, S.A_COMPLETER)),
        StatusGroup(
            "a_recycler",
            "À recycler",
            "destinataire, service ou engagement à corriger",
            (S.A_RECYCLER, S.EN_ATTENTE_RECYCLAGE_FOURNISSEUR),
        ),  # fmt: skip
        StatusGroup(EN_COURS, "En cours", "chez le destinataire, un valideur ou la maîtrise d'œuvre", ()),
        StatusGroup("payees", "Payées", "mises en paiement", (S.MISE_EN_PAIEMENT,)),
        StatusGroup("rejetees", "Rejetées ou refusées", "à émettre de nouveau si la somme reste due", REJECTED),
        StatusGroup("closes", "Abandonnées ou remplacées", "plus rien à faire", CLOSED),
    ],
    RECEIVED: [
        StatusGroup(
            "a_traiter",
            "À traiter",
            "mises à disposition ou complétées par le fournisseur",
            (S.MISE_A_DISPOSITION, S.COMPLETEE),
        ),  # fmt: skip
        StatusGroup(EN_COURS, "En cours", "service fait, mandatées ou chez le comptable", ()),
        StatusGroup("payees", "Payées", "mises en paiement", (S.MISE_EN_PAIEMENT,)),
        StatusGroup("suspendues", "Suspendues", "en attente d'un complément du fournisseur", (S.SUSPENDUE,)),
        StatusGroup("a_recycler", "À recycler", "renvoyées au fournisseur pour l'acheminement", (S.A_RECYCLER,)),
        StatusGroup("rejetees", "Rejetées", "annulées, le fournisseur en émettra une nouvelle", REJECTED),
    ],
}


def status_groups(*, side: str, statuses: list[str]) -> list[StatusGroup]:
    """The groups of `side` over `statuses` (the statuses that side offers), « En cours » filled with the
    statuses no other group names; groups left empty are dropped."""
    groups = []
    named = {s for group in _GROUPS[side] for s in group.statuses}
    for group in _GROUPS[side]:
        members = group.statuses if group.key != EN_COURS else tuple(s for s in statuses if s not in named)
        members = tuple(s for s in members if s in statuses)
        if members:
            groups.append(StatusGroup(group.key, group.label, group.help, members))
    return groups


def group_of(status: str, groups: list[StatusGroup]) -> StatusGroup | None:
    return next((g for g in groups if status in g.statuses), None)
