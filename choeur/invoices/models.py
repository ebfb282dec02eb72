"""Payment requests (« demandes de paiement »): invoices and credit notes, their lines, VAT breakdown,
attachments, and the log of every status change.

The shared core of the portal, the API, the flows engine, the lifecycle dashboards and works invoices:
services.py writes, selectors.py reads, workflow.py moves statuses.
"""

from __future__ import annotations

import contextlib
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from choeur.core.errors import ApplicationError
from choeur.invoices.enums import (
    PRE_RECIPIENT_STATUSES,
    AttachmentType,
    Cadre,
    Channel,
    InvoiceEventAction,
    InvoiceStatus,
    InvoiceType,
    ModeDepot,
    NotificationFrequency,
    PaymentMode,
    TypeDemandePaiement,
    TypeTva,
    Unit,
)
from choeur.invoices.search_keys import SearchKey

NUMBER_MAX_LENGTH = 20
NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9\-_/+]+$")
number_validator = RegexValidator(
    NUMBER_PATTERN,
    "seuls les lettres sans accent, les chiffres et les caractères - _ / + sont admis (pas d'espace).",
)


def _amount(verbose_name, **kwargs):
    """A total: decimal(19,2), the cent."""
    return models.DecimalField(verbose_name, max_digits=19, decimal_places=2, **kwargs)


def _precise(verbose_name, **kwargs):
    """A unit price or a quantity: decimal(19,6), as Chorus Pro's API appendix (chorus-pro.md §5.2)."""
    return models.DecimalField(verbose_name, max_digits=19, decimal_places=6, **kwargs)


class ImmutableInvoiceError(ApplicationError):
    code = "facture_non_modifiable"


class InvoiceQuerySet(models.QuerySet):
    def drafts(self):
        return self.filter(status=InvoiceStatus.BROUILLON)

    def sent(self):
        return self.exclude(status=InvoiceStatus.BROUILLON)

    def issued_by(self, structures):
        return self.filter(supplier__in=structures)

    def received_by(self, structures):
        """Invoices that reached the recipient (those still at a valideur or being deposited are not shown)."""
        return self.filter(recipient__in=structures).exclude(status__in=PRE_RECIPIENT_STATUSES)

    def to_validate_by(self, structures):
        return self.filter(
            Q(valideur__in=structures, status=InvoiceStatus.A_VALIDER_1)
            | Q(valideur2__in=structures, status=InvoiceStatus.A_VALIDER_2)
        )

    def visible_to_structures(self, structures):
        """Every invoice one of these structures is party to: supplier, recipient (once it reached them),
        valideur, MOE or MOA."""
        return self.filter(
            Q(supplier__in=structures)
            | (Q(recipient__in=structures) & ~Q(status__in=PRE_RECIPIENT_STATUSES))
            | Q(valideur__in=structures)
            | Q(valideur2__in=structures)
            | Q(moe__in=structures)
            | Q(moa__in=structures)
        ).distinct()


class Invoice(models.Model):
    """One payment request (`demande de paiement`): a FACTURE or an AVOIR.

    **Immutable once sent.** From the moment a supplier sends it (status leaves BROUILLON), an invoice is a
    legal document: the deposit certificate fingerprints it, the payment clock runs from its deposit, and
    both the French tax code (CGI art. 289: an invoice is not altered, it is corrected by a credit note)
    and the 10-year retention duty require that what was received is what stays. So `save()` refuses any
    change to a content field (FROZEN_FIELDS) of a sent invoice and `delete()` refuses to delete it;
    corrections are AVOIRs or new invoices. Only lifecycle fields move after sending, plus the routing
    fields a recycling (A_RECYCLER) or a validator correction explicitly reopens.
    `QuerySet.update()` bypasses `save()`: services never use it on content fields.
    """

    # Parties.
    supplier = models.ForeignKey(
        "directory.Structure", on_delete=models.PROTECT, related_name="invoices_issued", verbose_name="fournisseur"
    )
    supplier_service = models.ForeignKey(
        "directory.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="service du fournisseur",
    )
    supplier_bank_account = models.ForeignKey(
        "directory.BankAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name="coordonnées bancaires",
    )
    recipient = models.ForeignKey(
        "directory.Structure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices_received",
        verbose_name="destinataire",
    )
    recipient_service = models.ForeignKey(
        "directory.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices_received",
        verbose_name="service exécutant du destinataire",
    )
    # Valideurs (A9 sous-traitant, A12 cotraitant): level 1, and level 2 for a sous-traitant of a cotraitant.
    valideur = models.ForeignKey(
        "directory.Structure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices_to_validate",
        verbose_name="valideur",
    )
    valideur_service = models.ForeignKey(
        "directory.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="service du valideur",
    )
    valideur2 = models.ForeignKey(
        "directory.Structure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices_to_validate_2",
        verbose_name="valideur de niveau 2",
    )
    valideur2_service = models.ForeignKey(
        "directory.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="service du valideur de niveau 2",
    )
    # Works (filled by the works app).
    moe = models.ForeignKey(
        "directory.Structure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices_as_moe",
        verbose_name="maîtrise d'œuvre",
    )
    moe_service = models.ForeignKey(
        "directory.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="service de la maîtrise d'œuvre",
    )
    moa = models.ForeignKey(
        "directory.Structure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices_as_moa",
        verbose_name="maîtrise d'ouvrage",
    )
    moa_service = models.ForeignKey(
        "directory.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="service de la maîtrise d'ouvrage",
    )

    # Identification.
    number = models.CharField(
        "numéro de facture", max_length=NUMBER_MAX_LENGTH, blank=True, validators=[number_validator]
    )
    invoice_date = models.DateField("date de facture", null=True, blank=True)
    invoice_type = models.CharField(
        "type de facture", max_length=10, choices=InvoiceType.choices, default=InvoiceType.FACTURE
    )
    type_demande_paiement = models.CharField(
        "type de demande de paiement",
        max_length=20,
        choices=TypeDemandePaiement.choices,
        default=TypeDemandePaiement.FACTURE,
    )
    cadre = models.CharField("cadre de facturation", max_length=60, choices=Cadre.choices, default=Cadre.A1)
    currency = models.CharField("devise", max_length=3, default="EUR")
    type_tva = models.CharField("type de TVA", max_length=25, choices=TypeTva.choices, default=TypeTva.TVA_SUR_DEBIT)
    motif_exoneration = models.CharField("motif d'exonération de TVA", max_length=255, blank=True)
    numero_marche = models.CharField("numéro de marché", max_length=50, blank=True)
    numero_engagement = models.CharField("numéro d'engagement (bon de commande)", max_length=50, blank=True)
    origin_invoice = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name="facture d'origine",
    )
    origin_number = models.CharField("numéro de la facture d'origine", max_length=NUMBER_MAX_LENGTH, blank=True)
    origin_date = models.DateField("date de la facture d'origine", null=True, blank=True)
    payment_mode = models.CharField("mode de paiement", max_length=15, choices=PaymentMode.choices, blank=True)

    # Amounts. Null while a draft has not declared them; computed from the lines at sending.
    total_ht = _amount("montant total HT", null=True, blank=True)
    total_tva = _amount("montant total de la TVA", null=True, blank=True)
    total_ttc = _amount("montant total TTC", null=True, blank=True)
    remise_globale_ttc = _amount("remise globale TTC", default=0)
    motif_remise_globale = models.CharField("motif de la remise globale", max_length=255, blank=True)
    montant_a_payer = _amount("net à payer", null=True, blank=True)
    # EN 16931 totals (BG-22) beside Chorus Pro's: total_ht is BT-109 (after document allowances and charges).
    line_total_ht = _amount("somme des montants nets des lignes", null=True, blank=True)  # BT-106
    allowance_total_ht = _amount("total des remises au niveau du document", default=0)  # BT-107
    charge_total_ht = _amount("total des charges au niveau du document", default=0)  # BT-108
    prepaid_amount = _amount("montant déjà payé", default=0)  # BT-113 (the remise globale TTC apart)
    rounding_amount = _amount("arrondi", default=0)  # BT-114
    # Other business terms.
    period_start = models.DateField("début de la période de facturation", null=True, blank=True)  # BT-73
    period_end = models.DateField("fin de la période de facturation", null=True, blank=True)  # BT-74
    delivery_date = models.DateField("date de livraison", null=True, blank=True)  # BT-72
    # The business terms a platform shows but does not act on, by EN 16931 name (see invoices.terms): buyer
    # and seller references (BT-11, BT-14…BT-19), delivery (BG-13), payee (BG-10), tax representative
    # (BG-11), preceding invoices (BG-3), notes (BG-1). A structured deposit keeps its XML beside them.
    business_terms = models.JSONField("autres termes métier", default=dict, blank=True)
    # The amounts are those of the deposited XML (UBL, CII, Factur-X), checked by the CEN rules, not computed
    # here: lines keep their net amounts, the VAT breakdown and the totals are the document's (amounts.py).
    amounts_from_document = models.BooleanField("montants repris du document", default=False)
    comment = models.TextField("commentaire", blank=True, max_length=2000)

    # Lifecycle.
    status = models.CharField(
        "statut", max_length=50, choices=InvoiceStatus.choices, default=InvoiceStatus.BROUILLON, db_index=True
    )
    status_changed_at = models.DateTimeField("date du statut", default=timezone.now)
    mode_depot = models.CharField(
        "mode de dépôt", max_length=30, choices=ModeDepot.choices, default=ModeDepot.SAISIE_WEB
    )
    # The flow this invoice came in (`numeroFluxDepot`); a plain string, since invoices do not know flows.
    numero_flux_depot = models.CharField("numéro de flux de dépôt", max_length=30, blank=True, db_index=True)
    deposited_at = models.DateTimeField("date de dépôt", null=True, blank=True, db_index=True)
    main_document = models.ForeignKey(
        "core.StoredFile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="document de facture",
    )
    main_document_name = models.CharField("nom du document de facture", max_length=200, blank=True)
    structured_xml = models.ForeignKey(
        "core.StoredFile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="données structurées (CII ou UBL)",
    )
    document_sha256 = models.CharField("empreinte SHA-256 du document", max_length=64, blank=True)
    certificate = models.ForeignKey(
        "core.StoredFile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="certificat de dépôt",
    )
    certificate_number = models.CharField("numéro du certificat de dépôt", max_length=40, blank=True)
    # What was sent, as it stood at sending: parties, addresses, bank details (the directory may change later).
    snapshot = models.JSONField("données figées à l'envoi", default=dict, blank=True)
    rejet_traite = models.BooleanField("rejet traité par le fournisseur", default=False)
    numero_dp_mandat = models.CharField("numéro de mandat", max_length=50, blank=True)
    downloaded_by_recipient = models.BooleanField("téléchargée par le destinataire", default=False)

    draft_step = models.PositiveSmallIntegerField("étape de saisie", default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
        verbose_name="créée par",
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    objects = InvoiceQuerySet.as_manager()

    # Fields a sent invoice never changes (see the class docstring). Everything not listed here is lifecycle.
    FROZEN_FIELDS = (
        "supplier",
        "supplier_service",
        "supplier_bank_account",
        "recipient",
        "recipient_service",
        "valideur",
        "valideur_service",
        "valideur2",
        "valideur2_service",
        "moe",
        "moe_service",
        "moa",
        "moa_service",
        "number",
        "invoice_date",
        "invoice_type",
        "type_demande_paiement",
        "cadre",
        "currency",
        "type_tva",
        "motif_exoneration",
        "numero_marche",
        "numero_engagement",
        "origin_invoice",
        "origin_number",
        "origin_date",
        "payment_mode",
        "total_ht",
        "total_tva",
        "total_ttc",
        "remise_globale_ttc",
        "motif_remise_globale",
        "montant_a_payer",
        "line_total_ht",
        "allowance_total_ht",
        "charge_total_ht",
        "prepaid_amount",
        "rounding_amount",
        "period_start",
        "period_end",
        "delivery_date",
        "business_terms",
        "amounts_from_document",
        "comment",
        "mode_depot",
        "numero_flux_depot",
        "deposited_at",
        "main_document",
        "main_document_name",
        "structured_xml",
        "document_sha256",
        "certificate",
        "certificate_number",
        "snapshot",
        "created_by",
        "created_at",
    )
    # Routing fields that a recycling (recycler: new recipient, service or engagement, same number) reopens.
    RECYCLABLE_FIELDS = ("recipient", "recipient_service", "numero_engagement")
    # Fields the supplier fixes when a valideur says it is not the right one (corriger/valideur/facture).
    VALIDEUR_FIELDS = ("valideur", "valideur_service", "valideur2", "valideur2_service")

    class Meta:
        verbose_name = "demande de paiement"
        verbose_name_plural = "demandes de paiement"
        ordering = ["-created_at", "-id"]
        constraints = [
            # A number identifies one invoice of a supplier; drafts may share one until they are sent.
            models.UniqueConstraint(
                fields=["supplier", "number"],
                condition=~Q(status="BROUILLON"),
                name="invoices_invoice_unique_number_per_supplier",
            ),
        ]
        indexes = [
            models.Index(fields=["supplier", "status"], name="invoices_supplier_status"),
            models.Index(fields=["recipient", "status"], name="invoices_recipient_status"),
            models.Index(fields=["status", "status_changed_at"], name="invoices_status_date"),
            models.Index(fields=["supplier", "number"], name="invoices_supplier_number"),
            # A counterpart filter on either dashboard (recipient = R and supplier in (…), or the other way round).
            models.Index(fields=["recipient", "supplier"], name="invoices_recipient_supplier"),
            # Prefix search on identifiers (search.py, « Recherche » of the dashboards): see search_keys.py.
            models.Index(SearchKey("number"), name="invoices_number_key"),
            models.Index(SearchKey("numero_engagement"), name="invoices_engagement_key"),
            models.Index(SearchKey("numero_marche"), name="invoices_marche_key"),
            models.Index(SearchKey("numero_flux_depot"), name="invoices_flux_key"),
        ]

    def __str__(self):
        kind = "Avoir" if self.invoice_type == InvoiceType.AVOIR else "Facture"
        return f"{kind} {self.number or '(brouillon)'} — {self.supplier.designation if self.supplier_id else ''}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.BROUILLON

    @property
    def is_avoir(self) -> bool:
        return self.invoice_type == InvoiceType.AVOIR

    @property
    def cadre_code(self) -> str:
        return Cadre(self.cadre).code if self.cadre else ""

    def _allowed_changes(self, db_status: str) -> set[str]:
        if db_status == InvoiceStatus.A_RECYCLER:
            return set(self.RECYCLABLE_FIELDS)
        if db_status in (InvoiceStatus.ERREUR_FOURNISSEUR_SUR_VALIDEUR, InvoiceStatus.ERREUR_COTRAITANT_SUR_VALIDEUR):
            return set(self.VALIDEUR_FIELDS)
        return set()

    @contextlib.contextmanager
    def saving_locked_draft(self):
        """For the sending only: its caller holds this row's lock and saw it BROUILLON in this transaction,
        so the frozen-fields check below would read the row again to learn what it knows. Only for the
        duration of the block: the same object saved later is checked again."""
        self._locked_draft = True
        try:
            yield
        finally:
            self._locked_draft = False

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert") and not getattr(self, "_locked_draft", False):
            update_fields = kwargs.get("update_fields")
            frozen = [name for name in self.FROZEN_FIELDS if update_fields is None or name in update_fields]
            if frozen:
                self._refuse_frozen_changes(frozen)
        super().save(*args, **kwargs)

    def _refuse_frozen_changes(self, names: list[str]) -> None:
        attnames = [self._meta.get_field(name).attname for name in names]
        row = type(self).objects.filter(pk=self.pk).values("status", *attnames).first()
        if row is None or row["status"] == InvoiceStatus.BROUILLON:
            return
        allowed = self._allowed_changes(row["status"])
        changed = [
            name
            for name, attname in zip(names, attnames, strict=True)
            if name not in allowed and getattr(self, attname) != row[attname]
        ]
        if changed:
            labels = ", ".join(str(self._meta.get_field(name).verbose_name) for name in changed)
            raise ImmutableInvoiceError(
                f"Une facture envoyée ne se modifie pas ({labels}) : émettez un avoir ou une nouvelle facture.",
                field=changed[0],
            )

    def delete(self, *args, **kwargs):
        status = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if status is not None and status != InvoiceStatus.BROUILLON:
            raise ImmutableInvoiceError(
                "Une facture envoyée ne se supprime pas : elle est conservée dix ans. Émettez un avoir pour l'annuler."
            )
        return super().delete(*args, **kwargs)


def _refuse_unless_draft(invoice_id: int | None, what: str) -> None:
    if invoice_id is None:
        return
    status = Invoice.objects.filter(pk=invoice_id).values_list("status", flat=True).first()
    if status is not None and status != InvoiceStatus.BROUILLON:
        raise ImmutableInvoiceError(f"Une facture envoyée ne se modifie pas ({what}) : émettez un avoir.")


class InvoiceLine(models.Model):
    """One line (`lignePoste`). Amounts are recomputed by computations.compute_line when lines are saved
    through the services; the line's VAT is informative (the invoice's VAT is computed per rate)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField("numéro de ligne")
    reference = models.CharField("référence", max_length=50, blank=True)
    designation = models.CharField("désignation", max_length=255, blank=True)
    quantity = _precise("quantité", default=1)
    unit = models.CharField("unité", max_length=3, choices=Unit.choices, default=Unit.C62)
    unit_price_ht = _precise("prix unitaire HT", default=0)
    discount_ht = _amount("remise HT", default=0)  # Σ line allowances (BT-136)
    charge_ht = _amount("frais HT", default=0)  # Σ line charges (BT-141)
    price_base_quantity = _precise("quantité de base du prix", default=1)  # BT-149
    gross_price_ht = _precise("prix brut HT", null=True, blank=True)  # BT-148
    price_discount_ht = _precise("rabais sur le prix", null=True, blank=True)  # BT-147
    vat_rate = models.DecimalField("taux de TVA (%)", max_digits=5, decimal_places=2, default=20)
    vat_category = models.CharField("catégorie de TVA", max_length=2, blank=True)  # BT-151 (blank: from type_tva)
    period_start = models.DateField("début de période de la ligne", null=True, blank=True)  # BT-134
    period_end = models.DateField("fin de période de la ligne", null=True, blank=True)  # BT-135
    note = models.CharField("note de la ligne", max_length=1000, blank=True)  # BT-127
    line_net_ht = _amount("montant HT de la ligne", default=0)  # BT-131
    line_vat = _amount("TVA de la ligne (indicative)", default=0)

    class Meta:
        verbose_name = "ligne de facture"
        verbose_name_plural = "lignes de facture"
        ordering = ["invoice_id", "position"]
        constraints = [models.UniqueConstraint(fields=["invoice", "position"], name="invoices_line_unique_position")]

    def __str__(self):
        return f"Ligne {self.position} : {self.designation}"

    def save(self, *args, **kwargs):
        _refuse_unless_draft(self.invoice_id, "lignes")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_unless_draft(self.invoice_id, "lignes")
        return super().delete(*args, **kwargs)


class InvoiceVatLine(models.Model):
    """One row of the VAT breakdown (`ligneTva`): computed from the lines and stored at sending, or declared
    by a depositor whose invoice carries totals only (a PDF without lines)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="vat_lines")
    rate = models.DecimalField("taux de TVA (%)", max_digits=5, decimal_places=2)
    category = models.CharField("catégorie de TVA", max_length=2, default="S")
    base_ht = _amount("base HT")
    vat_amount = _amount("montant de TVA")
    exemption_reason = models.CharField("motif d'exonération", max_length=255, blank=True)  # BT-120
    exemption_reason_code = models.CharField("code du motif d'exonération", max_length=30, blank=True)  # BT-121

    class Meta:
        verbose_name = "ligne de TVA"
        verbose_name_plural = "lignes de TVA"
        ordering = ["invoice_id", "-rate"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "rate", "category"], name="invoices_vatline_unique_rate")
        ]

    def save(self, *args, **kwargs):
        _refuse_unless_draft(self.invoice_id, "ventilation de la TVA")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_unless_draft(self.invoice_id, "ventilation de la TVA")
        return super().delete(*args, **kwargs)


class InvoiceAllowanceCharge(models.Model):
    """A remise (allowance) or a charge, at document level (BG-20, BG-21: `line` empty) or on a line
    (BG-27, BG-28). A line's `discount_ht` / `charge_ht` are the sums of its rows here, when it has any."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="allowance_charges")
    line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.CASCADE, related_name="allowance_charges"
    )
    position = models.PositiveIntegerField("ordre")
    is_charge = models.BooleanField("charge (et non remise)", default=False)
    amount = _amount("montant HT")  # BT-92 / BT-99 / BT-136 / BT-141
    base_amount = _amount("base HT", null=True, blank=True)  # BT-93 / BT-100 / BT-137 / BT-142
    percentage = models.DecimalField("pourcentage", max_digits=9, decimal_places=4, null=True, blank=True)
    reason = models.CharField("motif", max_length=255, blank=True)  # BT-97 / BT-104 / BT-139 / BT-144
    reason_code = models.CharField("code du motif", max_length=10, blank=True)  # UNTDID 5189 / 7161
    vat_category = models.CharField("catégorie de TVA", max_length=2, blank=True)  # BT-95 / BT-102
    vat_rate = models.DecimalField("taux de TVA (%)", max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = "remise ou charge"
        verbose_name_plural = "remises et charges"
        ordering = ["invoice_id", "line_id", "position"]

    def __str__(self):
        return f"{'Charge' if self.is_charge else 'Remise'} {self.amount} ({self.reason or self.reason_code})"

    @property
    def label(self) -> str:
        return "Charge" if self.is_charge else "Remise"

    def save(self, *args, **kwargs):
        _refuse_unless_draft(self.invoice_id, "remises et charges")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_unless_draft(self.invoice_id, "remises et charges")
        return super().delete(*args, **kwargs)


ATTACHMENT_NAME_MAX_LENGTH = 50


class InvoiceAttachment(models.Model):
    """A supporting document (`pieceJointeComplementaire`). Added to a draft, or to a SUSPENDUE invoice when
    the supplier completes it; never changed or removed once the invoice is sent."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="attachments")
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+", verbose_name="fichier")
    name = models.CharField("nom du fichier", max_length=ATTACHMENT_NAME_MAX_LENGTH)
    type_code = models.CharField(
        "type de pièce jointe",
        max_length=30,
        choices=AttachmentType.choices,
        default=AttachmentType.PIECE_JUSTIFICATIVE,
    )
    line_number = models.PositiveIntegerField("numéro de ligne concernée", null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    added_in_status = models.CharField("statut lors de l'ajout", max_length=50, default=InvoiceStatus.BROUILLON)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["invoice_id", "added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["invoice", "name"], name="invoices_attachment_unique_name")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.pk is not None:
            _refuse_unless_draft(self.invoice_id, "pièces jointes")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_unless_draft(self.invoice_id, "pièces jointes")
        return super().delete(*args, **kwargs)


class InvoiceStatusChangeQuerySet(models.QuerySet):
    def for_invoice(self, invoice):
        return self.filter(invoice=invoice).order_by("created_at", "id")


class InvoiceStatusChange(models.Model):
    """One status change (`historique des statuts`): append-only, written by workflow.invoice_transition."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField("statut précédent", max_length=50, choices=InvoiceStatus.choices)
    to_status = models.CharField("nouveau statut", max_length=50, choices=InvoiceStatus.choices)
    transition = models.CharField("transition", max_length=60)
    # RESTRICT, for traceability: a person who acted on an invoice is deactivated, never deleted.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    actor_label = models.CharField("acteur", max_length=255, blank=True)
    actor_structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    actor_role = models.CharField("rôle de l'acteur", max_length=20, blank=True)
    channel = models.CharField("canal", max_length=10, choices=Channel.choices)
    motif = models.CharField("motif", max_length=100, blank=True)
    comment = models.TextField("commentaire", blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = InvoiceStatusChangeQuerySet.as_manager()

    class Meta:
        verbose_name = "changement de statut"
        verbose_name_plural = "historique des statuts"
        ordering = ["invoice_id", "created_at", "id"]

    def __str__(self):
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("L'historique des statuts est en ajout seul.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("L'historique des statuts est en ajout seul.")


class InvoiceEvent(models.Model):
    """A history action that does not change the status (download, acknowledgement of a rejection…)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="events")
    action = models.CharField("action", max_length=40, choices=InvoiceEventAction.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    actor_label = models.CharField("acteur", max_length=255, blank=True)
    actor_structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    channel = models.CharField("canal", max_length=10, choices=Channel.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "action sur une facture"
        verbose_name_plural = "actions sur les factures"
        ordering = ["invoice_id", "created_at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("L'historique des actions est en ajout seul.")
        super().save(*args, **kwargs)


class InvoiceTemplate(models.Model):
    """A reusable model of invoice (« modèle de facture ») of a supplier: the routing data and lines of a
    draft, kept as JSON so that a template survives changes to the invoices it came from."""

    supplier = models.ForeignKey("directory.Structure", on_delete=models.CASCADE, related_name="invoice_templates")
    name = models.CharField("nom du modèle", max_length=100)
    data = models.JSONField(default=dict)
    lines = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "modèle de facture"
        verbose_name_plural = "modèles de facture"
        ordering = ["supplier_id", "name"]
        constraints = [models.UniqueConstraint(fields=["supplier", "name"], name="invoices_template_unique_name")]

    def __str__(self):
        return self.name

    def clean(self):
        if not self.name.strip():
            raise ValidationError({"name": "Donnez un nom au modèle."})


class NotificationPreference(models.Model):
    """How one person wants to hear about invoices of one espace of one structure. No row: the default
    (`notifications.DEFAULT_FREQUENCY`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invoice_notification_preferences"
    )
    structure = models.ForeignKey("directory.Structure", on_delete=models.CASCADE, related_name="+")
    espace = models.CharField("espace", max_length=40)
    frequency = models.CharField(
        "fréquence", max_length=10, choices=NotificationFrequency.choices, default=NotificationFrequency.IMMEDIATE
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "préférence de notification"
        verbose_name_plural = "préférences de notification"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "structure", "espace"], name="invoices_notification_preference_unique"
            )
        ]

    def __str__(self):
        return f"{self.user} — {self.structure} — {self.espace} : {self.get_frequency_display()}"


class Notification(models.Model):
    """One notice of a status change, for one person (shown in the notification centre and e-mailed as they
    chose) or for a structure's contact address (`email`, no person: e-mailed at once, never shown).

    One row per (status change, person) or (status change, address): the side-effect task may run twice, the
    unique constraints make sure nobody is told twice.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="invoice_notifications"
    )
    email = models.EmailField("adresse électronique", blank=True)
    structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    espace = models.CharField("espace", max_length=40, blank=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="notifications")
    status_change = models.ForeignKey(
        InvoiceStatusChange, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField("titre", max_length=255)
    body = models.TextField("message", blank=True)
    url = models.CharField("lien", max_length=255, blank=True)
    frequency = models.CharField("envoi par courriel", max_length=10, choices=NotificationFrequency.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField("lue le", null=True, blank=True)
    emailed_at = models.DateTimeField("envoyée par courriel le", null=True, blank=True)

    class Meta:
        verbose_name = "notification"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status_change", "user"],
                condition=Q(user__isnull=False),
                name="invoices_notification_unique_user",
            ),
            models.UniqueConstraint(
                fields=["status_change", "email"],
                condition=Q(user__isnull=True),
                name="invoices_notification_unique_email",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="invoices_notification_unread"),
            models.Index(fields=["frequency", "emailed_at"], name="invoices_notification_digest"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
