"""French messages: the pipeline's own errors, and French explanations of the official (English) rules.

The official schematron artefacts speak English (CEN, Factur-X) or French (FNFE-MPE BR-FR). We never rewrite
a rule: the finding keeps its id and official text, and the message a supplier reads is composed in French —
a specific explanation for the common rules, a family explanation (BR-CL, BR-DEC, BR-S…) or, failing that,
« Règle {id} non respectée : {texte officiel} ».
"""

from __future__ import annotations

import re

# --- Pipeline errors (our own rule ids) ---------------------------------------------------------------------

PIPELINE: dict[str, str] = {
    "CHOEUR-VIDE": "Le fichier est vide : déposez une facture XML (UBL ou CII) ou un PDF Factur-X.",
    "CHOEUR-TAILLE": (
        "Le fichier pèse {size}, au-delà de la taille maximale acceptée ({limit}) : déposez un fichier plus "
        "petit ou répartissez les factures sur plusieurs flux."
    ),
    "CHOEUR-TAILLE-XML": (
        "La facture XML « {name} » pèse {size}, au-delà de la taille maximale d'une facture ({limit}) : "
        "scindez-la ou retirez les pièces jointes volumineuses (BG-24)."
    ),
    "CHOEUR-TYPE-FICHIER": (
        "Type de fichier non reconnu ({detail}) : seuls les fichiers XML (UBL, CII), les PDF Factur-X et les "
        "archives zip ou tar.gz de ces fichiers sont acceptés."
    ),
    "CHOEUR-PDF-CHIFFRE": (
        "Le PDF est chiffré ou protégé par un mot de passe : la facture structurée ne peut pas être lue. "
        "Déposez un PDF non chiffré (les PDF/A-3 Factur-X ne doivent pas être chiffrés)."
    ),
    "CHOEUR-PDF-BOMBE": (
        "Le PDF contient un flux qui dépasse, une fois décompressé, la limite de {limit} (bombe de "
        "décompression possible) : le fichier est refusé. Détail : {detail}"
    ),
    "CHOEUR-PDF-ILLISIBLE": (
        "Le PDF est illisible, corrompu ou tronqué ({detail}) : régénérez le PDF Factur-X et déposez-le à nouveau."
    ),
    "CHOEUR-PDF-SANS-XML": (
        "Le PDF ne contient pas de facture structurée : aucun fichier factur-x.xml, zugferd-invoice.xml ou "
        "xrechnung.xml n'y est embarqué. Déposez un PDF Factur-X (PDF/A-3 avec le XML CII embarqué) ou le "
        "fichier XML de la facture."
    ),
    "CHOEUR-PDF-NOM-XML": (
        "Le XML de la facture est embarqué sous le nom « {name} » au lieu de « factur-x.xml » : il a été lu, "
        "mais renommez-le factur-x.xml pour respecter la norme Factur-X."
    ),
    "CHOEUR-PDF-PLUSIEURS-XML": (
        "Le PDF embarque plusieurs fichiers de facture ({names}) : seul « {name} » a été contrôlé. "
        "Un PDF Factur-X ne doit contenir qu'une facture structurée."
    ),
    "CHOEUR-ARCHIVE-ILLISIBLE": (
        "L'archive est illisible ou corrompue ({detail}) : recréez-la et déposez-la à nouveau."
    ),
    "CHOEUR-ARCHIVE-MEMBRES": (
        "L'archive contient {count} fichiers, au-delà du maximum de {limit} par flux : répartissez les "
        "factures sur plusieurs flux."
    ),
    "CHOEUR-ARCHIVE-TAILLE": (
        "L'archive se décompresse en plus de {limit} (bombe de décompression possible) : le flux est refusé. "
        "Répartissez les factures sur plusieurs archives plus petites."
    ),
    "CHOEUR-ARCHIVE-CHEMIN": (
        "L'archive contient un chemin interdit « {name} » (chemin absolu ou remontée « .. ») : le flux est "
        "refusé. Placez les factures à la racine de l'archive ou dans des sous-dossiers simples."
    ),
    "CHOEUR-ARCHIVE-LIEN": (
        "L'archive contient « {name} », qui n'est pas un fichier ordinaire (lien symbolique, lien physique ou "
        "fichier spécial) : le flux est refusé. N'y mettez que des fichiers de facture."
    ),
    "CHOEUR-ARCHIVE-CHIFFREE": (
        "Le fichier « {name} » de l'archive est chiffré : déposez une archive sans mot de passe."
    ),
    "CHOEUR-ARCHIVE-IMBRIQUEE": (
        "« {name} » est une archive dans l'archive : les archives imbriquées sont refusées. Placez les "
        "factures directement dans une seule archive."
    ),
    "CHOEUR-ARCHIVE-VIDE": "L'archive ne contient aucun fichier : ajoutez-y les factures (XML ou PDF Factur-X).",
    "CHOEUR-XML-DOCTYPE": (
        "Le XML contient une déclaration DOCTYPE (DTD ou entités) : c'est interdit pour des raisons de "
        "sécurité et aucune syntaxe de facture n'en utilise. Supprimez la ligne <!DOCTYPE …>."
    ),
    "CHOEUR-XML-ENTITES": (
        "Le XML déclare des entités qui se démultiplient (attaque « billion laughs ») : le fichier est refusé. "
        "Supprimez la déclaration DOCTYPE et ses entités."
    ),
    "CHOEUR-XML-PROFONDEUR": (
        "Le XML est imbriqué sur une profondeur anormale (plus de 256 niveaux) : le fichier est refusé. "
        "Vérifiez le logiciel qui a produit la facture."
    ),
    "CHOEUR-XML-ENCODAGE": (
        "Le XML contient des octets invalides pour son encodage ({detail}) : enregistrez le fichier en UTF-8 "
        '(ou déclarez le bon encodage dans <?xml … encoding="…"?>).'
    ),
    "CHOEUR-XML-SYNTAXE": "Le fichier n'est pas un XML bien formé ({detail}) : corrigez la syntaxe XML.",
    "CHOEUR-FORMAT": "Format non pris en charge : {reason}",
    "CHOEUR-PROFIL": (
        "Profil (BT-24) « {profile_id} » non reconnu : la facture est contrôlée selon les règles EN 16931. "
        "Indiquez un profil connu (urn:cen.eu:en16931:2017, Factur-X BASIC WL, BASIC, EXTENDED…)."
    ),
    "CHOEUR-PROFIL-ANCIEN": (
        "Identifiant de profil (BT-24) « {profile_id} » de Factur-X 1.0, obsolète : écrivez « {current} »."
    ),
    "CHOEUR-PROFIL-MINIMUM": (
        "Profil Factur-X MINIMUM : ce n'est pas une facture EN 16931 complète (ni lignes ni ventilation de TVA). "
        "Seul le PDF fait foi ; les données structurées ne servent qu'à l'acheminement."
    ),
    "CHOEUR-XSD": "Structure non conforme au schéma XSD {schema}{where} : {detail}",
    "CHOEUR-SCHEMATRON": (
        "Le contrôle des règles {ruleset} n'a pas pu s'exécuter sur ce document ({detail}) : la facture est "
        "refusée par prudence. Vérifiez qu'elle respecte la structure attendue."
    ),
    "CHOEUR-FLUX-INCONNUE": (
        "syntaxeFlux « {declared} » inconnue : utilisez l'une des valeurs Chorus Pro ({allowed})."
    ),
    "CHOEUR-FLUX-NON-PRISE-EN-CHARGE": ("syntaxeFlux « {declared} » non prise en charge par Chœur : {reason}"),
    "CHOEUR-FLUX-INCOHERENTE": (
        "La syntaxeFlux déclarée « {declared} » ne correspond pas au contenu : le fichier est {actual}. "
        "Déclarez « {expected} » ou déposez un fichier {wanted}."
    ),
    "CHOEUR-FLUX-E2-SANS-PDF": (
        "Flux mixte « {declared} » : aucune pièce jointe PDF n'est embarquée dans le XML. Joignez le PDF de "
        "la facture (pièce jointe BG-24 au format application/pdf)."
    ),
    "CHOEUR-INTERNE": (
        "Erreur interne du moteur de validation ({detail}) : le document n'a pas pu être contrôlé. "
        "Réessayez ; si l'erreur persiste, signalez-la à l'administrateur de la plateforme."
    ),
}


def pipeline_message(rule: str, **params: object) -> str:
    return PIPELINE[rule].format(**params)


# --- French explanations of official rules ------------------------------------------------------------------

RULES_FR: dict[str, str] = {
    # Core cardinality (BR-01..BR-16)
    "BR-01": "L'identifiant de spécification (BT-24, profil de la facture) est obligatoire : indiquez par exemple "
    "urn:cen.eu:en16931:2017.",
    "BR-02": "Le numéro de facture (BT-1) est obligatoire.",
    "BR-03": "La date d'émission de la facture (BT-2) est obligatoire.",
    "BR-04": "Le code de type de facture (BT-3) est obligatoire (380 facture, 381 avoir, 384 facture rectificative…).",
    "BR-05": "Le code de la devise de facturation (BT-5) est obligatoire (EUR…).",
    "BR-06": "La raison sociale du vendeur (BT-27) est obligatoire.",
    "BR-07": "Le nom de l'acheteur (BT-44) est obligatoire.",
    "BR-08": "L'adresse postale du vendeur (BG-5) est obligatoire.",
    "BR-09": "Le code pays de l'adresse du vendeur (BT-40) est obligatoire (FR…).",
    "BR-10": "L'adresse postale de l'acheteur (BG-8) est obligatoire.",
    "BR-11": "Le code pays de l'adresse de l'acheteur (BT-55) est obligatoire (FR…).",
    "BR-12": "Le montant total net des lignes (BT-106) est obligatoire.",
    "BR-13": "Le montant total hors TVA de la facture (BT-109) est obligatoire.",
    "BR-14": "Le montant total TTC de la facture (BT-112) est obligatoire.",
    "BR-15": "Le montant à payer (BT-115) est obligatoire.",
    "BR-16": "La facture doit comporter au moins une ligne (BG-25).",
    "BR-17": "Le nom du bénéficiaire du paiement (BT-59) est obligatoire quand le bénéficiaire (BG-10) n'est pas "
    "le vendeur.",
    "BR-18": "Le nom du représentant fiscal du vendeur (BT-62) est obligatoire quand un représentant fiscal est "
    "indiqué.",
    "BR-19": "L'adresse du représentant fiscal du vendeur (BG-12) est obligatoire quand un représentant fiscal est "
    "indiqué.",
    "BR-20": "Le code pays de l'adresse du représentant fiscal (BT-69) est obligatoire.",
    "BR-21": "Chaque ligne de facture (BG-25) doit avoir un identifiant de ligne (BT-126).",
    "BR-22": "Chaque ligne de facture doit indiquer la quantité facturée (BT-129).",
    "BR-23": "Chaque ligne de facture doit indiquer l'unité de mesure de la quantité (BT-130, code UN/ECE "
    "recommandation 20, par exemple C62 pour « unité »).",
    "BR-24": "Chaque ligne de facture doit indiquer son montant net (BT-131).",
    "BR-25": "Chaque ligne de facture doit indiquer le nom de l'article ou de la prestation (BT-153).",
    "BR-26": "Chaque ligne de facture doit indiquer le prix unitaire net (BT-146).",
    "BR-27": "Le prix unitaire net (BT-146) ne doit pas être négatif : pour un avoir, utilisez le type 381 ou une "
    "quantité négative.",
    "BR-28": "Le prix unitaire brut (BT-148) ne doit pas être négatif.",
    "BR-29": "La date de fin de la période de facturation (BT-74) doit être postérieure ou égale à la date de début "
    "(BT-73).",
    "BR-30": "La date de fin de la période de la ligne (BT-135) doit être postérieure ou égale à la date de début "
    "(BT-134).",
    "BR-31": "Chaque remise au niveau du document (BG-20) doit avoir un montant (BT-92).",
    "BR-32": "Chaque remise au niveau du document (BG-20) doit avoir un code de catégorie de TVA (BT-95).",
    "BR-33": "Chaque remise au niveau du document (BG-20) doit avoir un motif (BT-97) ou un code motif (BT-98).",
    "BR-36": "Chaque charge au niveau du document (BG-21) doit avoir un montant (BT-99).",
    "BR-37": "Chaque charge au niveau du document (BG-21) doit avoir un code de catégorie de TVA (BT-102).",
    "BR-38": "Chaque charge au niveau du document (BG-21) doit avoir un motif (BT-104) ou un code motif (BT-105).",
    "BR-41": "Chaque remise de ligne (BG-27) doit avoir un montant (BT-136).",
    "BR-42": "Chaque remise de ligne (BG-27) doit avoir un motif (BT-139) ou un code motif (BT-140).",
    "BR-43": "Chaque charge de ligne (BG-28) doit avoir un montant (BT-141).",
    "BR-44": "Chaque charge de ligne (BG-28) doit avoir un motif (BT-144) ou un code motif (BT-145).",
    "BR-45": "Chaque ventilation de TVA (BG-23) doit indiquer la base imposable de la catégorie (BT-116).",
    "BR-46": "Chaque ventilation de TVA (BG-23) doit indiquer le montant de TVA de la catégorie (BT-117).",
    "BR-47": "Chaque ventilation de TVA (BG-23) doit indiquer le code de catégorie de TVA (BT-118).",
    "BR-48": "Chaque ventilation de TVA (BG-23) doit indiquer le taux de TVA (BT-119), sauf facture hors champ "
    "de la TVA.",
    "BR-49": "Chaque instruction de paiement (BG-16) doit indiquer le code du moyen de paiement (BT-81, "
    "par exemple 30 virement, 58 virement SEPA).",
    "BR-50": "L'identifiant du compte de paiement (BT-84, IBAN) est obligatoire quand un virement (BG-17) est "
    "indiqué.",
    "BR-52": "Chaque pièce justificative (BG-24) doit avoir une référence (BT-122).",
    "BR-53": "Le montant total de TVA en devise de comptabilisation (BT-111) est obligatoire quand cette devise "
    "(BT-6) est indiquée.",
    "BR-55": "Chaque référence à une facture antérieure (BG-3) doit indiquer son numéro (BT-25).",
    "BR-61": "L'IBAN ou l'identifiant du compte (BT-84) est obligatoire pour un paiement par virement (codes 30, 58).",
    "BR-62": "L'adresse électronique du vendeur (BT-34) doit indiquer son schéma d'identification "
    "(attribut schemeID).",
    "BR-63": "L'adresse électronique de l'acheteur (BT-49) doit indiquer son schéma d'identification (attribut "
    "schemeID, par exemple 0009 pour un SIRET).",
    "BR-64": "L'identifiant standard de l'article (BT-157) doit indiquer son schéma d'identification.",
    "BR-65": "L'identifiant de classification de l'article (BT-158) doit indiquer son schéma d'identification.",
    # Calculations and consistency (BR-CO)
    "BR-CO-03": "La date d'exigibilité de la TVA (BT-7) et son code (BT-8) s'excluent : n'en indiquez qu'un.",
    "BR-CO-04": "Chaque ligne de facture doit indiquer la catégorie de TVA de l'article (BT-151).",
    "BR-CO-05": "Le code motif (BT-98) et le motif (BT-97) d'une remise doivent désigner le même type de remise.",
    "BR-CO-06": "Le code motif (BT-105) et le motif (BT-104) d'une charge doivent désigner le même type de charge.",
    "BR-CO-07": "Le code motif (BT-140) et le motif (BT-139) d'une remise de ligne doivent concorder.",
    "BR-CO-08": "Le code motif (BT-145) et le motif (BT-144) d'une charge de ligne doivent concorder.",
    "BR-CO-09": "Les numéros de TVA (BT-31, BT-63, BT-48) doivent commencer par le code pays ISO 3166-1 "
    "(par exemple FR).",
    "BR-CO-10": "Le total net des lignes (BT-106) doit être égal à la somme des montants nets des lignes (BT-131) : "
    "recalculez le total.",
    "BR-CO-11": "Le total des remises au niveau du document (BT-107) doit être égal à la somme des remises (BT-92).",
    "BR-CO-12": "Le total des charges au niveau du document (BT-108) doit être égal à la somme des charges (BT-99).",
    "BR-CO-13": "Le total hors TVA (BT-109) doit être égal au total net des lignes (BT-106), moins les remises "
    "(BT-107), plus les charges (BT-108).",
    "BR-CO-14": "Le montant total de TVA (BT-110) doit être égal à la somme des montants de TVA par catégorie "
    "(BT-117).",
    "BR-CO-15": "Le total TTC (BT-112) doit être égal au total hors TVA (BT-109) plus le total de TVA (BT-110).",
    "BR-CO-16": "Le montant à payer (BT-115) doit être égal au total TTC (BT-112), moins le montant déjà payé "
    "(BT-113), plus l'arrondi (BT-114).",
    "BR-CO-17": "Le montant de TVA d'une catégorie (BT-117) doit être égal à la base imposable (BT-116) multipliée "
    "par le taux (BT-119) / 100, arrondi à deux décimales.",
    "BR-CO-18": "La facture doit comporter au moins une ventilation de TVA (BG-23).",
    "BR-CO-19": "Une période de facturation (BG-14) doit avoir une date de début (BT-73) ou de fin (BT-74).",
    "BR-CO-20": "Une période de ligne (BG-26) doit avoir une date de début (BT-134) ou de fin (BT-135).",
    "BR-CO-21": "Chaque remise au niveau du document doit avoir un motif (BT-97) ou un code motif (BT-98).",
    "BR-CO-22": "Chaque charge au niveau du document doit avoir un motif (BT-104) ou un code motif (BT-105).",
    "BR-CO-23": "Chaque remise de ligne doit avoir un motif (BT-139) ou un code motif (BT-140).",
    "BR-CO-24": "Chaque charge de ligne doit avoir un motif (BT-144) ou un code motif (BT-145).",
    "BR-CO-25": "Quand le montant à payer (BT-115) est positif, une date d'échéance (BT-9) ou des conditions de "
    "paiement (BT-20) sont obligatoires.",
    "BR-CO-26": "Le vendeur doit être identifiable : indiquez son identifiant (BT-29), son identifiant légal "
    "(BT-30, SIREN/SIRET) ou son numéro de TVA (BT-31).",
    # Standard rate (S)
    "BR-S-01": "Une facture avec une ligne, remise ou charge au taux normal (catégorie S) doit comporter au moins "
    "une ventilation de TVA de catégorie S (BG-23).",
    "BR-S-02": "Une ligne au taux normal (catégorie S) exige le numéro de TVA du vendeur (BT-31), son "
    "identifiant fiscal (BT-32) ou celui de son représentant fiscal (BT-63).",
    "BR-S-03": "Une remise au taux normal (catégorie S) exige le numéro de TVA du vendeur (BT-31), son "
    "identifiant fiscal (BT-32) ou celui de son représentant fiscal (BT-63).",
    "BR-S-04": "Une charge au taux normal (catégorie S) exige le numéro de TVA du vendeur (BT-31), son "
    "identifiant fiscal (BT-32) ou celui de son représentant fiscal (BT-63).",
    "BR-S-05": "Sur une ligne au taux normal (catégorie S), le taux de TVA (BT-152) doit être supérieur à zéro.",
    "BR-S-06": "Sur une remise au taux normal (catégorie S), le taux de TVA (BT-96) doit être supérieur à zéro.",
    "BR-S-07": "Sur une charge au taux normal (catégorie S), le taux de TVA (BT-103) doit être supérieur à zéro.",
    "BR-S-08": "Pour chaque taux de la catégorie S, la base imposable (BT-116) doit être égale à la somme des "
    "montants nets des lignes à ce taux, moins les remises, plus les charges : recalculez la ventilation de TVA.",
    "BR-S-09": "Pour la catégorie S, le montant de TVA (BT-117) doit être égal à la base imposable (BT-116) "
    "multipliée par le taux (BT-119).",
    "BR-S-10": "Une ventilation de TVA au taux normal (catégorie S) ne doit pas avoir de motif d'exonération "
    "(BT-120, BT-121).",
    # Exempt (E)
    "BR-E-01": "Une facture avec une ligne, remise ou charge exonérée (catégorie E) doit comporter exactement une "
    "ventilation de TVA de catégorie E (BG-23).",
    "BR-E-02": "Une ligne exonérée (catégorie E) exige le numéro de TVA du vendeur (BT-31), son identifiant "
    "fiscal (BT-32) ou celui de son représentant fiscal (BT-63).",
    "BR-E-03": "Une remise exonérée (catégorie E) exige le numéro de TVA du vendeur (BT-31), son identifiant "
    "fiscal (BT-32) ou celui de son représentant fiscal (BT-63).",
    "BR-E-04": "Une charge exonérée (catégorie E) exige le numéro de TVA du vendeur (BT-31), son identifiant "
    "fiscal (BT-32) ou celui de son représentant fiscal (BT-63).",
    "BR-E-05": "Sur une ligne exonérée (catégorie E), le taux de TVA (BT-152) doit être 0.",
    "BR-E-06": "Sur une remise exonérée (catégorie E), le taux de TVA (BT-96) doit être 0.",
    "BR-E-07": "Sur une charge exonérée (catégorie E), le taux de TVA (BT-103) doit être 0.",
    "BR-E-08": "Pour la catégorie E, la base imposable (BT-116) doit être égale à la somme des montants nets des "
    "lignes exonérées, moins les remises, plus les charges de cette catégorie.",
    "BR-E-09": "Pour la catégorie E (exonérée), le montant de TVA (BT-117) doit être 0.",
    "BR-E-10": "Une ventilation de TVA exonérée (catégorie E) doit indiquer le motif d'exonération (BT-120) ou "
    "son code (BT-121), par exemple « Exonération de TVA, article 261 du CGI ».",
    "PEPPOL-EN16931-R008": "Le document ne doit pas contenir d'élément vide : renseignez l'élément ou supprimez-le.",
}

VAT_CATEGORIES = {
    "S": "au taux normal (S)",
    "Z": "au taux zéro (Z)",
    "E": "exonérée (E)",
    "AE": "en autoliquidation (AE)",
    "IC": "de livraison intracommunautaire (K)",
    "G": "d'exportation hors UE (G)",
    "O": "hors champ de la TVA (O)",
    "AF": "IGIC des Canaries (L)",
    "AG": "IPSI de Ceuta et Melilla (M)",
    "B": "de TVA italienne à paiement scindé (B)",
}

_FAMILIES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^BR-CL-"),
        "Code non autorisé par la liste de codes de la norme EN 16931 : utilisez une valeur "
        "de la liste indiquée (codes pays ISO 3166, devises ISO 4217, unités UN/ECE rec. 20, types UNTDID…).",
    ),
    (re.compile(r"^BR-DEC-"), "Trop de décimales : ce montant doit avoir au plus deux décimales."),
    (
        re.compile(r"^UBL-SR-"),
        "Règle de syntaxe UBL : un élément est répété ou utilisé au-delà de ce que la norme autorise.",
    ),
    (re.compile(r"^UBL-CR-"), "Élément UBL non prévu par la norme EN 16931 : il sera ignoré par le destinataire."),
    (re.compile(r"^UBL-DT-"), "Type de donnée UBL non conforme (attribut ou format non autorisé)."),
    (re.compile(r"^CII-SR-"), "Élément CII non prévu ou répété au-delà de ce que la norme EN 16931 autorise."),
    (re.compile(r"^CII-DT-"), "Type de donnée CII non conforme (attribut ou format non autorisé)."),
    (re.compile(r"^BR-B-"), "Règle du paiement scindé italien (catégorie B) non respectée."),
]

_VALUE_NOT_ALLOWED = re.compile(r"^Value of '([^']+)' is not allowed\.?$")
_NOT_USED = re.compile(
    r"^(Element|Attribute)(?: variant)? '?(@?[^']+)'? (?:is )?marked as not used in the given context\.?$"
)
_ID_PREFIX = re.compile(r"^\[[^\]]+\]\s*-?\s*")


def clean_text(text: str) -> str:
    """The official text on one line, without the « [BR-xx]- » prefix the CEN artefacts repeat."""
    return _ID_PREFIX.sub("", " ".join(text.split()))


def explain(rule: str, text: str) -> str:
    """French message for an official schematron finding, keeping the official text for reference."""
    official = clean_text(text)
    if not official:
        # A native finding without a message of its own: what the rule's family says, and its id.
        known = RULES_FR.get(rule) or _family(rule)
        return f"{known} (règle {rule})" if known else f"Règle {rule} non respectée."
    if rule.startswith("BR-FR-") or _looks_french(official):
        # The FNFE-MPE rules are already written in French and usually open with their id: keep the wording.
        if not rule or official.startswith(rule.split("_")[0]):
            return official
        return f"Règle française {rule} : {official}"
    specific = RULES_FR.get(rule)
    if specific:
        return f"{specific} (règle {rule} : « {official} »)"
    match = _VALUE_NOT_ALLOWED.match(official)
    if match:
        return (
            f"La valeur de l'élément {match.group(1)} n'appartient pas à la liste de codes autorisée par le "
            f"profil : corrigez-la (règle {rule} : « {official} »)."
        )
    match = _NOT_USED.match(official)
    if match:
        kind = "L'attribut" if match.group(1) == "Attribute" else "L'élément"
        return (
            f"{kind} {match.group(2).strip()} n'est pas prévu dans ce profil : il sera ignoré par le destinataire "
            f"(règle {rule or 'Factur-X'} : « {official} »)."
        )
    family = _family(rule)
    if family:
        return f"{family} (règle {rule} : « {official} »)"
    if rule:
        return f"Règle {rule} non respectée : {official}"
    return f"Règle non respectée : {official}"


def _family(rule: str) -> str | None:
    for pattern, message in _FAMILIES:
        if pattern.match(rule):
            return message
    match = re.match(r"^BR-(S|Z|E|AE|IC|G|O|AF|AG)-\d+", rule)
    if match:
        return f"Règle de la catégorie de TVA {VAT_CATEGORIES[match.group(1)]} non respectée."
    return None


_FRENCH_MARKERS = (" doit ", " doivent ", " obligatoire", " ne doit ", " n'est ", " est ", " pour ")


def _looks_french(text: str) -> bool:
    lowered = f" {text.lower()} "
    return sum(marker in lowered for marker in _FRENCH_MARKERS) >= 2 and " shall " not in lowered
