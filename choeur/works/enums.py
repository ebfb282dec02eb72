"""Vocabulary of works invoices: parties of a market, kinds and states of a dossier de facturation."""

from django.db import models

from choeur.invoices.enums import Cadre


class PartyRole(models.TextChoices):
    """The part a structure plays in a works contract (fiche d'identité du marché)."""

    MOA = "MOA", "Maîtrise d'ouvrage"
    MOE = "MOE", "Maîtrise d'œuvre"
    TITULAIRE = "TITULAIRE", "Titulaire"
    MANDATAIRE = "MANDATAIRE", "Mandataire du groupement"
    COTRAITANT = "COTRAITANT", "Cotraitant"
    SOUS_TRAITANT = "SOUS_TRAITANT", "Sous-traitant (paiement direct)"


# The companies, that is the parties that are paid and open dossiers.
COMPANY_ROLES = frozenset({PartyRole.TITULAIRE, PartyRole.MANDATAIRE, PartyRole.COTRAITANT, PartyRole.SOUS_TRAITANT})

# Cadres each role uses by default (chorus-pro.md §4, « cadres per role in the works application »).
DEFAULT_CADRES: dict[str, tuple[Cadre, ...]] = {
    PartyRole.MOA: (Cadre.A19, Cadre.A20),
    PartyRole.MOE: (Cadre.A15, Cadre.A16, Cadre.A17, Cadre.A18, Cadre.A24, Cadre.A25),
    PartyRole.TITULAIRE: (Cadre.A4, Cadre.A5, Cadre.A6, Cadre.A7, Cadre.A8, Cadre.A22, Cadre.A23),
    PartyRole.MANDATAIRE: (Cadre.A4, Cadre.A5, Cadre.A6, Cadre.A7, Cadre.A8, Cadre.A22, Cadre.A23),
    PartyRole.COTRAITANT: (Cadre.A13, Cadre.A14),
    PartyRole.SOUS_TRAITANT: (Cadre.A10, Cadre.A11),
}


class DossierKind(models.TextChoices):
    MENSUEL = "MENSUEL", "Acompte mensuel"
    FINAL = "FINAL", "Décompte final"


class DossierStatus(models.TextChoices):
    EN_COURS = "EN_COURS", "En cours"
    REFUSE = "REFUSE", "Refusé (circuit arrêté)"
    TRANSMIS_PAYEUR = "TRANSMIS_PAYEUR", "Transmis au service payeur"


class RefusalReason(models.TextChoices):
    """Reasons a MOE or MOA may give to refuse a piece. « Erreur de montant » is listed because Chorus Pro lists
    it, but choosing it only explains that amounts are corrected, never refused (since 19 February 2025)."""

    PIECES_MANQUANTES = "PIECES_MANQUANTES", "Pièces justificatives manquantes"
    TRAVAUX_NON_EXECUTES = "TRAVAUX_NON_EXECUTES", "Travaux non exécutés"
    MARCHE_ERRONE = "MARCHE_ERRONE", "Numéro de marché ou d'engagement erroné"
    DOUBLON = "DOUBLON", "Demande déjà déposée"
    AUTRE = "AUTRE", "Autre motif (précisez en commentaire)"
    ERREUR_MONTANT = "ERREUR_MONTANT", "Erreur de montant"


AMOUNT_ERROR_EXPLANATION = (
    "Une erreur de montant n'est pas un motif de refus : corrigez le montant, ligne par ligne, dans votre "
    "propre document (l'état d'acompte) en indiquant la raison de chaque modification. L'entreprise en est "
    "informée et dispose de 30 jours pour contester la modification."
)


class EventKind(models.TextChoices):
    """What the dossier's timeline records (and what the parties are told)."""

    DEPOT = "DEPOT", "Dépôt d'une pièce"
    PRISE_EN_COMPTE = "PRISE_EN_COMPTE", "Prise en compte"
    CORRECTION = "CORRECTION", "Montants corrigés"
    REFUS = "REFUS", "Refus"
    VALIDATION = "VALIDATION", "Validation"
    CONTESTATION = "CONTESTATION", "Contestation des corrections"
    RAPPEL = "RAPPEL", "Rappel de délai"
