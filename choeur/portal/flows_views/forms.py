from django import forms
from django.conf import settings
from dsfr.forms import DsfrBaseForm

from choeur.flows.enums import SyntaxeFlux


class FlowDepositForm(DsfrBaseForm):
    """« Dépôt de flux »: one file (a single invoice or an archive of several) and, optionally, its syntax."""

    structure = forms.TypedChoiceField(label="Structure émettrice", coerce=int, choices=())
    fichier = forms.FileField(
        label="Fichier de factures",
        help_text=(
            "Facture XML (UBL ou CII), PDF Factur-X, ou archive zip / tar.gz de plusieurs factures — 120 Mo au plus."
        ),
    )
    syntaxe_flux = forms.ChoiceField(
        label="Syntaxe du flux (facultatif)",
        required=False,
        choices=[("", "Détection automatique")] + list(SyntaxeFlux.choices),
        help_text="Laissez « Détection automatique » sauf si votre contrat d'interface impose une syntaxe.",
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].choices = [(s.pk, f"{s.designation} ({s.identifier})") for s in structures]
        if len(structures) == 1:
            self.fields["structure"].initial = structures[0].pk
            self.fields["structure"].widget = forms.HiddenInput()

    def clean_fichier(self):
        uploaded = self.cleaned_data["fichier"]
        max_bytes = settings.CHOEUR_FLOW_MAX_BYTES
        if uploaded.size > max_bytes:
            raise forms.ValidationError(
                f"Le fichier pèse {uploaded.size / 1_048_576:.1f} Mo, au-delà de la limite de "
                f"{max_bytes / 1_048_576:.0f} Mo par flux : répartissez les factures dans plusieurs flux."
            )
        if uploaded.size == 0:
            raise forms.ValidationError("Le fichier est vide : choisissez le fichier de factures à déposer.")
        return uploaded
