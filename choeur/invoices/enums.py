"""Chorus Pro's vocabulary for payment requests (« demandes de paiement »), kept as the API spells it
(chorus-pro.md §4, §5.1, §6.1). Values are the API strings; labels are the French wording shown to people."""

from django.db import models


class InvoiceStatus(models.TextChoices):
    """`statutFacture` / `statutCourantCode`: the complete Chorus Pro enum (chorus-pro.md §6.1).

    Only some of these are reached by Chœur's own circuits today (see workflow.TRANSITIONS); the others are
    kept so that data imported from or exchanged with Chorus Pro never carries an unknown status.
    """

    BROUILLON = "BROUILLON", "Brouillon"
    # Validator circuit (cadres A9 and A12, chorus-pro.md §6.3).
    A_VALIDER_1 = "A_VALIDER_1", "À valider (valideur de niveau 1)"
    ERREUR_FOURNISSEUR_SUR_VALIDEUR = "ERREUR_FOURNISSEUR_SUR_VALIDEUR", "Erreur du fournisseur sur le valideur"
    REFUSEE_1 = "REFUSEE_1", "Refusée par le valideur de niveau 1"
    VALIDEE_1 = "VALIDEE_1", "Validée par le valideur de niveau 1"
    ABSENCE_VALIDATION_1_HORS_DELAI = (
        "ABSENCE_VALIDATION_1_HORS_DELAI",
        "Validée tacitement (absence de réponse du valideur de niveau 1)",
    )
    A_VALIDER_2 = "A_VALIDER_2", "À valider (valideur de niveau 2)"
    ERREUR_COTRAITANT_SUR_VALIDEUR = "ERREUR_COTRAITANT_SUR_VALIDEUR", "Erreur du cotraitant sur le valideur"
    REFUSEE_2 = "REFUSEE_2", "Refusée par le valideur de niveau 2"
    VALIDEE_2 = "VALIDEE_2", "Validée par le valideur de niveau 2"
    ABSENCE_VALIDATION_2_HORS_DELAI = (
        "ABSENCE_VALIDATION_2_HORS_DELAI",
        "Validée tacitement (absence de réponse du valideur de niveau 2)",
    )
    # Standard circuit (chorus-pro.md §6.2).
    DEPOSEE = "DEPOSEE", "Déposée"
    EN_COURS_ACHEMINEMENT = "EN_COURS_ACHEMINEMENT", "En cours d'acheminement"
    MISE_A_DISPOSITION = "MISE_A_DISPOSITION", "Mise à disposition du destinataire"
    A_RECYCLER = "A_RECYCLER", "À recycler"
    SUSPENDUE = "SUSPENDUE", "Suspendue"
    REJETEE = "REJETEE", "Rejetée"
    MANDATEE = "MANDATEE", "Mandatée"
    MISE_EN_PAIEMENT = "MISE_EN_PAIEMENT", "Mise en paiement"
    COMPTABILISEE = "COMPTABILISEE", "Comptabilisée"
    MISE_A_DISPOSITION_COMPTABLE = "MISE_A_DISPOSITION_COMPTABLE", "Mise à disposition du comptable"
    SERVICE_FAIT = "SERVICE_FAIT", "Service fait"
    COMPLETEE = "COMPLETEE", "Complétée"
    ABANDONNEE = "ABANDONNEE", "Abandonnée"
    SUPPRIMEE = "SUPPRIMEE", "Supprimée"
    ASSOCIEE = "ASSOCIEE", "Associée"
    EN_COURS_TRAITEMENT_PIVOT_S = "EN_COURS_TRAITEMENT_PIVOT_S", "En cours de traitement"
    INTERPRETEE_OCR = "INTERPRETEE_OCR", "Interprétée (reconnaissance de caractères)"
    NON_CONFORME = "NON_CONFORME", "Non conforme"
    # Works circuit (chorus-pro.md §6.4).
    ERREUR_FOURNISSEUR_SUR_MOE = "ERREUR_FOURNISSEUR_SUR_MOE", "Erreur du fournisseur sur la maîtrise d'œuvre"
    ERREUR_FOURNISSEUR_SUR_MOA = "ERREUR_FOURNISSEUR_SUR_MOA", "Erreur du fournisseur sur la maîtrise d'ouvrage"
    ERREUR_MOE_SUR_FOURNISSEUR = "ERREUR_MOE_SUR_FOURNISSEUR", "Erreur de la maîtrise d'œuvre sur le fournisseur"
    ERREUR_MOA_SUR_FOURNISSEUR = "ERREUR_MOA_SUR_FOURNISSEUR", "Erreur de la maîtrise d'ouvrage sur le fournisseur"
    ERREUR_MOE_SUR_MOA = "ERREUR_MOE_SUR_MOA", "Erreur de la maîtrise d'œuvre sur la maîtrise d'ouvrage"
    ERREUR_DESTINATAIRE_PD = "ERREUR_DESTINATAIRE_PD", "Erreur de destinataire (pièce déposée)"
    ERREUR_DESTINATAIRE_EA = "ERREUR_DESTINATAIRE_EA", "Erreur de destinataire (état d'acompte)"
    A_VALIDER_MOE = "A_VALIDER_MOE", "À valider par la maîtrise d'œuvre"
    REFUSEE_MOE = "REFUSEE_MOE", "Refusée par la maîtrise d'œuvre"
    A_ASSOCIER_MOE = "A_ASSOCIER_MOE", "À associer par la maîtrise d'œuvre"
    ERREUR_DE_MOE = "ERREUR_DE_MOE", "Erreur de maîtrise d'œuvre"
    MISE_A_DISPOSITION_MOE = "MISE_A_DISPOSITION_MOE", "Mise à disposition de la maîtrise d'œuvre"
    PRISE_EN_COMPTE_MOE = "PRISE_EN_COMPTE_MOE", "Prise en compte par la maîtrise d'œuvre"
    A_ASSOCIER_MOA = "A_ASSOCIER_MOA", "À associer par la maîtrise d'ouvrage"
    ERREUR_DE_MOA = "ERREUR_DE_MOA", "Erreur de maîtrise d'ouvrage"
    REFUSEE_MOA = "REFUSEE_MOA", "Refusée par la maîtrise d'ouvrage"
    MISE_A_DISPOSITION_MOA = "MISE_A_DISPOSITION_MOA", "Mise à disposition de la maîtrise d'ouvrage"
    PRISE_EN_COMPTE_MOA = "PRISE_EN_COMPTE_MOA", "Prise en compte par la maîtrise d'ouvrage"
    TRANSMISE_MOA = "TRANSMISE_MOA", "Transmise à la maîtrise d'ouvrage"
    A_ASSOCIER_FOURNISSEUR = "A_ASSOCIER_FOURNISSEUR", "À associer par le fournisseur"
    REFUSEE_FOURNISSEUR = "REFUSEE_FOURNISSEUR", "Refusée par le fournisseur"
    A_COMPLETER = "A_COMPLETER", "À compléter"
    EN_ATTENTE_RECYCLAGE_FOURNISSEUR = "EN_ATTENTE_RECYCLAGE_FOURNISSEUR", "En attente de recyclage par le fournisseur"
    PRISE_EN_COMPTE_DESTINATAIRE = "PRISE_EN_COMPTE_DESTINATAIRE", "Prise en compte par le destinataire"
    REMPLACEE_PAR_A22 = "REMPLACEE_PAR_A22", "Remplacée par un projet de décompte général (A22)"
    DUPLIQUE_APRES_REFUS = "DUPLIQUE_APRES_REFUS", "Dupliquée après refus"
    ABSENCE_VALIDATION_MOE_DELAI_REGLEMENTAIRE = (
        "ABSENCE_VALIDATION_MOE_DELAI_REGLEMENTAIRE",
        "Absence de validation de la maîtrise d'œuvre dans le délai réglementaire",
    )
    TECHNIQUE_INCONNU = "TECHNIQUE_INCONNU", "Statut technique inconnu"


# Statuses in which the invoice is not yet with its public recipient: the recipient's lists hide them.
PRE_RECIPIENT_STATUSES = frozenset(
    {
        InvoiceStatus.BROUILLON,
        InvoiceStatus.A_VALIDER_1,
        InvoiceStatus.ERREUR_FOURNISSEUR_SUR_VALIDEUR,
        InvoiceStatus.REFUSEE_1,
        InvoiceStatus.VALIDEE_1,
        InvoiceStatus.ABSENCE_VALIDATION_1_HORS_DELAI,
        InvoiceStatus.A_VALIDER_2,
        InvoiceStatus.ERREUR_COTRAITANT_SUR_VALIDEUR,
        InvoiceStatus.REFUSEE_2,
        InvoiceStatus.VALIDEE_2,
        InvoiceStatus.ABSENCE_VALIDATION_2_HORS_DELAI,
        InvoiceStatus.DEPOSEE,
        InvoiceStatus.EN_COURS_ACHEMINEMENT,
        # Works pieces on their way through the MOE and the MOA (the works app): only the last document of a
        # dossier de facturation reaches the payer's « Factures reçues ».
        InvoiceStatus.MISE_A_DISPOSITION_MOE,
        InvoiceStatus.PRISE_EN_COMPTE_MOE,
        InvoiceStatus.REFUSEE_MOE,
        InvoiceStatus.TRANSMISE_MOA,
        InvoiceStatus.MISE_A_DISPOSITION_MOA,
        InvoiceStatus.PRISE_EN_COMPTE_MOA,
        InvoiceStatus.REFUSEE_MOA,
        InvoiceStatus.A_ASSOCIER_FOURNISSEUR,
        InvoiceStatus.ASSOCIEE,
        InvoiceStatus.REMPLACEE_PAR_A22,
    }
)

# Statuses a supplier searches as « à traiter » (chorus-pro.md §6.1, rechercherFactureATraiterParFournisseur).
SUPPLIER_TO_PROCESS_STATUSES = frozenset(
    {
        InvoiceStatus.BROUILLON,
        InvoiceStatus.A_VALIDER_1,
        InvoiceStatus.A_VALIDER_2,
        InvoiceStatus.ERREUR_FOURNISSEUR_SUR_VALIDEUR,
        InvoiceStatus.VALIDEE_1,
        InvoiceStatus.VALIDEE_2,
        InvoiceStatus.REFUSEE_1,
        InvoiceStatus.REFUSEE_2,
        InvoiceStatus.ERREUR_COTRAITANT_SUR_VALIDEUR,
        InvoiceStatus.ABSENCE_VALIDATION_1_HORS_DELAI,
        InvoiceStatus.ABSENCE_VALIDATION_2_HORS_DELAI,
        InvoiceStatus.DEPOSEE,
        InvoiceStatus.EN_COURS_ACHEMINEMENT,
        InvoiceStatus.MISE_A_DISPOSITION,
        InvoiceStatus.A_RECYCLER,
        InvoiceStatus.SUSPENDUE,
    }
)


class InvoiceType(models.TextChoices):
    """`typeFacture`. [GO] also lists ACOMPTE, which no official source confirms (chorus-pro.md §5.1)."""

    FACTURE = "FACTURE", "Facture"
    AVOIR = "AVOIR", "Avoir"


class TypeDemandePaiement(models.TextChoices):
    """`typeDemandePaiement`. Mémoires de justice (A3) and TIC refunds (A21) are further types on Chorus Pro
    whose exact codes were not seen; they are carried as FACTURE here and told apart by their cadre."""

    FACTURE = "FACTURE", "Facture"
    FACTURE_TRAVAUX = "FACTURE_TRAVAUX", "Facture de travaux"


class Cadre(models.TextChoices):
    """`cadreDeFacturation.codeCadreFacturation`: the API strings (chorus-pro.md §4). See cadres.py for the rules."""

    A1 = "A1_FACTURE_FOURNISSEUR", "A1 — Dépôt par un fournisseur d'une facture"
    A2 = "A2_FACTURE_FOURNISSEUR_DEJA_PAYEE", "A2 — Dépôt par un fournisseur d'une facture déjà payée"
    A3 = "A3_MEMOIRE_JUSTICE", "A3 — Mémoire de frais de justice"
    A4 = "A4_PROJET_DECOMPTE_MENSUEL_FOURNISSEUR", "A4 — Projet de décompte mensuel (fournisseur)"
    A5 = "A5_ETAT_ACOMPTE_FOURNISSEUR", "A5 — État d'acompte (fournisseur)"
    A6 = "A6_ETAT_ACOMPTE_VALIDE_FOURNISSEUR", "A6 — État d'acompte validé (fournisseur)"
    A7 = "A7_PROJET_DECOMPTE_FINAL_FOURNISSEUR", "A7 — Projet de décompte final (fournisseur)"
    A8 = "A8_DECOMPTE_GENERAL_DEFINITIF_FOURNISSEUR", "A8 — Décompte général et définitif signé (fournisseur)"
    A9 = "A9_FACTURE_SOUSTRAITANT", "A9 — Dépôt par un sous-traitant d'une facture"
    A10 = "A10_PROJET_DECOMPTE_MENSUEL_SOUSTRAITANT", "A10 — Projet de décompte mensuel (sous-traitant)"
    A11 = "A11_PROJET_DECOMPTE_FINAL_SOUSTRAITANT", "A11 — Projet de décompte final (sous-traitant)"
    A12 = "A12_FACTURE_COTRAITANT", "A12 — Dépôt par un cotraitant d'une facture"
    A13 = "A13_PROJET_DECOMPTE_MENSUEL_COTRAITANT", "A13 — Projet de décompte mensuel (cotraitant)"
    A14 = "A14_PROJET_DECOMPTE_FINAL_COTRAITANT", "A14 — Projet de décompte final (cotraitant)"
    A15 = "A15_ETAT_ACOMPTE_MOE", "A15 — État d'acompte (maîtrise d'œuvre)"
    A16 = "A16_ETAT_ACOMPTE_VALIDE_MOE", "A16 — État d'acompte validé (maîtrise d'œuvre)"
    A17 = "A17_PROJET_DECOMPTE_GENERAL_MOE", "A17 — Projet de décompte général (maîtrise d'œuvre)"
    A18 = "A18_DECOMPTE_GENERAL_MOE", "A18 — Décompte général (maîtrise d'œuvre)"
    A19 = "A19_ETAT_ACOMPTE_VALIDE_MOA", "A19 — État d'acompte validé (maîtrise d'ouvrage)"
    A20 = "A20_DECOMPTE_GENERAL_MOA", "A20 — Décompte général (maîtrise d'ouvrage)"
    A21 = "A21_DEMANDE_REMBOURSEMENT_TIC", "A21 — Demande de remboursement de la TIC/TICGN"
    A22 = (
        "A22_PROJET_DECOMPTE_GENERAL_FOURNISSEUR_PROCEDURE_TACITE",
        "A22 — Projet de décompte général (fournisseur, procédure tacite)",
    )
    A23 = (
        "A23_DECOMPTE_GENERAL_DEFINITIF_TACITE_FOURNISSEUR",
        "A23 — Décompte général et définitif tacite (fournisseur)",
    )
    A24 = "A24_DECOMPTE_GENERAL_DEFINITIF_TACITE_MOE", "A24 — Décompte général et définitif tacite (maîtrise d'œuvre)"
    A25 = (
        "A25_DECOMPTE_GENERAL_DEFINITIF_MOE_PROCEDURE_TACITE",
        "A25 — Décompte général et définitif (maîtrise d'œuvre, procédure tacite)",
    )

    @property
    def code(self) -> str:
        """The short code (« A1 ») used in the portal and in BT-23 of the generated Factur-X."""
        return self.value.split("_", 1)[0]

    @classmethod
    def from_code(cls, code: str) -> "Cadre":
        """`A9` or `A9_FACTURE_SOUSTRAITANT` → Cadre.A9; ValueError (French) otherwise."""
        wanted = (code or "").strip().upper()
        for cadre in cls:
            if wanted in (cadre.value, cadre.code):
                return cadre
        raise ValueError(f"Cadre de facturation inconnu : « {code} » (attendu A1 à A25).")


class DepositorRole(models.TextChoices):
    """Who deposits a payment request, as the cadre says (chorus-pro.md §4, « Deposited by »)."""

    FOURNISSEUR = "FOURNISSEUR", "Fournisseur (titulaire du marché)"
    SOUS_TRAITANT = "SOUS_TRAITANT", "Sous-traitant"
    COTRAITANT = "COTRAITANT", "Cotraitant"
    MOE = "MOE", "Maîtrise d'œuvre"
    MOA = "MOA", "Maîtrise d'ouvrage"


class ActorRole(models.TextChoices):
    """The role an actor plays towards one invoice, used by the transition table (workflow.py)."""

    SYSTEME = "SYSTEME", "Système"
    FOURNISSEUR = "FOURNISSEUR", "Fournisseur"
    DESTINATAIRE = "DESTINATAIRE", "Destinataire"
    VALIDEUR = "VALIDEUR", "Valideur"
    MOE = "MOE", "Maîtrise d'œuvre"
    MOA = "MOA", "Maîtrise d'ouvrage"


class Channel(models.TextChoices):
    """The door an action came in through (transition log)."""

    PORTAIL = "PORTAIL", "Portail"
    API = "API", "API"
    EDI = "EDI", "EDI"
    SYSTEME = "SYSTEME", "Système"


class TypeTva(models.TextChoices):
    """`typeTva` (chorus-pro.md §5.1)."""

    TVA_SUR_DEBIT = "TVA_SUR_DEBIT", "TVA sur les débits"
    TVA_SUR_ENCAISSEMENT = "TVA_SUR_ENCAISSEMENT", "TVA sur les encaissements"
    EXONERATION = "EXONERATION", "Exonération de TVA"
    SANS_TVA = "SANS_TVA", "Sans TVA (hors champ)"


# Types of VAT under which every line is at 0 % (computations.py forces the rate).
ZERO_RATE_TYPES = frozenset({TypeTva.EXONERATION, TypeTva.SANS_TVA})


class PaymentMode(models.TextChoices):
    """`modePaiement` (chorus-pro.md §5.1). An AVOIR carries none."""

    CHEQUE = "CHEQUE", "Chèque"
    PRELEVEMENT = "PRELEVEMENT", "Prélèvement"
    VIREMENT = "VIREMENT", "Virement"
    ESPECE = "ESPECE", "Espèces"
    AUTRE = "AUTRE", "Autre"
    REPORT = "REPORT", "Report"


class ModeDepot(models.TextChoices):
    """`modeDepot` [PHP IModeDepot] (chorus-pro.md §5.1)."""

    SAISIE_WEB = "SAISIE_WEB", "Saisie sur le portail"
    PORTAIL_PDF = "PORTAIL_PDF", "Dépôt d'un PDF sur le portail"
    SAISIE_PORTAIL = "SAISIE_PORTAIL", "Saisie sur le portail"
    DEPOT_PDF_PORTAIL = "DEPOT_PDF_PORTAIL", "Dépôt d'un PDF sur le portail"
    DEPOT_PDF_SIGNE_PORTAIL = "DEPOT_PDF_SIGNE_PORTAIL", "Dépôt d'un PDF signé sur le portail"
    UPLOAD_PORTAIL = "UPLOAD_PORTAIL", "Dépôt d'un fichier sur le portail"
    SAISIE_API = "SAISIE_API", "Saisie par API (données structurées)"
    DEPOT_PDF_API = "DEPOT_PDF_API", "Dépôt d'un PDF par API"
    DEPOT_PDF_SIGNE_API = "DEPOT_PDF_SIGNE_API", "Dépôt d'un PDF signé par API"
    UPLOAD_API = "UPLOAD_API", "Dépôt d'un fichier par API"
    EDI = "EDI", "EDI"
    EDI_XML_STRUCT = "EDI_XML_STRUCT", "EDI — XML structuré"
    EDI_MIXTE = "EDI_MIXTE", "EDI — mixte (PDF et données)"
    EDI_PDF_ARCHIVE = "EDI_PDF_ARCHIVE", "EDI — archive PDF"
    EDI_NUMERISATION = "EDI_NUMERISATION", "EDI — numérisation"


class InvoiceEventAction(models.TextChoices):
    """History actions that do not change the status (`IActionCode`, chorus-pro.md §6.2)."""

    TELECHARGEMENT_FACTURE = "TELECHARGEMENT_FACTURE", "Téléchargement de la facture"
    ACQUITTEMENT_REJET = "ACQUITTEMENT_REJET", "Acquittement du rejet"
    ACQUITTEMENT_SUSPENSION = "ACQUITTEMENT_SUSPENSION", "Acquittement de la suspension"
    TRAITEMENT_REJET = "TRAITEMENT_REJET", "Traitement du rejet"
    AJOUT_PIECE_JOINTE = "AJOUT_PIECE_JOINTE", "Ajout d'une pièce jointe"
    TELECHARGEMENT_CERTIFICAT = "TELECHARGEMENT_CERTIFICAT", "Téléchargement du certificat de dépôt"


class AttachmentType(models.TextChoices):
    """Types of supporting documents. Chorus Pro serves its list from `recuperer/typespj`, which was not seen
    (chorus-pro.md §5.3); these are Chœur's own, chosen for what public buyers ask for."""

    PIECE_JUSTIFICATIVE = "PIECE_JUSTIFICATIVE", "Pièce justificative"
    BON_DE_COMMANDE = "BON_DE_COMMANDE", "Bon de commande"
    BON_DE_LIVRAISON = "BON_DE_LIVRAISON", "Bon de livraison"
    PROCES_VERBAL = "PROCES_VERBAL", "Procès-verbal de réception"
    DEVIS = "DEVIS", "Devis"
    CONTRAT = "CONTRAT", "Contrat ou acte d'engagement"
    RIB = "RIB", "Relevé d'identité bancaire"
    DONNEES_STRUCTUREES = "DONNEES_STRUCTUREES", "Données structurées"
    AUTRE = "AUTRE", "Autre"


class Unit(models.TextChoices):
    """Units of measure as UN/ECE Recommendation 20 codes, the list EN 16931 requires (BT-130, BR-CL-23)."""

    C62 = "C62", "unité"
    H87 = "H87", "pièce"
    LS = "LS", "forfait"
    SET = "SET", "lot"
    HUR = "HUR", "heure"
    DAY = "DAY", "jour"
    WEE = "WEE", "semaine"
    MON = "MON", "mois"
    ANN = "ANN", "année"
    KGM = "KGM", "kilogramme"
    TNE = "TNE", "tonne"
    MTR = "MTR", "mètre"
    KMT = "KMT", "kilomètre"
    MTK = "MTK", "mètre carré"
    MTQ = "MTQ", "mètre cube"
    LTR = "LTR", "litre"
    KWH = "KWH", "kilowattheure"
    E48 = "E48", "prestation"


# French VAT rates (metropolitan, Corsica and overseas departments), offered as hints; any rate from 0 to
# 100 % is accepted, since special regimes exist.
FRENCH_VAT_RATES = ("20", "10", "8.5", "5.5", "2.1", "1.75", "1.05", "0.9", "0")


class NotificationFrequency(models.TextChoices):
    """How a person is told about status changes in one espace of one structure (lifecycle notifications)."""

    IMMEDIATE = "IMMEDIATE", "Un courriel à chaque changement"
    WEEKLY = "WEEKLY", "Un récapitulatif par semaine"
    NONE = "NONE", "Aucune notification"
