from django.db import models


class SollicitationStatus(models.TextChoices):
    OUVERTE = "OUVERTE", "Ouverte"
    EN_COURS = "EN_COURS", "En cours de traitement"
    EN_ATTENTE_COMPLEMENT = "EN_ATTENTE_COMPLEMENT", "En attente de complément"
    COMPLEMENT_RECU = "COMPLEMENT_RECU", "Complément reçu"
    REPONDUE = "REPONDUE", "Répondue"
    RELANCEE = "RELANCEE", "Relancée"
    CLOTUREE = "CLOTUREE", "Clôturée"


class RecipientKind(models.TextChoices):
    """Where a catégorie routes a sollicitation (chorus-pro.md §9)."""

    STRUCTURE = "STRUCTURE", "Service d'une structure publique"
    SUPPORT = "SUPPORT", "Support de la plateforme"


class SollicitationRole(models.TextChoices):
    EMETTEUR = "EMETTEUR", "Émetteur"
    DESTINATAIRE = "DESTINATAIRE", "Destinataire"


# What « Mes sollicitations à traiter » lists on the recipient's side: new ones, requests whose sender
# has sent the complement asked for, and ones re-sent after an unsatisfying answer.
TO_PROCESS_STATUSES = (
    SollicitationStatus.OUVERTE,
    SollicitationStatus.COMPLEMENT_RECU,
    SollicitationStatus.RELANCEE,
)
