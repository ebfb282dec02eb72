# ruff: noqa: E501  (STATUS_HELP is one line per status, read as a table)
"""What each status of the platform's circuits means and what to do, for the « Les statuts » help page.

The help test checks that every status the transition table can reach (workflow.TRANSITIONS) has an entry:
a status added to a circuit without an explanation fails the build. "Who acts next" is derived from the
table itself (the roles of the transitions leaving the status), so only the meaning and the advice are written.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from choeur.flows.enums import FlowState
from choeur.invoices import workflow
from choeur.invoices.enums import ActorRole
from choeur.invoices.enums import InvoiceStatus as S
from choeur.sollicitations.enums import SollicitationStatus
from choeur.works.enums import DossierStatus

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
    # Statuses of the complete Chorus Pro list that Chœur's own circuits do not reach: kept for exchanged data.
    S.EN_COURS_ACHEMINEMENT: ("La plateforme cherche le destinataire et le service de la facture.", "Rien : l'acheminement est automatique."),
    S.ABANDONNEE: ("Le fournisseur a abandonné ce brouillon ou cette facture avant son traitement.", "Rien ; déposez une nouvelle facture si nécessaire."),
    S.SUPPRIMEE: ("Le brouillon a été supprimé par le fournisseur.", "Rien : la facture n'existe plus pour le destinataire."),
    S.EN_COURS_TRAITEMENT_PIVOT_S: ("La facture est en cours de traitement technique (flux).", "Attendez la fin du traitement du flux."),
    S.INTERPRETEE_OCR: ("La facture papier a été lue par reconnaissance de caractères.", "Vérifiez les données lues avant l'envoi."),
    S.NON_CONFORME: ("La facture ne respecte pas les règles de la norme ou de la plateforme.", "Le fournisseur lit le compte rendu et dépose une facture corrigée."),
    S.ERREUR_FOURNISSEUR_SUR_MOE: ("La structure désignée dit ne pas être la maîtrise d'œuvre du marché.", "L'entreprise corrige la maîtrise d'œuvre de la fiche marché."),
    S.ERREUR_FOURNISSEUR_SUR_MOA: ("La structure désignée dit ne pas être la maîtrise d'ouvrage du marché.", "L'entreprise corrige la maîtrise d'ouvrage de la fiche marché."),
    S.ERREUR_MOE_SUR_FOURNISSEUR: ("La maîtrise d'œuvre s'est trompée d'entreprise.", "La maîtrise d'œuvre dépose la pièce pour la bonne entreprise."),
    S.ERREUR_MOA_SUR_FOURNISSEUR: ("La maîtrise d'ouvrage s'est trompée d'entreprise.", "La maîtrise d'ouvrage dépose la pièce pour la bonne entreprise."),
    S.ERREUR_MOE_SUR_MOA: ("La maîtrise d'œuvre a désigné une mauvaise maîtrise d'ouvrage.", "La maîtrise d'œuvre corrige la maîtrise d'ouvrage."),
    S.ERREUR_DESTINATAIRE_PD: ("Le destinataire dit ne pas être celui du projet de décompte.", "L'entreprise corrige le destinataire de sa pièce."),
    S.ERREUR_DESTINATAIRE_EA: ("Le destinataire dit ne pas être celui de l'état d'acompte.", "La maîtrise d'œuvre corrige le destinataire de l'état d'acompte."),
    S.A_VALIDER_MOE: ("La pièce attend la validation de la maîtrise d'œuvre.", "La maîtrise d'œuvre la valide ou la refuse."),
    S.A_ASSOCIER_MOE: ("La pièce attend que la maîtrise d'œuvre lui associe son état d'acompte.", "La maîtrise d'œuvre dépose l'état d'acompte (A15)."),
    S.ERREUR_DE_MOE: ("La pièce a été adressée à une mauvaise maîtrise d'œuvre.", "L'entreprise corrige la maîtrise d'œuvre."),
    S.A_ASSOCIER_MOA: ("La pièce attend que la maîtrise d'ouvrage lui associe son état d'acompte validé.", "La maîtrise d'ouvrage dépose l'état d'acompte validé (A19)."),
    S.ERREUR_DE_MOA: ("La pièce a été adressée à une mauvaise maîtrise d'ouvrage.", "La maîtrise d'œuvre ou l'entreprise corrige la maîtrise d'ouvrage."),
    S.REFUSEE_FOURNISSEUR: ("L'entreprise a refusé la pièce qu'on lui a présentée (décompte général, par exemple).", "La maîtrise d'œuvre lit le motif et reprend la pièce."),
    S.A_COMPLETER: ("La pièce est à compléter par celui qui l'a déposée.", "Complétez-la (pièce jointe, information manquante)."),
    S.EN_ATTENTE_RECYCLAGE_FOURNISSEUR: ("La pièce attend que l'entreprise corrige ses données d'acheminement.", "L'entreprise recycle la pièce avec les bonnes données."),
    S.PRISE_EN_COMPTE_DESTINATAIRE: ("Le destinataire a commencé à traiter la facture.", "Le destinataire poursuit son traitement."),
    S.DUPLIQUE_APRES_REFUS: ("Une copie corrigée de la pièce refusée a été créée.", "Suivez la nouvelle pièce."),
    S.ABSENCE_VALIDATION_MOE_DELAI_REGLEMENTAIRE: ("La maîtrise d'œuvre n'a pas répondu dans son délai réglementaire.", "L'entreprise peut saisir directement la maîtrise d'ouvrage."),
    S.TECHNIQUE_INCONNU: ("Un statut reçu d'une autre plateforme que Chœur ne connaît pas.", "Contactez le support avec le numéro de la facture."),
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


def unreached_statuses() -> list[str]:
    """The statuses of the Chorus Pro list that no row of the table reaches (exchanged data only)."""
    reached = set(reached_statuses())
    return [s for s in S.values if s not in reached]


@dataclass(frozen=True)
class StateTable:
    title: str
    prefix: str  # anchor prefix on the « Les statuts » page
    enum: type[models.TextChoices]
    entries: dict[str, tuple[str, str]]  # code → (what it means, what to do)


# The other state machines users meet: a works dossier, a flow, a sollicitation.
OTHER_STATUS_HELP: dict[str, StateTable] = {
    "dossier": StateTable("Les états d'un dossier de facturation de travaux", "dossier", DossierStatus, {
        DossierStatus.EN_COURS: ("Le dossier avance dans le circuit des travaux : une pièce est chez l'entreprise, la maîtrise d'œuvre ou la maîtrise d'ouvrage.", "Regardez la dernière pièce du dossier : son statut dit qui agit."),
        DossierStatus.REFUSE: ("Une pièce du dossier a été refusée : le circuit est arrêté.", "L'entreprise lit le motif et dépose une pièce corrigée dans un nouveau dossier."),
        DossierStatus.TRANSMIS_PAYEUR: ("L'état d'acompte validé est chez le service payeur, qui le traite comme une facture.", "Suivez-le dans « Factures émises » jusqu'à sa mise en paiement."),
    }),
    "flow": StateTable("Les états d'un flux", "flux", FlowState, {
        FlowState.IN_RECU: ("Le fichier est reçu ; son traitement va commencer.", "Rien : attendez quelques secondes."),
        FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP: ("Le flux attend son tour dans la file de traitement.", "Rien : il sera traité dans l'ordre d'arrivée."),
        FlowState.IN_EN_COURS_TRAITEMENT_CPP: ("Le flux est en cours de validation et d'intégration.", "Rien : le compte rendu arrive à la fin du traitement."),
        FlowState.IN_INTEGRE: ("Toutes les factures du flux sont intégrées et envoyées.", "Suivez-les dans « Factures émises »."),
        FlowState.IN_INTEGRE_PARTIEL: ("Une partie des factures du flux est intégrée, les autres sont rejetées.", "Lisez le compte rendu, corrigez les factures rejetées et déposez-les dans un nouveau flux."),
        FlowState.IN_REJETE: ("Le flux est rejeté : aucune facture n'est intégrée.", "Lisez le compte rendu (règle, ligne, message), corrigez le fichier et déposez-le à nouveau."),
        FlowState.IN_INCIDENTE: ("Un incident technique a interrompu le traitement.", "Déposez le flux à nouveau ; si l'incident persiste, ouvrez une sollicitation."),
    }),
    "sollicitation": StateTable("Les états d'une sollicitation", "sollicitation", SollicitationStatus, {
        SollicitationStatus.OUVERTE: ("La sollicitation est envoyée ; le service destinataire ne l'a pas encore prise en charge.", "Rien : le service destinataire la prend en charge."),
        SollicitationStatus.EN_COURS: ("Le service destinataire traite la sollicitation.", "Attendez sa réponse."),
        SollicitationStatus.EN_ATTENTE_COMPLEMENT: ("Le service destinataire attend une information ou une pièce de votre part.", "Répondez avec le complément demandé."),
        SollicitationStatus.COMPLEMENT_RECU: ("Le demandeur a envoyé le complément demandé.", "Le service destinataire reprend son traitement."),
        SollicitationStatus.REPONDUE: ("Le service destinataire a répondu.", "Lisez la réponse ; clôturez la sollicitation si elle vous convient."),
        SollicitationStatus.RELANCEE: ("Le demandeur a relancé la sollicitation restée sans réponse.", "Le service destinataire y répond en priorité."),
        SollicitationStatus.CLOTUREE: ("La sollicitation est close.", "Rien ; ouvrez-en une nouvelle si besoin."),
    }),
}  # fmt: skip
