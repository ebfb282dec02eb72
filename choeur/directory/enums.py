"""Chorus Pro's vocabulary for structures, kept as the API spells it."""

from django.db import models


class IdentifierType(models.TextChoices):
    SIRET = "SIRET", "SIRET"
    UE_HORS_FRANCE = "UE_HORS_FRANCE", "Structure européenne hors France (n° TVA)"
    HORS_UE = "HORS_UE", "Structure hors Union européenne"
    RIDET = "RIDET", "RIDET (Nouvelle-Calédonie)"
    TAHITI = "TAHITI", "Numéro TAHITI (Polynésie française)"
    PARTICULIER = "PARTICULIER", "Particulier"
    AUTRE = "AUTRE", "Autre"


class StructureKind(models.TextChoices):
    PRIVEE = "PRIVEE", "Privée"
    PUBLIQUE = "PUBLIQUE", "Publique"


class PublicCategory(models.TextChoices):
    """Decides the legal payment delay (délai global de paiement) by default."""

    ETAT = "ETAT", "État"
    COLLECTIVITE = "COLLECTIVITE", "Collectivité territoriale"
    ETABLISSEMENT_SANTE = "ETABLISSEMENT_SANTE", "Établissement public de santé"
    AUTRE = "AUTRE", "Autre entité publique"


class RattachementStatus(models.TextChoices):
    EN_COURS_DE_VALIDATION = "EN_COURS_DE_VALIDATION", "En cours de validation"
    VALIDEE = "VALIDEE", "Validée"
    REFUSEE = "REFUSEE", "Refusée"
    DESACTIVEE = "DESACTIVEE", "Désactivée"


class Role(models.TextChoices):
    GESTIONNAIRE_PRINCIPAL = "GESTIONNAIRE_PRINCIPAL", "Gestionnaire principal"
    GESTIONNAIRE_SECONDAIRE = "GESTIONNAIRE_SECONDAIRE", "Gestionnaire secondaire"
    UTILISATEUR_SIMPLE = "UTILISATEUR_SIMPLE", "Utilisateur simple"


GESTIONNAIRE_ROLES = (Role.GESTIONNAIRE_PRINCIPAL, Role.GESTIONNAIRE_SECONDAIRE)


class EspaceCode(models.TextChoices):
    FACTURES_EMISES = "FACTURES_EMISES", "Factures émises"
    FACTURES_RECUES = "FACTURES_RECUES", "Factures reçues"
    FACTURES_A_VALIDER = "FACTURES_A_VALIDER", "Factures à valider"
    FACTURES_TRAVAUX = "FACTURES_TRAVAUX", "Factures de travaux"
    SOLLICITATIONS_EMISES = "SOLLICITATIONS_EMISES", "Sollicitations émises"
    SOLLICITATIONS_RECUES = "SOLLICITATIONS_RECUES", "Sollicitations reçues"
    ENGAGEMENTS = "ENGAGEMENTS", "Engagements"
    RACCORDEMENT_API = "RACCORDEMENT_API", "Raccordement EDI / API"


# Chorus Pro exposes espaces with an integer `codeEspace`; ours are stable integers too.
ESPACE_NUMERIC_CODES = {code: index for index, code in enumerate(EspaceCode.values, start=1)}


class Habilitation(models.TextChoices):
    CONSULTATION_UNIQUEMENT = "CONSULTATION_UNIQUEMENT", "Consultation uniquement"
    MODIFICATION = "MODIFICATION", "Modification"


class SubscriptionStatus(models.TextChoices):
    EN_COURS_DE_VALIDATION = "EN_COURS_DE_VALIDATION", "En cours de validation"
    VALIDEE = "VALIDEE", "Validée"
    REFUSEE = "REFUSEE", "Refusée"


DEFAULT_SERVICE_CODE = "FACTURES_PUBLIQUES"
DEFAULT_SERVICE_LABEL = "Service des factures publiques"


# Espaces opened on every new structure, as Chorus Pro does since its v2.0: sollicitations for everybody,
# invoices issued for suppliers, and invoices received as well for public structures (which also issue).
DEFAULT_ESPACES_PRIVATE = (
    EspaceCode.FACTURES_EMISES,
    EspaceCode.SOLLICITATIONS_EMISES,
    EspaceCode.SOLLICITATIONS_RECUES,
)
DEFAULT_ESPACES_PUBLIC = (
    EspaceCode.FACTURES_EMISES,
    EspaceCode.FACTURES_RECUES,
    EspaceCode.SOLLICITATIONS_EMISES,
    EspaceCode.SOLLICITATIONS_RECUES,
)
# Every validated user of a structure is subscribed to these without asking (Chorus Pro v2.0).
ESPACES_FOR_EVERY_USER = (EspaceCode.SOLLICITATIONS_EMISES, EspaceCode.SOLLICITATIONS_RECUES)


class EngagementType(models.TextChoices):
    """`libelleTypeEngagementJuridique` (chorus-pro.md §8.6: BON_DE_COMMANDE seen in the samples)."""

    BON_DE_COMMANDE = "BON_DE_COMMANDE", "Bon de commande"
    MARCHE = "MARCHE", "Marché"
    CONTRAT = "CONTRAT", "Contrat"


class EngagementState(models.TextChoices):
    """`etatCourantEngagementJuridique` / `libelleEtatCourantEJ` (COMMANDE in the samples)."""

    COMMANDE = "COMMANDE", "Commandé"
    CLOTURE = "CLOTURE", "Clôturé"
    ANNULE = "ANNULE", "Annulé"
