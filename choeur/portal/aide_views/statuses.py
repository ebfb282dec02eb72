# ruff: noqa: E501  (STATUS_HELP is one line per status, read as a table)
"""What each status of the platform's circuits means and what to do, for the « Les statuts » help page.

The help test checks that every status the transition table can reach (workflow.TRANSITIONS) has an entry:
a status added to a circuit without an explanation fails the build. "Who acts next" is derived from the
table itself (the roles of the transitions leaving the status), so only the meaning and the advice are written.
"""

from __future__ import annotations

from choeur.invoices import workflow
from choeur.invoices.enums import ActorRole
from choeur.invoices.enums import InvoiceStatus as S

# status → (what it means, what to do)
STATUS_HELP: dict[str, tuple[str, str]] = {
    S.BROUILLON: ("La facture est en cours de saisie ; personne d'autre ne la voit.", "Complétez-la puis déposez-la."),
    S.DEPOSEE: ("La facture est déposée ; la plateforme l'achemine.", "Rien : l'acheminement est automatique."),
    S.MISE_A_DISPOSITION: ("Le destinataire a reçu la facture.", "Le destinataire la traite ; le fournisseur suit son avancement."),
    S.A_RECYCLER: ("Les données d'acheminement sont à corriger (destinataire, code service, engagement).", "Le fournisseur recycle la facture avec les bonnes données ; son numéro ne change pas."),
    S.SUSPENDUE: ("Il manque une pièce ou une information.", "Le fournisseur complète la facture (pièce jointe, commentaire)."),
    S.COMPLETEE: ("Le fournisseur a complété la facture suspendue.", "Le destinataire reprend son traitement."),
    S.REJETEE: ("La facture est rejetée : elle ne sera pas payée.", "Le fournisseur lit le motif et dépose une nouvelle facture si nécessaire."),
    S.SERVICE_FAIT: ("Le destinataire a constaté que la prestation a été faite.", "Le destinataire la mandate."),
    S.MANDATEE: ("L'ordonnateur a émis le mandat de paiement.", "Le comptable public la prend en charge."),
    S.MISE_A_DISPOSITION_COMPTABLE: ("La facture est chez le comptable public.", "Le comptable la comptabilise et la met en paiement."),
    S.COMPTABILISEE: ("Le comptable a comptabilisé la facture.", "La mise en paiement suit."),
    S.MISE_EN_PAIEMENT: ("Le paiement est ordonné.", "Rien : le virement arrive sous quelques jours."),
    S.A_VALIDER_1: ("La facture attend le valideur de niveau 1 (titulaire ou mandataire), qui a 15 jours.", "Le valideur la valide ou la refuse ; sans réponse, elle est validée tacitement."),
    S.VALIDEE_1: ("Le valideur de niveau 1 a validé la facture.", "Rien : la plateforme la transmet à l'étape suivante."),
    S.REFUSEE_1: ("Le valideur de niveau 1 a refusé la facture.", "Le fournisseur lit le motif et dépose une facture corrigée."),
    S.ERREUR_FOURNISSEUR_SUR_VALIDEUR: ("La structure désignée dit ne pas être le valideur.", "Le fournisseur corrige le valideur."),
    S.ABSENCE_VALIDATION_1_HORS_DELAI: ("Le valideur de niveau 1 n'a pas répondu en 15 jours : validation tacite.", "Rien : la facture poursuit son circuit."),
    S.A_VALIDER_2: ("La facture attend le valideur de niveau 2 (le mandataire), qui a 15 jours.", "Le valideur la valide ou la refuse."),
    S.VALIDEE_2: ("Le valideur de niveau 2 a validé la facture.", "Rien : la plateforme la transmet au destinataire."),
    S.REFUSEE_2: ("Le valideur de niveau 2 a refusé la facture.", "Le fournisseur lit le motif et dépose une facture corrigée."),
    S.ERREUR_COTRAITANT_SUR_VALIDEUR: ("Le valideur de niveau 2 désigné dit ne pas l'être.", "Le fournisseur corrige le valideur de niveau 2."),
    S.ABSENCE_VALIDATION_2_HORS_DELAI: ("Le valideur de niveau 2 n'a pas répondu en 15 jours : validation tacite.", "Rien : la facture poursuit son circuit."),
    S.MISE_A_DISPOSITION_MOE: ("La pièce de travaux est chez la maîtrise d'œuvre.", "La maîtrise d'œuvre la prend en compte ou la refuse, puis établit l'état d'acompte."),
    S.PRISE_EN_COMPTE_MOE: ("La maîtrise d'œuvre vérifie la pièce.", "La maîtrise d'œuvre dépose l'état d'acompte (A15) dans son délai."),
    S.REFUSEE_MOE: ("La maîtrise d'œuvre a refusé la pièce.", "L'entreprise lit le motif et dépose une pièce corrigée."),
    S.TRANSMISE_MOA: ("La pièce est transmise à la maîtrise d'ouvrage.", "La maîtrise d'ouvrage la prend en compte ou la refuse."),
    S.MISE_A_DISPOSITION_MOA: ("La pièce est chez la maîtrise d'ouvrage.", "La maîtrise d'ouvrage la valide (A19) ou la refuse."),
    S.PRISE_EN_COMPTE_MOA: ("La maîtrise d'ouvrage examine la pièce.", "La maîtrise d'ouvrage dépose l'état d'acompte validé (A19)."),
    S.REFUSEE_MOA: ("La maîtrise d'ouvrage a refusé la pièce.", "La maîtrise d'œuvre ou l'entreprise dépose une pièce corrigée."),
    S.A_ASSOCIER_FOURNISSEUR: ("La pièce attend que l'entreprise dépose la pièce suivante du dossier.", "L'entreprise dépose la pièce suivante."),
    S.ASSOCIEE: ("La pièce est associée à la pièce suivante du dossier, qui poursuit le circuit.", "Suivez la pièce suivante du dossier."),
    S.REMPLACEE_PAR_A22: ("La pièce est remplacée par le projet de décompte général de l'entreprise (procédure tacite).", "Suivez le projet de décompte général (A22)."),
}  # fmt: skip


def reached_statuses() -> list[str]:
    """Every status a row of the transition table leaves from or leads to, in enum order."""
    reached = set()
    for t in workflow.TRANSITIONS:
        reached |= t.sources | {t.target}
    return [s for s in S.values if s in reached]


def next_actors(status: str) -> list[str]:
    """Who can act from `status`, from the table (French labels, without repeats)."""
    roles = {r for t in workflow.transitions_from(status) for r in t.roles}
    return [ActorRole(r).label for r in ActorRole.values if r in roles]
