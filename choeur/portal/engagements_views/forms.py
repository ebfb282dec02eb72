from django import forms
from dsfr.forms import DsfrBaseForm

from choeur.core.errors import ApplicationError
from choeur.directory.enums import EngagementState, EngagementType

STATE_FILTER_CHOICES = [("", "Tous les états"), *EngagementState.choices]


class _StructureMixin:
    def _set_structures(self, structures: list) -> None:
        self.fields["structure"].choices = [(s.pk, s.designation) for s in structures]
        self.structures = {str(s.pk): s for s in structures}
        if len(structures) == 1:
            self.fields["structure"].initial = structures[0].pk
            self.fields["structure"].widget = forms.HiddenInput()

    def clean_structure(self):
        return self.structures[self.cleaned_data["structure"]]

    def apply_application_error(self, exc: ApplicationError) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)


class EngagementForm(_StructureMixin, DsfrBaseForm):
    structure = forms.ChoiceField(label="Structure publique qui engage")
    number = forms.CharField(
        label="Numéro d'engagement",
        max_length=50,
        help_text="Le numéro que le fournisseur reportera sur ses factures.",
    )
    type = forms.ChoiceField(label="Type d'engagement", choices=EngagementType.choices)
    supplier = forms.CharField(
        label="SIRET du fournisseur",
        max_length=20,
        help_text="14 chiffres ; le fournisseur doit être inscrit sur Chœur.",
    )
    service = forms.ChoiceField(label="Service exécutant (facultatif)", required=False)
    amount_ttc = forms.CharField(label="Montant TTC", max_length=30, help_text="Par exemple 12 000,00")
    currency = forms.CharField(label="Devise", max_length=3, initial="EUR")
    notified_on = forms.DateField(label="Date de notification", widget=forms.DateInput(attrs={"type": "date"}))
    state = forms.ChoiceField(label="État", choices=EngagementState.choices, initial=EngagementState.COMMANDE)
    numero_marche = forms.CharField(label="Numéro de marché (facultatif)", max_length=50, required=False)
    label = forms.CharField(label="Objet (facultatif)", max_length=255, required=False)
    document = forms.FileField(
        label="Bon de commande ou marché en PDF (facultatif)", required=False, help_text="PDF, 10 Mo au plus."
    )

    def __init__(self, *args, structures: list, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_structures(structures)
        services = [("", "— Aucun en particulier —")]
        for structure in structures:
            prefix = f"{structure.designation} — " if len(structures) > 1 else ""
            services += [(s.code, f"{prefix}{s.code} — {s.libelle}") for s in structure.services.active()]
        self.fields["service"].choices = services


class ImportForm(_StructureMixin, DsfrBaseForm):
    structure = forms.ChoiceField(label="Structure publique qui engage")
    file = forms.FileField(
        label="Fichier des engagements",
        help_text="CSV (séparateur « ; » ou « , ») ou classeur XLSX, une ligne par engagement, 10 Mo au plus.",
    )

    def __init__(self, *args, structures: list, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_structures(structures)


class FilterForm(DsfrBaseForm):
    q = forms.CharField(label="Numéro, fournisseur ou objet", max_length=100, required=False)
    state = forms.ChoiceField(label="État", choices=STATE_FILTER_CHOICES, required=False)


class DocumentForm(DsfrBaseForm):
    document = forms.FileField(label="PDF du bon de commande ou du marché", help_text="PDF, 10 Mo au plus.")
