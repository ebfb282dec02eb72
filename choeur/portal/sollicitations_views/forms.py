"""Sollicitation forms (DSFR). They check only what needs no database; the services decide the rest and
their French refusals are shown next to the field at fault (`apply_application_error`)."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from dsfr.forms import DsfrBaseForm

from choeur.directory.enums import IdentifierType, PublicCategory
from choeur.directory.models import Structure
from choeur.portal.tracking_views.forms import DateInput, MultipleFileField
from choeur.sollicitations import selectors
from choeur.sollicitations.enums import RecipientKind, SollicitationStatus
from choeur.sollicitations.models import SollicitationSubCategory
from choeur.sollicitations.platform_requests import CREATE_STRUCTURE, NEW_GESTIONNAIRE, request_kind

ATTACHMENTS_HELP = (
    "5 fichiers au plus, 10 Mo au plus chacun ; nom de 50 caractères au plus (PDF, images, bureautique)."
)
TRANSFER_SUPPORT = "SUPPORT"


def subcategory_key(sub: SollicitationSubCategory) -> str:
    return f"{sub.category.code}.{sub.code}"


def subcategory_choices(*, routes_to: str | None = None) -> list:
    """Sous-catégories grouped by catégorie (one select: the catégorie is read from the group)."""
    groups: dict[str, list] = {}
    subs = selectors.subcategories_active()
    if routes_to:
        subs = subs.filter(category__routes_to=routes_to)
    for sub in subs:
        groups.setdefault(sub.category.libelle, []).append((subcategory_key(sub), sub.libelle))
    return [("", "Choisissez dans la liste")] + list(groups.items())


def subcategory_from_key(key: str) -> SollicitationSubCategory | None:
    category, _, code = (key or "").partition(".")
    return selectors.subcategories_active().filter(category__code=category, code=code).first()


class SubjectAndBody(DsfrBaseForm):
    subject = forms.CharField(
        label="Objet", max_length=200, error_messages={"required": "Objet : indiquez l'objet de votre demande."}
    )
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Message : écrivez votre message (il est vide)."},
    )


class SollicitationForm(SubjectAndBody):
    """« Nouvelle sollicitation »: catégorie + sous-catégorie, recipient (by SIRET) unless an invoice, a works
    dossier or the catégorie names it, subject, message, attachments, and a platform request's fields."""

    sender_structure = forms.TypedChoiceField(
        label="Vous écrivez au nom de", coerce=int, required=False, empty_value=None
    )
    subcategory = forms.ChoiceField(
        label="Catégorie et sous-catégorie",
        error_messages={"required": "Catégorie : choisissez la catégorie et la sous-catégorie de votre demande."},
    )
    recipient_siret = forms.CharField(
        label="SIRET de la structure publique destinataire",
        required=False,
        max_length=20,
        help_text="Pour une question à une structure publique ; retrouvez son SIRET dans l'annuaire. "
        "Laissez vide pour le support.",
    )
    attachments = MultipleFileField(label="Pièces jointes", required=False, help_text=ATTACHMENTS_HELP)
    # A structure-creation request (chorus-pro.md §9).
    siret = forms.CharField(label="SIRET de la structure à créer", required=False, max_length=20)
    raison_sociale = forms.CharField(label="Raison sociale", required=False, max_length=255)
    adresse = forms.CharField(label="Adresse", required=False, max_length=255)
    code_postal = forms.CharField(label="Code postal", required=False, max_length=10)
    ville = forms.CharField(label="Ville", required=False, max_length=100)
    email = forms.EmailField(
        label="Adresse électronique de la structure (facultatif)",
        required=False,
        error_messages={"invalid": "Adresse électronique : saisissez une adresse valide, par exemple nom@exemple.fr."},
    )
    public_category = forms.ChoiceField(
        label="Catégorie d'entité publique (facultatif)",
        required=False,
        choices=[("", "—"), *PublicCategory.choices],
    )
    # A new gestionnaire principal.
    about_structure = forms.TypedChoiceField(label="Structure concernée", coerce=int, required=False, empty_value=None)
    gestionnaire_email = forms.EmailField(
        label="Adresse électronique du nouveau gestionnaire principal",
        required=False,
        error_messages={"invalid": "Adresse électronique : saisissez une adresse valide, par exemple nom@exemple.fr."},
    )

    field_order = ["sender_structure", "subcategory", "recipient_siret", "subject", "body", "attachments"]

    REQUEST_FIELDS = {
        CREATE_STRUCTURE: ("siret", "raison_sociale", "adresse", "code_postal", "ville", "email", "public_category"),
        NEW_GESTIONNAIRE: ("about_structure", "gestionnaire_email"),
    }

    def __init__(self, *args, structures, fixed_recipient: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.structures = list(structures)
        self.fields["sender_structure"].choices = [("", "Moi-même (sans structure)")] + [
            (s.pk, s.designation) for s in self.structures
        ]
        self.fields["about_structure"].choices = [("", "—")] + [(s.pk, s.designation) for s in self.structures]
        self.fields["subcategory"].choices = subcategory_choices()
        # Choosing a sous-catégorie shows the fields of a platform request (HTMX; without it, after a submit).
        self.fields["subcategory"].widget.attrs.update(
            {"hx-get": reverse("portal:sollicitation_request_fields"), "hx-trigger": "change",
             "hx-target": "#request-fields", "hx-swap": "outerHTML"}
        )  # fmt: skip
        self.fixed_recipient = fixed_recipient
        if fixed_recipient:
            del self.fields["recipient_siret"]

    @property
    def request_kind(self) -> str:
        key = self.data.get(self.add_prefix("subcategory")) if self.is_bound else self.initial.get("subcategory")
        sub = subcategory_from_key(key or "")
        return request_kind(sub) if sub is not None else ""

    def request_fields(self):
        return [self[name] for name in self.REQUEST_FIELDS.get(self.request_kind, ())]

    def main_fields(self):
        hidden = {name for names in self.REQUEST_FIELDS.values() for name in names}
        return [f for f in self.visible_fields() if f.name not in hidden]

    def clean_subcategory(self):
        sub = subcategory_from_key(self.cleaned_data["subcategory"])
        if sub is None:
            raise forms.ValidationError("Catégorie : elle n'est plus proposée ; choisissez-en une autre.")
        return sub

    def sender(self) -> Structure | None:
        pk = self.cleaned_data.get("sender_structure")
        return next((s for s in self.structures if s.pk == pk), None)

    def about(self) -> Structure | None:
        pk = self.cleaned_data.get("about_structure")
        return next((s for s in self.structures if s.pk == pk), None)

    def recipient(self) -> Structure | None:
        """The public structure named by SIRET, or a French error on the field."""
        siret = "".join((self.cleaned_data.get("recipient_siret") or "").split())
        sub = self.cleaned_data.get("subcategory")
        if not siret or sub is None or sub.category.routes_to != RecipientKind.STRUCTURE:
            return None
        found = Structure.objects.filter(identifier_type=IdentifierType.SIRET, identifier=siret).first()
        if found is None:
            self.add_error(
                "recipient_siret",
                f"Destinataire : aucune structure n'est inscrite avec le SIRET « {siret} » ; vérifiez-le dans "
                "l'annuaire des structures publiques.",
            )
        return found

    def request_data(self) -> dict:
        fields = self.REQUEST_FIELDS.get(self.request_kind, ())
        return {name: self.cleaned_data.get(name) or "" for name in fields if name != "about_structure"}

    def attachment_pairs(self) -> list[tuple[str, bytes]]:
        return [(f.name, f.read()) for f in self.cleaned_data.get("attachments") or []]


class ActionForm(DsfrBaseForm):
    """The one action form of a sollicitation's page: the action chosen, then its fields."""

    action = forms.ChoiceField(label="Action", error_messages={"required": "Action : choisissez ce que vous faites."})
    body = forms.CharField(label="Message", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label="Pièces jointes", required=False, help_text=ATTACHMENTS_HELP)
    transfer_to = forms.CharField(
        label="Transférer à",
        required=False,
        max_length=20,
        help_text="SIRET de la structure publique compétente, ou SUPPORT pour le support de la plateforme.",
    )

    FIELDS_BY_ACTION = {
        "prendre_en_charge": ("body",),
        "demander_complement": ("body", "attachments"),
        "completer": ("body", "attachments"),
        "repondre": ("body", "attachments"),
        "relancer": ("body", "attachments"),
        "transferer": ("transfer_to", "body"),
        "cloturer": ("body",),
        "traiter_demande": ("body",),
    }

    def __init__(self, *args, actions: list[tuple[str, str]], chosen: str = "", fields_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = actions
        if fields_url:
            # Choosing an action swaps in its fields (HTMX GET with ?action=…).
            self.fields["action"].widget.attrs.update(
                {"hx-get": fields_url, "hx-trigger": "change", "hx-target": "#action-fields", "hx-swap": "outerHTML"}
            )
        names = [name for name, _ in actions]
        self.chosen = (self.data.get("action") if self.is_bound else chosen) or (names[0] if names else "")
        if self.chosen not in names and names:
            self.chosen = names[0]
        self.initial.setdefault("action", self.chosen)

    def action_fields(self):
        return [self[name] for name in self.FIELDS_BY_ACTION.get(self.chosen, ("body",))]

    def transfer_target(self) -> tuple[Structure | None, bool]:
        value = "".join((self.cleaned_data.get("transfer_to") or "").split())
        if value.upper() == TRANSFER_SUPPORT:
            return None, True
        if not value:
            return None, False
        found = Structure.objects.filter(identifier_type=IdentifierType.SIRET, identifier=value).first()
        if found is None:
            self.add_error(
                "transfer_to",
                f"Transfert : aucune structure n'est inscrite avec le SIRET « {value} » ; saisissez un SIRET de "
                "l'annuaire ou SUPPORT.",
            )
        return found, False

    def attachment_pairs(self) -> list[tuple[str, bytes]]:
        return [(f.name, f.read()) for f in self.cleaned_data.get("attachments") or []]


class FilterForm(DsfrBaseForm):
    """Search of « Sollicitations émises / reçues » (French GET parameters)."""

    numero = forms.CharField(label="Numéro", required=False, max_length=20)
    emetteur = forms.CharField(label="Émetteur (nom, SIRET ou adresse)", required=False, max_length=100)
    categorie = forms.ChoiceField(label="Catégorie", required=False)
    etat = forms.ChoiceField(label="État", required=False, choices=[("", "Tous"), *SollicitationStatus.choices])
    du = forms.DateField(
        label="Déposée du", required=False, widget=DateInput(), error_messages={"invalid": "Date : jj/mm/aaaa."}
    )
    au = forms.DateField(
        label="au", required=False, widget=DateInput(), error_messages={"invalid": "Date : jj/mm/aaaa."}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categorie"].choices = [("", "Toutes")] + [
            (c.code, c.libelle) for c in selectors.categories_active()
        ]

    def filters(self) -> selectors.SollicitationFilters:
        data = self.cleaned_data
        return selectors.SollicitationFilters(
            date_from=data.get("du"),
            date_to=data.get("au"),
            category_code=data.get("categorie") or "",
            status=data.get("etat") or "",
            sender=data.get("emetteur") or "",
            numero=data.get("numero") or "",
        )


class SupportContactForm(SubjectAndBody):
    """« Nous contacter » for people who are not connected: support catégories only, a honeypot field."""

    subcategory = forms.ChoiceField(
        label="Catégorie et sous-catégorie",
        error_messages={"required": "Catégorie : choisissez la catégorie et la sous-catégorie de votre demande."},
    )
    email = forms.EmailField(
        label="Votre adresse électronique",
        help_text="La réponse y sera envoyée. Format : prenom.nom@exemple.fr",
        error_messages={
            "required": "Adresse électronique : indiquez-la pour recevoir la réponse.",
            "invalid": "Adresse électronique : saisissez une adresse valide, par exemple prenom.nom@exemple.fr.",
        },
    )
    subject = forms.CharField(
        label="Titre", max_length=200, error_messages={"required": "Titre : résumez votre demande en une ligne."}
    )
    body = forms.CharField(
        label="Description",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Description : décrivez votre demande (elle est vide)."},
    )
    # Humans never see this field (hidden); robots that fill every input do.
    website = forms.CharField(label="Ne pas remplir ce champ", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subcategory"].choices = subcategory_choices(routes_to=RecipientKind.SUPPORT)
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})

    def clean_subcategory(self):
        sub = subcategory_from_key(self.cleaned_data["subcategory"])
        if sub is None or sub.category.routes_to != RecipientKind.SUPPORT:
            raise forms.ValidationError("Catégorie : choisissez-en une de la liste.")
        return sub

    def is_spam(self) -> bool:
        return bool((self.data.get(self.add_prefix("website")) or "").strip())
