"""Structures forms (DSFR). Field checks that need no database live here; business rules are in
`choeur.directory.services`, whose `ApplicationError`s are shown on the field they concern."""

from __future__ import annotations

from django import forms

from choeur.core.errors import ApplicationError
from choeur.directory.enums import EspaceCode, Habilitation, IdentifierType, Role
from choeur.directory.models import Rattachement, Service, Structure
from choeur.portal.aide_views.contextual import HelpedForm

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def apply_application_error(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal next to the field it concerns (or above the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _required(message: str) -> dict[str, str]:
    return {"required": message}


class SearchForm(HelpedForm):
    q = forms.CharField(
        label="SIRET ou raison sociale",
        help_text="Au moins 3 chiffres du SIRET (par ex. 732 829 320), ou la raison sociale exacte.",
        max_length=255,
        error_messages=_required("Saisissez un SIRET (au moins 3 chiffres) ou la raison sociale exacte."),
    )


class IdentityFieldsMixin(forms.Form):
    """Identity and address fields shared by creation and modification."""

    raison_sociale = forms.CharField(label="Raison sociale", max_length=255, required=False)
    libelle = forms.CharField(
        label="Libellé (facultatif)", max_length=255, required=False, help_text="Nom d'usage, s'il diffère."
    )
    numero_tva = forms.CharField(
        label="Numéro de TVA intracommunautaire (facultatif)",
        max_length=20,
        required=False,
        help_text="Format : préfixe pays puis numéro, par ex. FR40303265045.",
    )
    numero_rcs = forms.CharField(label="Numéro RCS (facultatif)", max_length=40, required=False)
    email = forms.EmailField(
        label="Adresse électronique de la structure (facultatif)",
        required=False,
        help_text="Format : factures@exemple.fr",
        error_messages={"invalid": "Saisissez une adresse électronique valide, par exemple factures@exemple.fr."},
    )
    adresse = forms.CharField(label="Adresse", max_length=255, required=False)
    complement_adresse = forms.CharField(label="Complément d'adresse (facultatif)", max_length=255, required=False)
    code_postal = forms.CharField(label="Code postal", max_length=10, required=False, help_text="Format : 69001")
    ville = forms.CharField(label="Ville", max_length=100, required=False)
    pays = forms.CharField(
        label="Pays (code ISO à 2 lettres)", max_length=2, initial="FR", help_text="Par ex. FR, BE, DE.",
        error_messages=_required("Saisissez le pays en code ISO à 2 lettres, par ex. FR."),
    )  # fmt: skip
    telephone = forms.CharField(label="Téléphone (facultatif)", max_length=30, required=False)
    is_moe = forms.BooleanField(
        label="La structure intervient comme maître d'œuvre (MOE) de marchés de travaux", required=False
    )


class StructureCreateForm(IdentityFieldsMixin, HelpedForm):
    identifier_type = forms.ChoiceField(
        label="Type d'identifiant",
        choices=IdentifierType.choices,
        initial=IdentifierType.SIRET,
        error_messages=_required("Choisissez le type d'identifiant de la structure."),
    )
    identifier = forms.CharField(
        label="Identifiant",
        max_length=40,
        required=False,
        help_text="SIRET : 14 chiffres (espaces acceptés). Particulier : laissez vide, un identifiant sera attribué.",
    )
    nom = forms.CharField(label="Nom (particulier uniquement)", max_length=150, required=False)
    prenom = forms.CharField(label="Prénom (particulier uniquement)", max_length=150, required=False)

    field_order = ["identifier_type", "identifier", "raison_sociale", "nom", "prenom"]


class StructureEditForm(IdentityFieldsMixin, HelpedForm):
    """Identity for every structure; recipient settings (`parametres`) for public structures only."""

    code_service_obligatoire = forms.BooleanField(label="Code service obligatoire sur les factures", required=False)
    engagement_obligatoire = forms.BooleanField(
        label="Numéro d'engagement juridique obligatoire sur les factures", required=False
    )
    engagement_ou_service = forms.BooleanField(
        label="Numéro d'engagement ou code service obligatoire (l'un des deux)", required=False
    )
    mise_en_paiement_non_remontee = forms.BooleanField(
        label="Le statut « mise en paiement » n'est pas remonté aux fournisseurs", required=False
    )
    is_moa = forms.BooleanField(label="Maîtrise d'ouvrage (MOA) de marchés de travaux", required=False)
    is_moa_only = forms.BooleanField(label="MOA uniquement", required=False)
    payment_delay_days = forms.IntegerField(
        label="Délai global de paiement (jours, facultatif)",
        required=False,
        min_value=1,
        max_value=60,
        help_text="Vide : délai légal (30 jours ; 50 pour un établissement public de santé).",
        error_messages={
            "min_value": "Le délai est d'au moins 1 jour.",
            "max_value": "Le délai ne dépasse pas 60 jours.",
            "invalid": "Saisissez un nombre de jours, par exemple 30.",
        },
    )

    RECIPIENT_FIELDS = (
        "code_service_obligatoire",
        "engagement_obligatoire",
        "engagement_ou_service",
        "mise_en_paiement_non_remontee",
        "is_moa",
        "is_moa_only",
        "payment_delay_days",
    )

    def __init__(self, *args, structure: Structure, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raison_sociale"].required = True
        self.fields["raison_sociale"].error_messages["required"] = "Saisissez la raison sociale de la structure."
        if not structure.is_public:
            for name in self.RECIPIENT_FIELDS:
                del self.fields[name]

    @property
    def identity_fields(self):
        return [self[name] for name in self.fields if name not in self.RECIPIENT_FIELDS]

    @property
    def recipient_fields(self):
        return [self[name] for name in self.fields if name in self.RECIPIENT_FIELDS]


class ServiceForm(HelpedForm):
    code = forms.CharField(
        label="Code service",
        max_length=100,
        help_text="Lettres, chiffres, _ - . sans espace (par ex. SERVICE_ACHATS). Il ne pourra plus changer.",
        error_messages=_required("Saisissez le code du service, par exemple SERVICE_ACHATS."),
    )
    libelle = forms.CharField(
        label="Libellé", max_length=255, error_messages=_required("Saisissez le libellé du service.")
    )
    description = forms.CharField(label="Description (facultatif)", required=False, widget=forms.Textarea(
        attrs={"rows": 3}))  # fmt: skip
    valid_from = forms.DateField(
        label="Début de validité (facultatif)", required=False, widget=DATE_WIDGET,
        error_messages={"invalid": "Saisissez une date valide, par exemple 01/01/2026."},
    )  # fmt: skip
    valid_until = forms.DateField(
        label="Fin de validité (facultatif)", required=False, widget=DATE_WIDGET,
        error_messages={"invalid": "Saisissez une date valide, par exemple 31/12/2026."},
    )  # fmt: skip
    is_active = forms.BooleanField(label="Service actif", required=False, initial=True)
    engagement_obligatoire = forms.BooleanField(
        label="Numéro d'engagement juridique obligatoire pour ce service", required=False
    )
    mise_en_paiement = forms.BooleanField(
        label="Le statut « mise en paiement » est remonté aux fournisseurs", required=False, initial=True
    )
    adresse = forms.CharField(label="Adresse (facultatif)", max_length=255, required=False)
    code_postal = forms.CharField(label="Code postal (facultatif)", max_length=10, required=False)
    ville = forms.CharField(label="Ville (facultatif)", max_length=100, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # The code is on suppliers' invoices: it never changes (see services.service_update).
            del self.fields["code"]


class BankAccountForm(HelpedForm):
    label = forms.CharField(
        label="Nom des coordonnées bancaires",
        max_length=100,
        help_text="Pour les reconnaître, par ex. « Compte principal ».",
        error_messages=_required("Saisissez un nom pour ces coordonnées bancaires."),
    )
    holder = forms.CharField(
        label="Titulaire du compte", max_length=255, error_messages=_required("Saisissez le titulaire du compte.")
    )
    iban = forms.CharField(
        label="IBAN",
        max_length=42,
        help_text="Format : FR76 3000 6000 0112 3456 7890 189 (espaces acceptés).",
        error_messages=_required("Saisissez l'IBAN."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bic = forms.CharField(
        label="BIC",
        max_length=11,
        help_text="8 ou 11 caractères, par ex. AGRIFRPP.",
        error_messages=_required("Saisissez le BIC."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class RattachementRequestForm(HelpedForm):
    services = forms.ModelMultipleChoiceField(
        label="Services (facultatif)",
        help_text="Sans choix, la demande porte sur toute la structure.",
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label="Message aux gestionnaires (facultatif)",
        help_text="Qui êtes-vous, pourquoi demandez-vous ce rattachement ? Cela aide le gestionnaire à décider.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, structure: Structure, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = structure.services.active().order_by("code")
        self.fields["services"].label_from_instance = lambda s: f"{s.code} — {s.libelle}"
        if not self.fields["services"].queryset.exists():
            del self.fields["services"]


class IdentifierLookupForm(HelpedForm):
    identifier_type = forms.ChoiceField(
        label="Type d'identifiant", choices=IdentifierType.choices, initial=IdentifierType.SIRET
    )
    identifier = forms.CharField(
        label="Identifiant de la structure",
        max_length=40,
        help_text="SIRET : 14 chiffres.",
        error_messages=_required("Saisissez l'identifiant de la structure."),
    )


class DecisionForm(HelpedForm):
    comment = forms.CharField(
        label="Motif (obligatoire pour un refus)",
        help_text="Il est envoyé au demandeur.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BulkDecisionForm(HelpedForm):
    ids = forms.TypedMultipleChoiceField(
        coerce=int,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Cochez au moins une demande.",
            "invalid_choice": "Une des demandes cochées n'est plus en attente : rechargez la page.",
        },
    )
    decision = forms.ChoiceField(choices=(("valider", "Valider"), ("refuser", "Refuser")))
    comment = forms.CharField(
        label="Motif du refus (obligatoire pour refuser)",
        help_text="Le même motif est envoyé à chaque demandeur refusé.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, str(pk)) for pk in ids]


class RoleForm(HelpedForm):
    role = forms.ChoiceField(
        choices=((Role.GESTIONNAIRE_SECONDAIRE, Role.GESTIONNAIRE_SECONDAIRE.label),
                 (Role.UTILISATEUR_SIMPLE, Role.UTILISATEUR_SIMPLE.label))
    )  # fmt: skip


class TransferForm(HelpedForm):
    to = forms.ModelChoiceField(
        label="Nouveau gestionnaire principal",
        help_text="Un utilisateur dont le rattachement est validé. Vous deviendrez gestionnaire secondaire.",
        queryset=Rattachement.objects.none(),
        empty_label="Choisissez un utilisateur",
        error_messages=_required("Choisissez le nouveau gestionnaire principal."),
    )

    def __init__(self, *args, structure: Structure, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = (
            Rattachement.objects.validated()
            .filter(structure=structure, user__is_active=True)
            .exclude(role=Role.GESTIONNAIRE_PRINCIPAL)
            .select_related("user")
            .order_by("user__last_name", "pk")
        )
        self.fields["to"].label_from_instance = lambda r: (
            f"{r.user.full_name} ({r.user.email}) — {r.get_role_display()}"
        )


class EspaceForm(HelpedForm):
    code = forms.ChoiceField(choices=EspaceCode.choices)


class SubscriptionRequestForm(HelpedForm):
    code = forms.ChoiceField(
        label="Espace", choices=(), error_messages=_required("Choisissez l'espace auquel vous abonner.")
    )
    habilitation = forms.ChoiceField(
        label="Habilitation",
        choices=Habilitation.choices,
        initial=Habilitation.CONSULTATION_UNIQUEMENT,
        widget=forms.RadioSelect,
        error_messages=_required("Choisissez l'habilitation : consultation uniquement ou modification."),
    )

    def __init__(self, *args, codes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", "Choisissez un espace")] + [(c, EspaceCode(c).label) for c in codes]


NO_ACCESS = "AUCUN"


class RightsForm(HelpedForm):
    """One choice per open espace: no access, consultation or modification."""

    def __init__(self, *args, codes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(NO_ACCESS, "Aucun accès"), *Habilitation.choices]
        for code in codes:
            self.fields[code] = forms.ChoiceField(label=EspaceCode(code).label, choices=choices)

    def rights(self) -> dict[str, str | None]:
        return {code: (None if value == NO_ACCESS else value) for code, value in self.cleaned_data.items()}
