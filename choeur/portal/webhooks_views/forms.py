from django import forms
from dsfr.forms import DsfrBaseForm

from choeur.api.models import ApiEvent
from choeur.api.webhooks import URL_MAX_LENGTH
from choeur.core.errors import ApplicationError


class WebhookForm(DsfrBaseForm):
    structure = forms.ModelChoiceField(label="Structure", queryset=None, empty_label=None)
    url = forms.CharField(
        label="URL de réception",
        max_length=URL_MAX_LENGTH,
        help_text="Adresse https:// de votre logiciel qui recevra les événements en POST (JSON signé).",
    )
    event_types = forms.MultipleChoiceField(
        label="Événements envoyés",
        choices=ApiEvent.Type.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(ApiEvent.Type.values),
    )
    description = forms.CharField(label="Description (facultative)", max_length=200, required=False)

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures
        if structures.count() == 1:
            self.fields["structure"].initial = structures.first()
            self.fields["structure"].widget = forms.HiddenInput()

    def apply_application_error(self, exc: ApplicationError) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)
