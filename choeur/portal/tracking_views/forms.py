"""Forms of the tracking pages: the dashboards' filters and the actions on one invoice."""

from __future__ import annotations

from django import forms
from django.utils.formats import number_format
from dsfr.forms import DsfrBaseForm

from choeur.core.errors import ApplicationError
from choeur.directory.enums import IdentifierType
from choeur.directory.models import Structure
from choeur.directory.selectors import structure_get_by_identifier
from choeur.invoices.enums import Cadre, InvoiceStatus
from choeur.invoices.lifecycle import MOTIFS, NUMERO_DP_MANDAT_MAX_LENGTH
from choeur.invoices.search import ISSUED, RECEIVED, SORT_LABELS, InvoiceFilters

S = InvoiceStatus
# Statuses each dashboard offers in its filter (those an invoice can have on that side).
ISSUED_STATUSES = [s for s in InvoiceStatus if s not in (S.TECHNIQUE_INCONNU,)]
RECEIVED_STATUSES = [
    S.MISE_A_DISPOSITION,
    S.COMPLETEE,
    S.SERVICE_FAIT,
    S.MANDATEE,
    S.MISE_A_DISPOSITION_COMPTABLE,
    S.COMPTABILISEE,
    S.MISE_EN_PAIEMENT,
    S.A_RECYCLER,
    S.SUSPENDUE,
    S.REJETEE,
]


def _sort_choices(side: str) -> list[tuple[str, str]]:
    counterpart = "Destinataire" if side == ISSUED else "Fournisseur"
    choices = [("", "Par défaut (les plus récentes d'abord)")]
    for key, label in SORT_LABELS.items():
        label = counterpart if key == "contrepartie" else label
        choices.append((f"-{key}", f"{label} (décroissant)"))
        choices.append((key, f"{label} (croissant)"))
    return choices


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DashboardFilterForm(DsfrBaseForm):
    """Filters of « Factures émises » / « Factures reçues ». Every field is optional; GET parameters are
    French (they show in the address bar and in shared links)."""

    structure = forms.TypedChoiceField(label="Structure", coerce=int, required=False, empty_value=None)
    q = forms.CharField(
        label="Recherche",
        required=False,
        max_length=100,
        help_text="Début d'un numéro de facture, d'engagement, de marché ou de flux, ou nom de la contrepartie.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    statut = forms.ChoiceField(label="Statut", required=False)
    date_type = forms.ChoiceField(
        label="Dates portant sur",
        required=False,
        choices=[("depot", "la date de dépôt"), ("facture", "la date de facture")],
    )
    du = forms.DateField(label="Du", required=False, widget=DateInput())
    au = forms.DateField(label="Au", required=False, widget=DateInput())
    montant_min = forms.DecimalField(label="Montant TTC minimum (€)", required=False, min_value=0, decimal_places=2)
    montant_max = forms.DecimalField(label="Montant TTC maximum (€)", required=False, min_value=0, decimal_places=2)
    contrepartie = forms.CharField(required=False, max_length=100)
    service = forms.CharField(
        label="Service exécutant", required=False, max_length=100, help_text="Code ou libellé du service."
    )
    cadre = forms.ChoiceField(label="Cadre de facturation", required=False)
    numero = forms.CharField(label="Numéro de facture", required=False, max_length=20)
    flux = forms.CharField(label="Numéro de flux", required=False, max_length=30)
    telechargee = forms.ChoiceField(
        label="Téléchargement",
        required=False,
        choices=[("", "Toutes"), ("non", "Non téléchargées"), ("oui", "Téléchargées")],
    )
    tri = forms.ChoiceField(label="Trier par", required=False)

    def __init__(self, *args, side: str, structures: list[Structure], **kwargs):
        super().__init__(*args, **kwargs)
        self.side = side
        statuses = ISSUED_STATUSES if side == ISSUED else RECEIVED_STATUSES
        self.fields["statut"].choices = [("", "Tous les statuts")] + [(s.value, s.label) for s in statuses]
        self.fields["cadre"].choices = [("", "Tous les cadres")] + [(c.code, c.label) for c in Cadre]
        self.fields["tri"].choices = _sort_choices(side)
        self.fields["contrepartie"].label = (
            "Destinataire (nom ou SIRET)" if side == ISSUED else "Fournisseur (nom ou SIRET)"
        )
        if side != RECEIVED:
            del self.fields["telechargee"]
        if len(structures) > 1:
            self.fields["structure"].choices = [("", "Toutes mes structures")] + [
                (s.pk, f"{s.designation} ({s.identifier})") for s in structures
            ]
        else:
            del self.fields["structure"]

    def clean(self):
        data = super().clean()
        if data.get("du") and data.get("au") and data["du"] > data["au"]:
            self.add_error("au", "La date de fin précède la date de début : inversez-les.")
        low, high = data.get("montant_min"), data.get("montant_max")
        if low is not None and high is not None and low > high:
            self.add_error("montant_max", "Le montant maximum est inférieur au minimum : corrigez l'un des deux.")
        return data

    def filters(self) -> InvoiceFilters:
        data = self.cleaned_data
        downloaded = {"oui": True, "non": False}.get(data.get("telechargee") or "")
        return InvoiceFilters(
            statuses=(data["statut"],) if data.get("statut") else (),
            date_field=data.get("date_type") or "depot",
            date_from=data.get("du"),
            date_to=data.get("au"),
            amount_min=data.get("montant_min"),
            amount_max=data.get("montant_max"),
            counterpart=data.get("contrepartie") or "",
            service=data.get("service") or "",
            cadre=data.get("cadre") or "",
            number=data.get("numero") or "",
            flow_number=data.get("flux") or "",
            q=data.get("q") or "",
            downloaded=downloaded,
            structure_id=data.get("structure"),
            sort=data.get("tri") or "",
        )


class _ActionForm(DsfrBaseForm):
    """One action of the invoice page. The template adds two unprefixed hidden inputs, `action` and
    `expected_status` (the status the person saw: acting on a stale page is refused with a 409); the
    fields are prefixed by the action so that several forms live on one page with distinct ids."""

    def __init__(self, *args, invoice, action: str, **kwargs):
        kwargs.setdefault("prefix", action)
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        self.action_name = action


class ProcessForm(_ActionForm):
    """The recipient's processing: one form per transition (the table says which are open now)."""

    motif = forms.ChoiceField(label="Motif", required=True)
    comment = forms.CharField(
        label="Commentaire pour le fournisseur",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    numero_dp_mandat = forms.CharField(label="Numéro de mandat", required=True, max_length=NUMERO_DP_MANDAT_MAX_LENGTH)

    def __init__(self, *args, transition, **kwargs):
        super().__init__(*args, action=transition.name, **kwargs)
        self.transition = transition
        if transition.name in MOTIFS:
            self.fields["motif"].choices = [("", "Choisissez un motif")] + list(MOTIFS[transition.name])
            self.fields["comment"].required = True
            self.fields["comment"].help_text = "Dites au fournisseur ce qu'il doit corriger ou fournir."
        else:
            del self.fields["motif"]
            self.fields["comment"].label = "Commentaire (facultatif)"
        if transition.name != "mandater":
            del self.fields["numero_dp_mandat"]
        if irreversible(transition):
            # No way back: the consequence is stated and must be acknowledged, and it is checked server-side.
            invoice = self.invoice
            amount = (
                f"{number_format(invoice.total_ttc, 2, force_grouping=True)} € TTC"
                if invoice.total_ttc is not None
                else "sans montant"
            )
            self.fields["confirm"] = forms.BooleanField(
                label=(
                    f"Je confirme : la facture {invoice.number} ({amount}) passera au statut "
                    f"« {InvoiceStatus(transition.target).label} », le fournisseur en sera informé, "
                    "et cette étape ne pourra pas être annulée."
                ),
                required=True,
                error_messages={"required": "Cochez la case de confirmation : cette étape ne peut pas être annulée."},
            )


def irreversible(transition) -> bool:
    """A transition to a final status: nobody can move the invoice afterwards (mise en paiement, rejet)."""
    from choeur.invoices.workflow import TRANSITIONS

    return not any(transition.target in other.sources for other in TRANSITIONS)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class CompleteForm(_ActionForm):
    """« Compléter » a suspended invoice: documents and/or a comment."""

    comment = forms.CharField(
        label="Commentaire pour le destinataire",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    attachments = MultipleFileField(
        label="Pièces jointes",
        required=False,
        help_text="10 Mo au plus par fichier ; nom de 50 caractères au plus. Plusieurs fichiers possibles.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, action="completer", **kwargs)

    def clean(self):
        data = super().clean()
        if not (data.get("comment") or "").strip() and not data.get("attachments"):
            raise forms.ValidationError(
                "Joignez au moins une pièce ou écrivez un commentaire : le destinataire attend un complément."
            )
        return data

    def attachment_pairs(self) -> list[tuple[str, bytes]]:
        return [(f.name, f.read()) for f in self.cleaned_data.get("attachments") or []]


class RecycleForm(_ActionForm):
    """« Recycler »: new recipient (SIRET), service or engagement; the invoice keeps its number."""

    recipient_siret = forms.CharField(label="SIRET du destinataire", max_length=20)
    service_code = forms.CharField(label="Code du service exécutant", required=False, max_length=100)
    numero_engagement = forms.CharField(label="Numéro d'engagement", required=False, max_length=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, action="recycler", **kwargs)
        invoice = self.invoice
        if not self.is_bound:
            self.fields["recipient_siret"].initial = invoice.recipient.identifier if invoice.recipient_id else ""
            self.fields["service_code"].initial = (
                invoice.recipient_service.code if invoice.recipient_service_id else ""
            )
            self.fields["numero_engagement"].initial = invoice.numero_engagement

    def clean(self):
        data = super().clean()
        siret = "".join((data.get("recipient_siret") or "").split())
        if not siret:
            return data
        try:
            recipient = structure_get_by_identifier(identifier_type=IdentifierType.SIRET, identifier=siret)
        except ApplicationError as exc:  # unknown, or not a valid SIRET
            self.add_error("recipient_siret", exc.message)
            return data
        data["recipient"] = recipient
        code = (data.get("service_code") or "").strip()
        data["recipient_service"] = None
        if code:
            service = recipient.services.filter(code__iexact=code).first()
            if service is None:
                self.add_error(
                    "service_code",
                    f"{recipient.designation} n'a pas de service « {code} » : vérifiez le code dans l'annuaire.",
                )
            data["recipient_service"] = service
        return data


class AcknowledgeForm(_ActionForm):
    """« Traiter le rejet »: the supplier takes note of a rejection (or a suspension)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, action="traiter_rejet", **kwargs)


class BulkAcknowledgeForm(DsfrBaseForm):
    """The synthèse's « Traiter » for several rejected or suspended invoices at once."""

    invoices = forms.TypedMultipleChoiceField(label="Factures", coerce=int, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, pending, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoices"].choices = [
            (invoice.pk, f"{invoice.number} — {invoice.get_status_display()}") for invoice in pending
        ]
