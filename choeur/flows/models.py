"""Flows (« flux »): one deposited file, holding one or several invoices, processed in the background.

The Flow row is the ledger of its own processing (platform-notes §2.2): its `state`, lease and attempt
counter say where the work stands, whatever the task queue did or lost. Each invoice found in the file
gets one FlowItem, unique on (flow, index), so that replaying a flow after a crash never creates an
invoice twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from choeur.flows.enums import (
    CHANNEL_DIGITS,
    FINAL_STATES,
    INTERFACE_CODES,
    UNKNOWN_INTERFACE_CODE,
    Channel,
    FlowState,
    ItemStatus,
)

FLOW_NUMBER_PREFIX = "CHO"
FLOW_NUMBER_LENGTH = 25


def flow_number(*, pk: int, channel: str, year: int, instance_code: str | None = None) -> str:
    """The numéro de flux (`numeroFluxDepot`), 25 characters with the shape of Chorus Pro's
    `CPP0011110000000000001557`:

    - `CHO`: our prefix, in place of Chorus Pro's `CPP`, so that a number never passes for one of theirs;
    - 3 digits: the instance code (`CHOEUR_FLOW_INSTANCE_CODE`, `001` by default), to tell a qualification
      instance from production;
    - 1 digit: the channel (1 portail, 2 API, 3 EDI by répertoire);
    - 2 digits: the year of deposit;
    - 16 digits: the flow's database id, zero-padded — unique by construction, with no counter to lock.

    Example: `CHO0011260000000000001557` is flow 1557, deposited on the portal in 2026.
    """
    instance = (instance_code or getattr(settings, "CHOEUR_FLOW_INSTANCE_CODE", "001")).zfill(3)[-3:]
    number = f"{FLOW_NUMBER_PREFIX}{instance}{CHANNEL_DIGITS[channel]}{year % 100:02d}{pk:016d}"
    assert len(number) == FLOW_NUMBER_LENGTH
    return number


class FlowQuerySet(models.QuerySet):
    def of_structures(self, structures):
        return self.filter(structure__in=structures)

    def final(self):
        return self.filter(state__in=FINAL_STATES)

    def pending(self):
        return self.exclude(state__in=FINAL_STATES)


class Flow(models.Model):
    """One deposited file: a UBL or CII XML, a Factur-X PDF, or a zip / tar.gz archive of several."""

    numero_flux_depot = models.CharField("numéro de flux", max_length=FLOW_NUMBER_LENGTH, unique=True, null=True)
    structure = models.ForeignKey(
        "directory.Structure", on_delete=models.PROTECT, related_name="flows", verbose_name="structure déposante"
    )
    deposited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="déposé par",
    )
    # A technical account's login or an API client's label when no person deposited the flow.
    deposited_by_label = models.CharField("déposé par (compte technique ou client API)", max_length=150, blank=True)
    channel = models.CharField("canal", max_length=10, choices=Channel.choices)
    filename = models.CharField("nom du fichier", max_length=255)
    syntaxe_flux_declared = models.CharField("syntaxe déclarée", max_length=40, blank=True)
    syntaxe_flux_detected = models.CharField("syntaxe détectée", max_length=40, blank=True)
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+", verbose_name="fichier")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    size = models.PositiveBigIntegerField("taille (octets)")

    state = models.CharField(
        "état", max_length=40, choices=FlowState.choices, default=FlowState.IN_RECU, db_index=True
    )
    state_changed_at = models.DateTimeField("date du dernier changement d'état", default=timezone.now)
    deposited_at = models.DateTimeField("date de dépôt", default=timezone.now)
    processing_started_at = models.DateTimeField("début du traitement", null=True, blank=True)
    processed_at = models.DateTimeField("fin du traitement", null=True, blank=True)

    # Lease: the worker that claimed the flow owns it until `lease_expires_at`; after that the reconciler
    # may hand it to another worker. `attempts` counts claims, so a flow that keeps killing workers ends
    # IN_INCIDENTE instead of looping forever.
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.TextField("dernière erreur technique (journal)", blank=True)

    # Number of invoices found in the file (known once the file is read), for the progress bar.
    document_count = models.PositiveIntegerField("nombre de factures", null=True, blank=True)
    # `listeErreurTechnique`: flow-level errors [{codeErreur, libelleErreur, natureErreur}].
    technical_errors = models.JSONField("erreurs techniques", default=list, blank=True)

    objects = FlowQuerySet.as_manager()

    class Meta:
        verbose_name = "flux"
        verbose_name_plural = "flux"
        ordering = ["-deposited_at", "-id"]
        constraints = [
            # Idempotent deposit: the same bytes from the same structure are the same flow.
            models.UniqueConstraint(fields=["structure", "sha256"], name="flows_flow_unique_content"),
        ]
        indexes = [
            models.Index(fields=["structure", "-deposited_at"], name="flows_flow_structure_date"),
            models.Index(
                fields=["state", "state_changed_at"],
                name="flows_flow_pending",
                condition=~Q(state__in=[s.value for s in FINAL_STATES]),
            ),
        ]

    def __str__(self):
        return f"{self.numero_flux_depot or 'flux'} — {self.filename}"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def syntaxe_flux(self) -> str:
        return self.syntaxe_flux_declared or self.syntaxe_flux_detected

    @property
    def interface_code(self) -> str:
        return INTERFACE_CODES.get(self.syntaxe_flux, UNKNOWN_INTERFACE_CODE)

    @property
    def depositor_label(self) -> str:
        if self.deposited_by_id:
            return self.deposited_by.email
        return self.deposited_by_label


class FlowItem(models.Model):
    """One invoice found in a flow, integrated (with the created invoice) or rejected (with its errors)."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="items")
    index = models.PositiveIntegerField("rang dans le flux")
    member_name = models.CharField("nom dans l'archive", max_length=255, blank=True)
    syntax = models.CharField("syntaxe", max_length=40, blank=True)
    profile = models.CharField("profil", max_length=100, blank=True)
    invoice_number = models.CharField("numéro de facture", max_length=100, blank=True)
    supplier_identifier = models.CharField("identifiant fournisseur", max_length=40, blank=True)
    recipient_identifier = models.CharField("identifiant destinataire", max_length=40, blank=True)
    document_sha256 = models.CharField("empreinte du document", max_length=64, blank=True)
    status = models.CharField("statut", max_length=10, choices=ItemStatus.choices, default=ItemStatus.EN_COURS)
    # [{rule, severity, message, location, layer}] — the validation engine's findings or our routing refusal.
    errors = models.JSONField("erreurs", default=list, blank=True)
    invoice = models.ForeignKey(
        "invoices.Invoice",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flow_items",
        verbose_name="facture créée",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "facture du flux"
        verbose_name_plural = "factures du flux"
        ordering = ["flow_id", "index"]
        constraints = [models.UniqueConstraint(fields=["flow", "index"], name="flows_flowitem_unique_index")]

    def __str__(self):
        return f"{self.flow} #{self.index} {self.invoice_number}"

    @property
    def is_done(self) -> bool:
        return self.status != ItemStatus.EN_COURS


class Revalidation(models.Model):
    """One re-judgement of the archived invoices (a rule set changed, an engine was replaced): when, why, with
    what, and how many verdicts changed. Its verdicts are `RevalidationVerdict` rows."""

    reason = models.CharField("motif", max_length=255, blank=True)
    engine = models.CharField("moteur", max_length=20)
    rules = models.CharField("jeu de règles", max_length=20)
    # [{layer, name, version, sha256, engine}] — what judged, as the reports recorded it.
    rule_sets = models.JSONField("jeux de règles appliqués", default=list, blank=True)
    started_at = models.DateTimeField("début", default=timezone.now)
    finished_at = models.DateTimeField("fin", null=True, blank=True)
    checked = models.PositiveIntegerField("factures rejugées", default=0)
    valid_count = models.PositiveIntegerField("conformes", default=0)
    invalid_count = models.PositiveIntegerField("non conformes", default=0)
    changed_count = models.PositiveIntegerField("verdicts changés", default=0)

    class Meta:
        verbose_name = "revalidation des factures archivées"
        verbose_name_plural = "revalidations des factures archivées"
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Revalidation du {self.started_at:%d/%m/%Y %H:%M} ({self.checked} factures)"


class RevalidationVerdict(models.Model):
    """The verdict of one archived invoice in a re-validation, beside its previous one."""

    revalidation = models.ForeignKey(Revalidation, on_delete=models.CASCADE, related_name="verdicts")
    invoice = models.ForeignKey(
        "invoices.Invoice", on_delete=models.CASCADE, related_name="revalidation_verdicts", verbose_name="facture"
    )
    valid = models.BooleanField("conforme")
    previous_valid = models.BooleanField("conforme auparavant")
    # [{rule, severity, message, location, layer}] — the blocking findings of the new verdict.
    errors = models.JSONField("anomalies bloquantes", default=list, blank=True)

    class Meta:
        verbose_name = "verdict de revalidation"
        verbose_name_plural = "verdicts de revalidation"
        constraints = [
            models.UniqueConstraint(fields=["revalidation", "invoice"], name="flows_revalidation_verdict_unique")
        ]
        indexes = [models.Index(fields=["invoice", "-revalidation"], name="flows_reval_invoice_latest")]

    @property
    def changed(self) -> bool:
        return self.valid != self.previous_valid
