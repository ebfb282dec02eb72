"""Works contracts and their dossiers de facturation (chorus-pro.md §4, §6.4).

- `Marche` + `MarcheParty`: the fiche d'identité du marché, entered once by the MOA or the MOE: who the MOA,
  the MOE, the titulaire (or the groupement and its mandataire) and the sous-traitants paid directly are, with
  their services and the cadres each will use. Every deposit of the market is pre-filled and checked from it.
- `Dossier`: one payment of one company (a monthly acompte, or the end-of-contract décompte), made of successive
  documents, each an `Invoice` linked by a `DossierPiece` to its predecessor.
- `PieceCorrection`: a line amount the MOE (or MOA) changed, with its reason (the company may contest it).
- `DossierEvent`: the dossier's timeline, which is also what the parties are told.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from choeur.invoices.enums import Cadre
from choeur.works.enums import DossierKind, DossierStatus, EventKind, PartyRole


class MarcheQuerySet(models.QuerySet):
    def of_structures(self, structures):
        """Markets one of these structures is party to."""
        return self.filter(parties__structure__in=structures).distinct()


class Marche(models.Model):
    """A works contract (fiche d'identité du marché)."""

    numero = models.CharField("numéro de marché", max_length=50)
    objet = models.CharField("objet du marché", max_length=255)
    numero_engagement = models.CharField("numéro d'engagement", max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_structure = models.ForeignKey(
        "directory.Structure", on_delete=models.PROTECT, related_name="+", verbose_name="saisi par"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MarcheQuerySet.as_manager()

    class Meta:
        verbose_name = "marché de travaux"
        verbose_name_plural = "marchés de travaux"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Marché {self.numero} — {self.objet}"

    def party(self, role: str) -> MarcheParty | None:
        return next((p for p in self.parties.all() if p.role == role), None)

    @property
    def moa(self) -> MarcheParty | None:
        return self.party(PartyRole.MOA)

    @property
    def moe(self) -> MarcheParty | None:
        return self.party(PartyRole.MOE)

    @property
    def titulaire(self) -> MarcheParty | None:
        """The titulaire, or the mandataire of the groupement."""
        return self.party(PartyRole.TITULAIRE) or self.party(PartyRole.MANDATAIRE)


class MarcheParty(models.Model):
    """One party of a market, the service it acts through and the cadres it will use."""

    marche = models.ForeignKey(Marche, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField("rôle", max_length=20, choices=PartyRole.choices)
    structure = models.ForeignKey("directory.Structure", on_delete=models.PROTECT, related_name="works_parties")
    service = models.ForeignKey(
        "directory.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="service"
    )
    # A sous-traitant works for the titulaire or a cotraitant; a cotraitant for the mandataire.
    works_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="subcontractors", verbose_name="pour"
    )
    paiement_direct = models.BooleanField("paiement direct", default=False)
    cadres = models.JSONField("cadres de facturation utilisés", default=list, blank=True)

    class Meta:
        verbose_name = "partie au marché"
        verbose_name_plural = "parties au marché"
        ordering = ["marche_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["marche", "role", "structure"], name="works_party_unique_role"),
        ]

    def __str__(self):
        return f"{self.get_role_display()} : {self.structure.designation}"

    @property
    def cadre_codes(self) -> list[str]:
        return [Cadre.from_code(code).code for code in self.cadres]


class DossierQuerySet(models.QuerySet):
    def of_structures(self, structures):
        """Dossiers these structures may see: every dossier of a market where they are MOA, MOE, titulaire or
        mandataire (read-only for the dossiers of cotraitants); their own dossiers when they are cotraitant or
        sous-traitant, and those of the sous-traitants whose drafts they validate."""
        overseers = (PartyRole.MOA, PartyRole.MOE, PartyRole.TITULAIRE, PartyRole.MANDATAIRE)
        return self.filter(
            Q(marche__parties__structure__in=structures, marche__parties__role__in=overseers)
            | Q(company__structure__in=structures)
            | Q(company__works_for__structure__in=structures)
        ).distinct()


class Dossier(models.Model):
    """One dossier de facturation: the successive documents of one payment of one company."""

    marche = models.ForeignKey(Marche, on_delete=models.PROTECT, related_name="dossiers")
    company = models.ForeignKey(
        MarcheParty, on_delete=models.PROTECT, related_name="dossiers", verbose_name="entreprise"
    )
    kind = models.CharField("nature", max_length=10, choices=DossierKind.choices)
    sequence = models.PositiveIntegerField("numéro d'ordre")
    status = models.CharField("état", max_length=20, choices=DossierStatus.choices, default=DossierStatus.EN_COURS)
    stage = models.CharField("dernière pièce", max_length=60, choices=Cadre.choices, blank=True)
    # Whose turn it is (a PartyRole, or "" when the dossier is with the payer or stopped) and until when.
    waiting_for = models.CharField("en attente de", max_length=20, blank=True)
    deadline = models.DateTimeField("échéance de l'étape en cours", null=True, blank=True, db_index=True)
    # The MOE's reception of the company's draft: its 7 days run from here, and so does the payment clock.
    moe_received_at = models.DateTimeField("réception par la maîtrise d'œuvre", null=True, blank=True)
    moe_deadline = models.DateTimeField("échéance de la maîtrise d'œuvre", null=True, blank=True)
    reminders_sent = models.JSONField("rappels envoyés", default=list, blank=True)
    # The company may contest amounts the MOE changed, within 30 days (CCAG Travaux art. 8.2 as summarised).
    contest_deadline = models.DateTimeField("fin du délai de contestation", null=True, blank=True)
    contested_at = models.DateTimeField("contesté le", null=True, blank=True)
    contest_reason = models.TextField("motif de la contestation", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DossierQuerySet.as_manager()

    class Meta:
        verbose_name = "dossier de facturation"
        verbose_name_plural = "dossiers de facturation"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["marche", "sequence"], name="works_dossier_unique_sequence"),
        ]

    def __str__(self):
        return f"Dossier n° {self.sequence} du marché {self.marche.numero} ({self.get_kind_display().lower()})"

    @property
    def reference(self) -> str:
        return f"{self.marche.numero}/{self.sequence}"

    def pieces_in_order(self) -> list[DossierPiece]:
        return list(self.pieces.select_related("invoice", "depositor").order_by("position"))

    @property
    def last_piece(self) -> DossierPiece | None:
        return self.pieces.select_related("invoice").order_by("-position").first()


class DossierPiece(models.Model):
    """One document of a dossier, after its predecessor."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="pieces")
    invoice = models.OneToOneField("invoices.Invoice", on_delete=models.PROTECT, related_name="works_piece")
    cadre = models.CharField("cadre de facturation", max_length=60, choices=Cadre.choices)
    position = models.PositiveIntegerField("rang dans le dossier")
    predecessor = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successor",
        verbose_name="pièce précédente",
    )
    depositor_role = models.CharField("déposée par", max_length=20, choices=PartyRole.choices)
    depositor = models.ForeignKey("directory.Structure", on_delete=models.PROTECT, related_name="+")
    deposited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "pièce de facturation"
        verbose_name_plural = "pièces de facturation"
        ordering = ["dossier_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "position"], name="works_piece_unique_position"),
        ]

    def __str__(self):
        return f"{Cadre(self.cadre).code} {self.invoice.number}"

    @property
    def cadre_code(self) -> str:
        return Cadre(self.cadre).code


class PieceCorrection(models.Model):
    """A line of the previous document whose amount the MOE (or MOA) changed in its own document."""

    piece = models.ForeignKey(DossierPiece, on_delete=models.CASCADE, related_name="corrections")
    position = models.PositiveIntegerField("numéro de ligne")
    designation = models.CharField("désignation", max_length=255, blank=True)
    original_net_ht = models.DecimalField("montant HT d'origine", max_digits=19, decimal_places=2)
    corrected_net_ht = models.DecimalField("montant HT corrigé", max_digits=19, decimal_places=2)
    reason = models.CharField("raison de la correction", max_length=500)

    class Meta:
        verbose_name = "correction de montant"
        verbose_name_plural = "corrections de montant"
        ordering = ["piece_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["piece", "position"], name="works_correction_unique_line"),
        ]

    @property
    def difference(self):
        return self.corrected_net_ht - self.original_net_ht


class DossierEvent(models.Model):
    """One step of a dossier, as the parties see it (and are told of it)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("nature", max_length=20, choices=EventKind.choices)
    piece = models.ForeignKey(DossierPiece, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField("message")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "événement d'un dossier"
        verbose_name_plural = "événements des dossiers"
        ordering = ["dossier_id", "created_at", "id"]
