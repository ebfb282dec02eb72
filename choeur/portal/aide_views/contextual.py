# ruff: noqa: E501  (the registry is one line per field, read as a table)
"""Contextual help: one registry mapping a form field, a status or a cadre to a short French explanation and
the help section that tells the whole story.

- Fields: `FIELD_HELP[namespace][key]`, where the namespace is the form's family (the module it lives in,
  `FORM_NAMESPACES`) and the key is `"<FormClass>.<field>"` for a meaning proper to one form, else the field
  name. Forms built on `HelpedForm` render a « ? » disclosure after each field (portal/forms/helped_field.html);
  fields drawn by hand (the line tables) use `{% field_help bound_field %}` from the `aide_help` tags.
- Statuses: `status_help(kind, code)` for invoice statuses (statuses.STATUS_HELP), works dossiers, flows and
  sollicitations (statuses.OTHER_STATUS_HELP); `{% status_help kind code %}` next to a badge.
- Cadres: `cadre_help(code)` (cadres.CADRE_HELP).

tests/portal/test_aide_contextual.py fails when a field of these forms, a cadre or a status code of the enums
has no entry here, so a field or a status added without its explanation fails the build.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from dsfr.forms import DsfrBaseForm, DsfrBoundField

from choeur.invoices.enums import Cadre, InvoiceStatus
from choeur.portal.aide_views.cadres import CADRE_HELP
from choeur.portal.aide_views.statuses import OTHER_STATUS_HELP, STATUS_HELP


@dataclass(frozen=True)
class Help:
    subject: str  # what the help is about, for screen readers: « Numéro de facture »
    text: str  # the short explanation shown in place
    page: str  # help page slug
    anchor: str  # id inside that page

    @property
    def url(self) -> str:
        return reverse("portal:aide_page", args=[self.page]) + f"#{self.anchor}"


@dataclass(frozen=True)
class FieldHelp:
    text: str
    see: str = ""  # a more specific section, « page#anchor » (glossary, cadres…); else the field's own entry


# The form families of the portal and the title of their part of the « Les champs des formulaires » page.
FORM_NAMESPACES = {
    "choeur.portal.invoices_views.forms": ("facture", "Saisie et dépôt d'une facture"),
    "choeur.portal.structures_views.forms": ("structure", "Fiche d'une structure"),
    "choeur.portal.works_views.forms": ("travaux", "Factures de travaux"),
}

FIELD_HELP: dict[str, dict[str, FieldHelp]] = {
    "facture": {
        "supplier": FieldHelp("La structure au nom de laquelle vous facturez : celles auxquelles vous êtes rattaché et dont l'espace « Factures émises » est ouvert."),
        "UploadForm.fichier": FieldHelp("Un Factur-X (PDF avec son XML), un UBL ou une CII pré-remplissent la saisie ; un simple PDF devient le document de la facture, à compléter.", "architecture-formats#les-formats"),
        "supplier_service": FieldHelp("Le service de votre structure qui émet la facture, si vous en avez déclaré ; il sert à trier vos factures émises."),
        "supplier_bank_account": FieldHelp("Le compte sur lequel vous voulez être payé, parmi les coordonnées bancaires actives de votre structure."),
        "cadre": FieldHelp("Le cadre dit quelle pièce vous déposez (facture, mémoire, pièce de travaux) et qui la traite ; l'assistant « Quel cadre choisir ? » vous guide.", "cadres#les-cadres-de-facturation"),
        "recipient_service": FieldHelp("Le service de la structure publique qui a passé la commande. L'annuaire dit si le destinataire l'exige.", "glossaire#code-service"),
        "valideur_service": FieldHelp("Pour une facture de sous-traitant ou de cotraitant (A9, A12) : le service du titulaire ou du mandataire qui la valide.", "glossaire#sous-traitant"),
        "number": FieldHelp("Votre numéro de facture, unique pour votre structure : il ne peut servir qu'une fois."),
        "invoice_date": FieldHelp("La date d'émission portée sur la facture, au format JJ/MM/AAAA ; elle ne peut pas être dans le futur."),
        "invoice_type": FieldHelp("Une facture demande un paiement ; un avoir annule tout ou partie d'une facture déjà émise et la cite."),
        "origin_invoice": FieldHelp("Pour un avoir : la facture que cet avoir corrige, parmi celles de votre structure."),
        "origin_number": FieldHelp("Pour un avoir sur une facture émise hors de la plateforme : son numéro."),
        "origin_date": FieldHelp("Pour un avoir sur une facture émise hors de la plateforme : sa date."),
        "currency": FieldHelp("Le code ISO 4217 de la devise de la facture, presque toujours EUR."),
        "type_tva": FieldHelp("Le régime de TVA : sur les débits (biens), sur les encaissements (services), ou l'exonération, qui demande son motif."),
        "motif_exoneration": FieldHelp("Obligatoire si la facture est exonérée de TVA : l'article du code général des impôts qui s'applique."),
        "numero_marche": FieldHelp("Le numéro du marché public dont relève la facture, s'il y en a un."),
        "numero_engagement": FieldHelp("Le numéro du bon de commande ou de l'engagement juridique (EJ) que l'acheteur vous a communiqué ; certains destinataires l'exigent.", "glossaire#ej"),
        "payment_mode": FieldHelp("Comment vous voulez être payé ; le virement demande des coordonnées bancaires."),
        "comment": FieldHelp("Une information libre pour le destinataire ; elle est jointe à la facture."),
        "LineForm.reference": FieldHelp("Votre référence de l'article ou de la prestation (facultatif)."),
        "LineForm.designation": FieldHelp("Ce que vous facturez, en clair : c'est ce que lit le service qui constate le service fait."),
        "LineForm.quantity": FieldHelp("La quantité facturée, dans l'unité choisie ; une virgule ou un point pour les décimales."),
        "LineForm.unit": FieldHelp("L'unité de la quantité (pièce, heure, mètre carré, forfait…)."),
        "LineForm.unit_price_ht": FieldHelp("Le prix d'une unité, hors taxes, en euros."),
        "LineForm.discount_ht": FieldHelp("Une remise sur cette ligne, hors taxes, en euros ; 0 s'il n'y en a pas."),
        "LineForm.vat_rate": FieldHelp("Le taux de TVA de la ligne, en pour cent (20, 10, 5,5, 2,1 ou 0)."),
        "AllowanceChargeForm.nature": FieldHelp("Une remise diminue la base de TVA du taux choisi, une charge (frais de port…) l'augmente."),
        "AllowanceChargeForm.reason": FieldHelp("Pourquoi cette remise ou cette charge (escompte, frais de port…)."),
        "AllowanceChargeForm.amount": FieldHelp("Le montant de la remise ou de la charge, hors taxes."),
        "AllowanceChargeForm.vat_rate": FieldHelp("Le taux de TVA dont la remise ou la charge modifie la base."),
        "remise_globale_ttc": FieldHelp("Une remise sur le total toutes taxes comprises, comme Chorus Pro la permet ; elle demande un motif."),
        "motif_remise_globale": FieldHelp("Pourquoi la remise globale est accordée."),
        "prepaid_amount": FieldHelp("Ce que l'acheteur a déjà versé (acompte) : il est déduit du montant à payer."),
        "document": FieldHelp("Votre propre PDF de la facture, si vous voulez qu'il l'accompagne ; sinon la plateforme en produit un."),
        "AttachmentForm.fichier": FieldHelp("Une pièce justificative (bon de livraison, procès-verbal, devis…), en PDF de préférence."),
        "type_code": FieldHelp("Ce qu'est la pièce jointe : le destinataire s'en sert pour la retrouver."),
        "confirm": FieldHelp("Votre engagement : une facture envoyée ne se modifie plus ; elle se corrige par un avoir.", "facture-electronique#ce-quest-une-facture-electronique"),
        "name": FieldHelp("Un nom pour retrouver ce modèle lors de vos prochaines saisies."),
    },
    "structure": {
        "raison_sociale": FieldHelp("Le nom légal de la structure, tel qu'il figure au répertoire SIRENE."),
        "libelle": FieldHelp("Un nom d'usage plus court, affiché dans les listes."),
        "numero_tva": FieldHelp("Le numéro de TVA intracommunautaire (FR suivi de 11 chiffres) ; il est obligatoire sur une facture soumise à la TVA."),
        "numero_rcs": FieldHelp("Le numéro d'inscription au registre du commerce et des sociétés, s'il y en a un."),
        "email": FieldHelp("L'adresse générique de la structure ; chaque utilisateur garde la sienne."),
        "adresse": FieldHelp("L'adresse postale, reprise sur les factures."),
        "complement_adresse": FieldHelp("Bâtiment, étage, boîte postale…"),
        "code_postal": FieldHelp("Le code postal, à 5 chiffres en France."),
        "ville": FieldHelp("La commune de l'adresse."),
        "pays": FieldHelp("Le code du pays à deux lettres (FR pour la France)."),
        "telephone": FieldHelp("Un numéro où joindre la structure."),
        "is_moe": FieldHelp("Cochez si la structure est maître d'œuvre : elle reçoit alors les projets de décompte des entreprises de travaux.", "glossaire#moe"),
        "identifier_type": FieldHelp("SIRET pour une entreprise ou une entité publique française ; les autres types servent aux structures étrangères et aux particuliers.", "glossaire#siret"),
        "identifier": FieldHelp("Le numéro correspondant au type choisi : 14 chiffres pour un SIRET.", "glossaire#siret"),
        "nom": FieldHelp("Pour un particulier seulement : son nom de famille."),
        "prenom": FieldHelp("Pour un particulier seulement : son prénom."),
        "code_service_obligatoire": FieldHelp("Les fournisseurs devront indiquer l'un de vos codes service sur chaque facture.", "glossaire#code-service"),
        "StructureEditForm.engagement_obligatoire": FieldHelp("Les fournisseurs devront indiquer le numéro d'engagement juridique (bon de commande) sur chaque facture.", "glossaire#ej"),
        "engagement_ou_service": FieldHelp("Les fournisseurs devront indiquer au moins l'un des deux : numéro d'engagement ou code service."),
        "mise_en_paiement_non_remontee": FieldHelp("Cochez si votre système financier ne renvoie pas la mise en paiement : vos fournisseurs verront l'étape d'avant.", "statuts#statut-mise_en_paiement"),
        "is_moa": FieldHelp("Cochez si la structure est maître d'ouvrage de marchés de travaux.", "glossaire#moa"),
        "is_moa_only": FieldHelp("La structure reçoit les pièces de travaux comme maîtrise d'ouvrage, mais pas les factures ordinaires.", "glossaire#moa"),
        "payment_delay_days": FieldHelp("Le délai global de paiement que vous appliquez (30 jours en général, 50 pour un établissement de santé).", "glossaire#delai-global-de-paiement"),
        "ServiceForm.code": FieldHelp("Le code que les fournisseurs portent sur leurs factures pour vous l'adresser (lettres, chiffres, tirets).", "glossaire#code-service"),
        "ServiceForm.libelle": FieldHelp("Le nom du service, tel que les fournisseurs le voient dans l'annuaire."),
        "description": FieldHelp("Ce que fait le service, pour aider les fournisseurs à choisir le bon."),
        "valid_from": FieldHelp("Le service n'est proposé qu'à partir de cette date."),
        "valid_until": FieldHelp("Le service n'est plus proposé après cette date."),
        "is_active": FieldHelp("Un service inactif n'est plus proposé aux fournisseurs."),
        "ServiceForm.engagement_obligatoire": FieldHelp("Les factures adressées à ce service devront porter un numéro d'engagement juridique.", "glossaire#ej"),
        "mise_en_paiement": FieldHelp("Décochez si le système financier de ce service ne renvoie pas la mise en paiement.", "statuts#statut-mise_en_paiement"),
        "ServiceForm.adresse": FieldHelp("L'adresse du service, si elle diffère de celle de la structure."),
        "ServiceForm.code_postal": FieldHelp("Le code postal de l'adresse du service."),
        "ServiceForm.ville": FieldHelp("La commune de l'adresse du service."),
        "label": FieldHelp("Un nom pour choisir ce compte lors de la saisie d'une facture."),
        "holder": FieldHelp("Le nom du titulaire du compte, tel que la banque l'écrit."),
        "iban": FieldHelp("L'IBAN du compte (FR76 suivi de 23 caractères pour un compte français) ; les espaces sont permis."),
        "bic": FieldHelp("Le code BIC de la banque (8 ou 11 caractères)."),
        "services": FieldHelp("Les services de la structure auxquels vous demandez l'accès ; aucun : toute la structure."),
        "message": FieldHelp("Un mot pour les gestionnaires qui décideront de votre demande."),
        "q": FieldHelp("Un SIRET (14 chiffres) ou une partie de la raison sociale."),
        "DecisionForm.comment": FieldHelp("Le motif est envoyé au demandeur ; il est obligatoire pour un refus."),
        "BulkDecisionForm.comment": FieldHelp("Le motif est envoyé aux demandeurs ; il est obligatoire pour un refus."),
        "to": FieldHelp("L'utilisateur de la structure qui devient gestionnaire principal ; vous restez gestionnaire secondaire."),
        "SubscriptionRequestForm.code": FieldHelp("L'espace (factures émises, factures reçues, sollicitations…) que vous demandez à utiliser."),
        "BulkDecisionForm.ids": FieldHelp("Cochez les demandes de rattachement sur lesquelles vous décidez en une fois."),
        "BulkDecisionForm.decision": FieldHelp("Accepter rattache les demandeurs à la structure ; refuser leur envoie votre motif."),
        "EspaceForm.code": FieldHelp("L'espace de la structure à ouvrir ou à fermer (factures émises, factures reçues, sollicitations…)."),
        "role": FieldHelp("Gestionnaire : administre la structure et ses utilisateurs ; utilisateur simple : travaille dans les espaces ouverts."),
        "habilitation": FieldHelp("Consultation : voir seulement ; gestion : agir (déposer, traiter)."),
    },
    "travaux": {
        "structure": FieldHelp("La structure pour laquelle vous agissez, parmi celles du marché auxquelles vous êtes rattaché."),
        "numero": FieldHelp("Le numéro du marché de travaux, tel que la maîtrise d'ouvrage l'a notifié."),
        "objet": FieldHelp("L'objet du marché, en clair (« Réhabilitation de l'école des Tilleuls »)."),
        "numero_engagement": FieldHelp("Le numéro d'engagement juridique du marché, si la maîtrise d'ouvrage l'exige.", "glossaire#ej"),
        "moa_siret": FieldHelp("Le SIRET de la maîtrise d'ouvrage, l'acheteur public qui paie.", "glossaire#moa"),
        "moa_service": FieldHelp("Le code du service exécutant de la maîtrise d'ouvrage, s'il est exigé.", "glossaire#code-service"),
        "moa_cadres": FieldHelp("Les cadres que la maîtrise d'ouvrage dépose (A19…), séparés par des virgules.", "cadres#les-cadres-de-facturation"),
        "moe_siret": FieldHelp("Le SIRET de la maîtrise d'œuvre, qui vérifie les projets de décompte ; vide s'il n'y en a pas.", "glossaire#moe"),
        "moe_cadres": FieldHelp("Les cadres que la maîtrise d'œuvre dépose (A15, A17…), séparés par des virgules.", "cadres#les-cadres-de-facturation"),
        "titulaire_siret": FieldHelp("Le SIRET de l'entreprise titulaire, ou du mandataire si le marché est attribué à un groupement.", "glossaire#mandataire"),
        "groupement": FieldHelp("Cochez si plusieurs entreprises sont titulaires ensemble ; le mandataire valide les factures des cotraitants.", "glossaire#cotraitant"),
        "titulaire_cadres": FieldHelp("Les cadres que le titulaire dépose (A4, A7…), séparés par des virgules.", "cadres#les-cadres-de-facturation"),
        "cotraitants": FieldHelp("Un cotraitant par ligne : son SIRET, puis ses cadres.", "glossaire#cotraitant"),
        "sous_traitants": FieldHelp("Un sous-traitant payé directement par ligne : son SIRET, le SIRET de l'entreprise dont il relève, puis ses cadres.", "glossaire#sous-traitant"),
        "PieceForm.cadre": FieldHelp("La pièce que vous déposez dans le dossier : projet de décompte (A4), état d'acompte (A15)… ; seules celles que votre rôle permet sont proposées.", "circuits#circuit-des-travaux"),
        "number": FieldHelp("Le numéro de votre pièce, unique pour votre structure."),
        "invoice_date": FieldHelp("La date de la pièce, au format JJ/MM/AAAA."),
        "type_tva": FieldHelp("Le régime de TVA de la pièce ; les travaux sont en général sur les débits, ou en autoliquidation pour un sous-traitant."),
        "PieceForm.comment": FieldHelp("Une information pour la maîtrise d'œuvre ou d'ouvrage qui recevra la pièce."),
        "LineForm.reference": FieldHelp("Le poste du bordereau des prix (facultatif)."),
        "LineForm.designation": FieldHelp("L'ouvrage réalisé, en clair."),
        "LineForm.quantity": FieldHelp("La quantité exécutée à ce jour, dans l'unité du bordereau."),
        "LineForm.unit": FieldHelp("L'unité du bordereau (mètre carré, forfait…)."),
        "LineForm.unit_price_ht": FieldHelp("Le prix unitaire hors taxes du bordereau."),
        "LineForm.vat_rate": FieldHelp("Le taux de TVA en pour cent ; 0 en autoliquidation."),
        "RefusalForm.reason": FieldHelp("Le motif du refus, parmi ceux que prévoit la plateforme ; l'entreprise le lit pour corriger sa pièce.", "statuts#statut-refusee_moe"),
        "RefusalForm.comment": FieldHelp("Ce qu'il faut corriger, précisément."),
        "ContestForm.reason": FieldHelp("Ce que vous contestez dans l'état d'acompte ou le décompte, et pourquoi ; la maîtrise d'œuvre et d'ouvrage le reçoivent."),
        "decision": FieldHelp("Valider transmet la facture du sous-traitant ; refuser la lui renvoie avec votre motif.", "statuts#statut-a_valider_1"),
        "motif": FieldHelp("Si vous refusez : pourquoi."),
        "ValideurDecisionForm.comment": FieldHelp("Une précision pour le sous-traitant."),
        "certified": FieldHelp("Votre engagement d'agir pour l'entreprise dont relève le sous-traitant.", "glossaire#sous-traitant"),
    },
}  # fmt: skip


def _field_entry(form, name: str) -> tuple[str, FieldHelp] | None:
    family = FORM_NAMESPACES.get(type(form).__module__)
    if family is None:
        return None
    entries = FIELD_HELP[family[0]]
    for klass in type(form).__mro__:
        entry = entries.get(f"{klass.__name__}.{name}")
        if entry:
            return family[0], entry
    entry = entries.get(name)
    return (family[0], entry) if entry else None


def helped_forms() -> list[type]:
    """Every form class of the helped families that has visible fields, in module order."""
    import importlib
    import inspect

    from django import forms

    found = []
    for module_name in FORM_NAMESPACES:
        module = importlib.import_module(module_name)
        for _, klass in inspect.getmembers(module, inspect.isclass):
            if issubclass(klass, forms.Form) and klass.__module__ == module_name and visible_fields(klass):
                found.append(klass)
    return found


def visible_fields(form_class) -> list[str]:
    return [name for name, f in form_class.base_fields.items() if not f.widget.is_hidden]


def field_label(namespace: str, key: str) -> str:
    """The label users read for registry entry `key`, taken from the form that declares the field."""
    form_name, _, name = key.rpartition(".")
    module = next(m for m, (ns, _) in FORM_NAMESPACES.items() if ns == namespace)
    for klass in helped_forms():
        if klass.__module__ != module or (form_name and form_name not in {k.__name__ for k in klass.__mro__}):
            continue
        field = klass.base_fields.get(name)
        if field is not None and field.label:
            return str(field.label)
    return name.replace("_", " ").capitalize()


def field_anchor(namespace: str, key: str) -> str:
    return f"champ-{namespace}-{key.replace('.', '-').replace('_', '-').lower()}"


def field_help(form, name: str, label: str = "") -> Help | None:
    """The help of field `name` of `form` (a bound or unbound form instance), or None."""
    found = _field_entry(form, name)
    if found is None:
        return None
    namespace, entry = found
    key = next(
        (f"{k.__name__}.{name}" for k in type(form).__mro__ if f"{k.__name__}.{name}" in FIELD_HELP[namespace]), name
    )
    page, _, anchor = (entry.see or f"champs#{field_anchor(namespace, key)}").partition("#")
    return Help(subject=label or name, text=entry.text, page=page, anchor=anchor)


def status_help(kind: str, code: str) -> Help | None:
    """`kind`: « invoice », « dossier », « flow » or « sollicitation »."""
    if kind == "invoice":
        entry = STATUS_HELP.get(code)
        if entry is None:
            return None
        return Help(subject=InvoiceStatus(code).label, text=entry[0], page="statuts", anchor=f"statut-{code.lower()}")
    table = OTHER_STATUS_HELP.get(kind)
    if table is None or code not in table.entries:
        return None
    meaning, _advice = table.entries[code]
    return Help(subject=table.enum(code).label, text=meaning, page="statuts", anchor=f"{table.prefix}-{code.lower()}")


def cadre_help(code: str) -> Help | None:
    """`code`: « A9 » or « A9_FACTURE_SOUSTRAITANT »."""
    try:
        cadre = Cadre.from_code(code)
    except ValueError:
        return None
    entry = CADRE_HELP.get(cadre)
    if entry is None:
        return None
    return Help(subject=cadre.label, text=entry.what, page="cadres", anchor=f"cadre-{cadre.code.lower()}")


class HelpedBoundField(DsfrBoundField):
    """A DSFR field followed by its « ? » disclosure (portal/forms/helped_field.html)."""

    @property
    def template_name(self):
        return "portal/forms/helped_field.html"

    @property
    def base_template_name(self):
        return super().template_name

    @property
    def contextual_help(self) -> Help | None:
        if self.is_hidden:
            return None
        return field_help(self.form, self.name, str(self.label or ""))


class HelpedForm(DsfrBaseForm):
    """A DSFR form whose fields carry their contextual help."""

    bound_field_class = HelpedBoundField
