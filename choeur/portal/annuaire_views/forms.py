from django import forms
from dsfr.forms import DsfrBaseForm


class AnnuaireSearchForm(DsfrBaseForm):
    """Search criteria; all optional, combined with AND. Submitted by GET so results can be bookmarked."""

    q = forms.CharField(
        label="Nom de la structure",
        required=False,
        max_length=200,
        help_text="Tout ou partie du nom, sans se soucier des accents ni des majuscules.",
    )
    siret = forms.CharField(
        label="SIRET ou SIREN",
        required=False,
        max_length=20,
        help_text="Le début du numéro suffit (au moins 3 chiffres).",
    )
    lieu = forms.CharField(
        label="Code postal ou ville",
        required=False,
        max_length=100,
    )

    def clean_siret(self):
        value = self.cleaned_data["siret"].strip()
        digits = "".join(char for char in value if char.isdigit())
        if value and (len(digits) < 3 or len(digits) != len(value.replace(" ", ""))):
            raise forms.ValidationError("Saisissez au moins 3 chiffres du SIRET (uniquement des chiffres).")
        return digits
