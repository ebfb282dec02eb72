"""Forms of the saisie wizard and of the dépôt. They check formats only (a draft may be incomplete); the
rules that decide whether an invoice can be sent are the pré-contrôle's (`choeur.invoices.checks`), whose
findings are shown on the field they name."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from choeur.invoices.cadres import PORTAL_SAISIE_CADRES, cadre_rule
from choeur.invoices.computations import to_decimal
from choeur.invoices.enums import (
    FRENCH_VAT_RATES,
    AttachmentType,
    Cadre,
    InvoiceStatus,
    InvoiceType,
    PaymentMode,
    TypeTva,
    Unit,
)
from choeur.invoices.models import NUMBER_MAX_LENGTH, Invoice
from choeur.invoices.services import MAX_FILE_SIZE
from choeur.portal.aide_views.contextual import HelpedForm

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _pk(value) -> str:
    return "" if value is None else str(value.pk if hasattr(value, "pk") else value)


class SupplierChoiceForm(HelpedForm):
    supplier = forms.TypedChoiceField(
        label="Structure émettrice (fournisseur)",
        coerce=int,
        choices=(),
        error_messages={"required": "Choisissez la structure pour laquelle vous émettez la facture."},
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].choices = [(s.pk, f"{s.designation} ({s.identifier})") for s in structures]
        if len(structures) == 1:
            self.fields["supplier"].initial = structures[0].pk


class UploadForm(SupplierChoiceForm):
    fichier = forms.FileField(
        label="Fichier de la facture",
        help_text="PDF (simple ou Factur-X / ZUGFeRD), ou XML UBL 2.1 / CII — 10 Mo au plus.",
        error_messages={"required": "Choisissez le fichier de la facture à déposer."},
    )

    def clean_fichier(self):
        uploaded = self.cleaned_data["fichier"]
        if uploaded.size == 0:
            raise forms.ValidationError("Le fichier est vide : choisissez le fichier de la facture.")
        if uploaded.size > MAX_FILE_SIZE:
            size = f"{uploaded.size / 1_048_576:.1f}".replace(".", ",")
            raise forms.ValidationError(f"Le fichier pèse {size} Mo ; une facture déposée pèse 10 Mo au plus.")
        return uploaded


# --- Step 1: parties ------------------------------------------------------------------------------------


class PartiesForm(HelpedForm):
    """Supplier side, cadre, recipient, valideur. Parties are ids: the recipient and the valideur come
    from the annuaire search (hidden inputs filled by HTMX), services from selects built for them."""

    supplier_service = forms.ChoiceField(label="Service émetteur (facultatif)", required=False, choices=())
    supplier_bank_account = forms.ChoiceField(label="Coordonnées bancaires", required=False, choices=())
    cadre = forms.ChoiceField(label="Cadre de facturation", choices=())
    recipient = forms.IntegerField(required=False, widget=forms.HiddenInput)
    recipient_service = forms.ChoiceField(label="Service exécutant", required=False, choices=())
    valideur = forms.IntegerField(required=False, widget=forms.HiddenInput)
    valideur_service = forms.ChoiceField(label="Service du valideur (facultatif)", required=False, choices=())

    FIELDS = (
        "supplier_service",
        "supplier_bank_account",
        "cadre",
        "recipient",
        "recipient_service",
        "valideur",
        "valideur_service",
    )

    def __init__(self, *args, invoice: Invoice, recipient=None, valideur=None, **kwargs):
        kwargs.setdefault("initial", {name: _pk(getattr(invoice, name)) for name in self.FIELDS})
        kwargs["initial"]["cadre"] = invoice.cadre
        super().__init__(*args, **kwargs)
        supplier = invoice.supplier
        self.fields["supplier_service"].choices = [("", "— Aucun —")] + [
            (str(s.pk), f"{s.code} — {s.libelle}") for s in supplier.services.active().order_by("code")
        ]
        self.fields["supplier_bank_account"].choices = [("", "— Choisir un compte —")] + [
            (str(a.pk), f"{a.label} — {a.masked_iban}") for a in supplier.bank_accounts.filter(is_active=True)
        ]
        cadres = [Cadre(c) for c in PORTAL_SAISIE_CADRES]
        if invoice.cadre and Cadre(invoice.cadre) not in cadres:
            cadres.append(Cadre(invoice.cadre))  # a deposited file may name another cadre: keep it visible
        self.fields["cadre"].choices = [(c.value, f"{c.code} — {cadre_rule(c).label}") for c in cadres]
        self.fields["recipient_service"].choices = _service_choices(recipient, "— Choisir le service —")
        self.fields["valideur_service"].choices = _service_choices(valideur, "— Aucun —")

    def draft_data(self) -> dict:
        return {name: self.cleaned_data.get(name) or None for name in self.FIELDS}


def _service_choices(structure, empty_label: str) -> list[tuple[str, str]]:
    choices = [("", empty_label)]
    if structure is not None:
        choices += [(str(s.pk), f"{s.code} — {s.libelle}") for s in structure.services.active().order_by("code")]
    return choices


# --- Step 2: references ---------------------------------------------------------------------------------


class ReferencesForm(HelpedForm):
    number = forms.CharField(
        label="Numéro de facture",
        max_length=NUMBER_MAX_LENGTH,
        required=False,
        help_text="20 caractères au plus : lettres sans accent, chiffres et - _ / +.",
    )
    invoice_date = forms.DateField(
        label="Date de facture",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Saisissez une date valide (JJ/MM/AAAA)."},
    )
    invoice_type = forms.ChoiceField(label="Type", choices=InvoiceType.choices)
    origin_invoice = forms.ChoiceField(label="Facture d'origine (avoir)", required=False, choices=())
    origin_number = forms.CharField(
        label="Numéro de la facture d'origine",
        max_length=NUMBER_MAX_LENGTH,
        required=False,
        help_text="Pour un avoir sur une facture envoyée hors de Chœur.",
    )
    origin_date = forms.DateField(
        label="Date de la facture d'origine",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Saisissez une date valide (JJ/MM/AAAA)."},
    )
    currency = forms.CharField(label="Devise", max_length=3, initial="EUR", help_text="Code ISO 4217, par ex. EUR.")
    type_tva = forms.ChoiceField(label="Type de TVA", choices=TypeTva.choices)
    motif_exoneration = forms.CharField(
        label="Motif d'exonération de TVA",
        max_length=255,
        required=False,
        help_text="Obligatoire en cas d'exonération.",
    )
    numero_marche = forms.CharField(label="Numéro de marché (facultatif)", max_length=50, required=False)
    numero_engagement = forms.CharField(
        label="Numéro d'engagement (bon de commande)",
        max_length=50,
        required=False,
        help_text="Il figure sur le bon de commande reçu de l'acheteur.",
    )
    payment_mode = forms.ChoiceField(
        label="Mode de paiement", required=False, choices=[("", "— Aucun (avoir) —"), *PaymentMode.choices]
    )
    comment = forms.CharField(
        label="Commentaire (facultatif)", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    FIELDS = (
        "number",
        "invoice_date",
        "invoice_type",
        "origin_invoice",
        "origin_number",
        "origin_date",
        "currency",
        "type_tva",
        "motif_exoneration",
        "numero_marche",
        "numero_engagement",
        "payment_mode",
        "comment",
    )

    def __init__(self, *args, invoice: Invoice, **kwargs):
        initial = {name: getattr(invoice, name) for name in self.FIELDS}
        initial["origin_invoice"] = _pk(invoice.origin_invoice)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        origins = (
            Invoice.objects.filter(supplier_id=invoice.supplier_id, invoice_type=InvoiceType.FACTURE)
            .exclude(status=InvoiceStatus.BROUILLON)
            .order_by("-deposited_at", "-id")[:200]
        )
        self.fields["origin_invoice"].choices = [("", "— Facture envoyée sur Chœur —")] + [
            (str(o.pk), f"{o.number} du {o.invoice_date:%d/%m/%Y}" if o.invoice_date else o.number) for o in origins
        ]

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def draft_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.FIELDS}
        data["origin_invoice"] = data["origin_invoice"] or None
        return data


# --- Step 3: lines --------------------------------------------------------------------------------------

LINE_FIELDS = ("reference", "designation", "quantity", "unit", "unit_price_ht", "discount_ht", "vat_rate")


class DecimalText(forms.CharField):
    """A French-friendly number (« 12,50 »), kept as Decimal; the comma is accepted."""

    def __init__(self, *args, label_for_errors: str, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(*args, **kwargs)
        self.label_for_errors = label_for_errors

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return to_decimal(value, label=self.label_for_errors)
        except ValueError:
            raise forms.ValidationError(f"{self.label} : « {value} » n'est pas un nombre (exemple : 12,50).") from None


class LineForm(HelpedForm):
    reference = forms.CharField(label="Référence", max_length=50, required=False)
    designation = forms.CharField(label="Désignation", max_length=255, required=False)
    quantity = DecimalText(label="Quantité", label_for_errors="quantité")
    unit = forms.ChoiceField(label="Unité", choices=Unit.choices, initial=Unit.C62)
    unit_price_ht = DecimalText(label="Prix unitaire HT", label_for_errors="prix unitaire HT")
    discount_ht = DecimalText(label="Remise HT", label_for_errors="remise HT")
    vat_rate = DecimalText(label="Taux de TVA (%)", label_for_errors="taux de TVA")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vat_rate"].widget.attrs["list"] = "vat-rates"

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) not in (None, "") for name in LINE_FIELDS if name != "unit")

    def clean(self):
        data = super().clean()
        if self.is_blank():
            return data
        if data.get("unit_price_ht") is None and "unit_price_ht" not in self.errors:
            self.add_error("unit_price_ht", "Saisissez le prix unitaire HT de la ligne.")
        if data.get("quantity") is None and "quantity" not in self.errors:
            data["quantity"] = Decimal("1")
        if data.get("vat_rate") is None and "vat_rate" not in self.errors:
            self.add_error("vat_rate", "Saisissez le taux de TVA de la ligne (0 si elle n'en porte pas).")
        return data

    def line(self) -> dict:
        data = self.cleaned_data
        return {
            "reference": data.get("reference") or "",
            "designation": data.get("designation") or "",
            "quantity": data.get("quantity") if data.get("quantity") is not None else Decimal("1"),
            "unit": data.get("unit") or Unit.C62,
            "unit_price_ht": data.get("unit_price_ht"),
            "discount_ht": data.get("discount_ht") or Decimal("0"),
            "vat_rate": data.get("vat_rate"),
        }


class BaseLineFormSet(forms.BaseFormSet):
    def _construct_form(self, i, **kwargs):
        # Any row may be left blank (it is dropped), not only the extra ones.
        kwargs["empty_permitted"] = True
        kwargs["use_required_attribute"] = False
        return super()._construct_form(i, **kwargs)

    def lines(self) -> list[dict]:
        return [form.line() for form in self.forms if form.is_valid() and not form.is_blank()]


LineFormSet = forms.formset_factory(LineForm, formset=BaseLineFormSet, extra=0, max_num=500, absolute_max=500)


ALLOWANCE_CHARGE_FIELDS = ("nature", "reason", "amount", "vat_rate")
NATURE_CHARGE = "charge"


class AllowanceChargeForm(HelpedForm):
    """A remise or a charge on the whole invoice (EN 16931 BG-20 / BG-21): it changes the VAT base of its
    rate, unlike the remise globale TTC."""

    nature = forms.ChoiceField(
        label="Nature", choices=[("remise", "Remise"), (NATURE_CHARGE, "Charge (frais)")], initial="remise"
    )
    reason = forms.CharField(label="Motif", max_length=255, required=False)
    amount = DecimalText(label="Montant HT", label_for_errors="montant HT")
    vat_rate = DecimalText(label="Taux de TVA (%)", label_for_errors="taux de TVA")

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) not in (None, "") for name in ("reason", "amount"))

    def clean(self):
        data = super().clean()
        if self.is_blank():
            return data
        amount = data.get("amount")
        if amount is None and "amount" not in self.errors:
            self.add_error("amount", "Saisissez le montant HT de la remise ou de la charge.")
        elif amount is not None and amount <= 0:
            self.add_error("amount", "Le montant est positif : choisissez « Remise » pour diminuer la facture.")
        if not (data.get("reason") or "").strip():
            self.add_error("reason", "Indiquez le motif (exemple : « Remise de fidélité », « Frais de port »).")
        if data.get("vat_rate") is None and "vat_rate" not in self.errors:
            self.add_error("vat_rate", "Saisissez le taux de TVA auquel elle s'applique (0 si aucun).")
        return data

    def item(self) -> dict:
        data = self.cleaned_data
        return {
            "is_charge": data.get("nature") == NATURE_CHARGE,
            "reason": (data.get("reason") or "").strip(),
            "amount": data.get("amount"),
            "vat_rate": data.get("vat_rate"),
        }


class BaseAllowanceChargeFormSet(BaseLineFormSet):
    def items(self) -> list[dict]:
        return [form.item() for form in self.forms if form.is_valid() and not form.is_blank()]


AllowanceChargeFormSet = forms.formset_factory(
    AllowanceChargeForm, formset=BaseAllowanceChargeFormSet, extra=0, max_num=100, absolute_max=100
)


class DiscountForm(HelpedForm):
    remise_globale_ttc = DecimalText(label="Remise globale TTC (facultatif)", label_for_errors="remise globale TTC")
    motif_remise_globale = forms.CharField(label="Motif de la remise globale", max_length=255, required=False)
    prepaid_amount = DecimalText(
        label="Montant déjà payé (acompte versé, facultatif)",
        label_for_errors="montant déjà payé",
        help_text="Déduit du net à payer, sans changer la TVA de la facture.",
    )

    def clean_prepaid_amount(self):
        value = self.cleaned_data.get("prepaid_amount")
        if value is not None and value < 0:
            raise forms.ValidationError("Le montant déjà payé ne peut pas être négatif.")
        return value

    def draft_data(self) -> dict:
        return {
            "remise_globale_ttc": self.cleaned_data.get("remise_globale_ttc") or Decimal("0"),
            "motif_remise_globale": self.cleaned_data.get("motif_remise_globale") or "",
            "prepaid_amount": self.cleaned_data.get("prepaid_amount") or Decimal("0"),
        }


VAT_RATE_HINTS = FRENCH_VAT_RATES


# --- Step 4: attachments --------------------------------------------------------------------------------


class MainDocumentForm(HelpedForm):
    document = forms.FileField(
        label="Document de la facture (PDF, facultatif)",
        help_text="Sans document, Chœur génère la facture au format Factur-X (PDF/A-3) à l'envoi.",
        error_messages={"required": "Choisissez le PDF de la facture."},
    )


class AttachmentForm(HelpedForm):
    fichier = forms.FileField(
        label="Pièce jointe",
        help_text="10 Mo au plus par fichier, 120 Mo pour la facture et ses pièces ; nom de 50 caractères au plus.",
        error_messages={"required": "Choisissez le fichier à joindre."},
    )
    type_code = forms.ChoiceField(
        label="Type de pièce jointe", choices=AttachmentType.choices, initial=AttachmentType.PIECE_JUSTIFICATIVE
    )


# --- Step 5: summary ------------------------------------------------------------------------------------


class SendForm(HelpedForm):
    confirm = forms.BooleanField(
        label="Je certifie l'exactitude des informations de cette facture et demande son envoi au destinataire.",
        error_messages={"required": "Cochez la case de confirmation pour envoyer la facture."},
    )


class TemplateSaveForm(HelpedForm):
    name = forms.CharField(
        label="Nom du modèle",
        max_length=100,
        error_messages={"required": "Donnez un nom au modèle."},
    )
