from django import forms
from dsfr.forms import DsfrBaseForm

from choeur.core.errors import ApplicationError
from choeur.directory.raccordement import API_CLIENT_LABEL_MAX


class ApiClientForm(DsfrBaseForm):
    label = forms.CharField(
        label="Nom du client API",
        max_length=API_CLIENT_LABEL_MAX,
        help_text="Pour le reconnaître dans la liste, par exemple le nom de votre logiciel de facturation.",
    )

    def apply_application_error(self, exc: ApplicationError) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)
