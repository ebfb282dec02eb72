from django import forms

from choeur.portal.aide_views.cadres import DOCUMENTS, ROLES


class CadreChooserForm(forms.Form):
    role = forms.ChoiceField(
        label="Je suis",
        choices=list(ROLES.items()),
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez votre rôle dans le marché."},
    )
    works = forms.BooleanField(label="Il s'agit d'un marché de travaux", required=False)
    document = forms.ChoiceField(
        label="Je veux déposer",
        choices=list(DOCUMENTS.items()),
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le document que vous voulez déposer."},
    )
