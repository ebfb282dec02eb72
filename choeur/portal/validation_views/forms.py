from django import forms
from dsfr.forms import DsfrBaseForm

from choeur.invoices.validation_circuit import ERREUR_VALIDEUR, REFUS, VALIDATION, refusal_motifs_for

COMMENT_MAX = 2000


class _DecisionForm(DsfrBaseForm):
    decision = forms.CharField(widget=forms.HiddenInput)
    # The status the page was drawn in: a decision on a screen gone stale is refused, not applied.
    expected_status = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, invoice, **kwargs):
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        self.fields["decision"].initial = self.decision_value
        self.fields["expected_status"].initial = invoice.status


class ValidateForm(_DecisionForm):
    decision_value = VALIDATION
    prefix_name = "valider"

    certified = forms.BooleanField(
        label="Je certifie être le titulaire du marché (ou le mandataire du groupement) et valide cette facture",
        error_messages={
            "required": "Cochez la case pour confirmer que vous êtes le titulaire (ou le mandataire) qui valide."
        },
    )
    comment = forms.CharField(
        label="Message au fournisseur (facultatif)",
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RefuseForm(_DecisionForm):
    decision_value = REFUS
    prefix_name = "refuser"

    motif = forms.ChoiceField(
        label="Motif du refus",
        error_messages={
            "required": "Choisissez le motif du refus.",
            "invalid_choice": "Choisissez un motif de la liste.",
        },
    )
    comment = forms.CharField(
        label="Commentaire au fournisseur",
        required=False,
        max_length=COMMENT_MAX,
        help_text="Obligatoire pour le motif « Autre ». Dites au fournisseur ce qu'il doit corriger.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, invoice, **kwargs):
        super().__init__(*args, invoice=invoice, **kwargs)
        self.fields["motif"].choices = [("", "Choisissez un motif")] + [
            (m.code, m.label) for m in refusal_motifs_for(invoice.cadre)
        ]


class WrongValideurForm(_DecisionForm):
    decision_value = ERREUR_VALIDEUR
    prefix_name = "erreur"

    comment = forms.CharField(
        label="Précision pour le fournisseur (facultatif)",
        required=False,
        max_length=COMMENT_MAX,
        help_text="Par exemple : le titulaire du marché est une autre entreprise, ou son SIRET.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


DECISION_FORMS = {form.decision_value: form for form in (ValidateForm, RefuseForm, WrongValideurForm)}


class ValideurSearchForm(DsfrBaseForm):
    q = forms.CharField(
        label="SIRET ou raison sociale exacte du valideur",
        max_length=255,
        help_text="Au moins 3 chiffres du SIRET, ou la raison sociale complète du titulaire (ou du mandataire).",
    )


class ValideurChoiceForm(DsfrBaseForm):
    valideur = forms.IntegerField(widget=forms.HiddenInput)
    service = forms.IntegerField(required=False)
    expected_status = forms.CharField(widget=forms.HiddenInput)
