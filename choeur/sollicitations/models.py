"""Sollicitations: requests a user sends to a public structure's service or to the platform's support,
a conversation of messages with attachments, and the log of their status changes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from choeur.sollicitations.enums import RecipientKind, SollicitationStatus


class SollicitationCategory(models.Model):
    """Catégorie of the referential (`categorieSollicitation`): it routes to a structure or to support."""

    code = models.CharField("code", max_length=40, unique=True)
    libelle = models.CharField("libellé", max_length=150)
    routes_to = models.CharField("acheminement", max_length=20, choices=RecipientKind.choices)
    is_active = models.BooleanField("active", default=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "catégorie de sollicitation"
        verbose_name_plural = "catégories de sollicitation"
        ordering = ["position", "code"]

    def __str__(self):
        return self.libelle


class SollicitationSubCategory(models.Model):
    """Sous-catégorie (`sousCategorieSollicitation`), always inside one catégorie."""

    category = models.ForeignKey(SollicitationCategory, on_delete=models.PROTECT, related_name="subcategories")
    code = models.CharField("code", max_length=40)
    libelle = models.CharField("libellé", max_length=150)
    is_active = models.BooleanField("active", default=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)
    # `dateCreation` and `dateDerniereModification` of the API's `ssCategorie`.
    created_at = models.DateTimeField("créée le", default=timezone.now)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "sous-catégorie de sollicitation"
        verbose_name_plural = "sous-catégories de sollicitation"
        ordering = ["category__position", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="sollicitations_subcategory_unique_code")
        ]

    def __str__(self):
        return f"{self.category.libelle} › {self.libelle}"


class SollicitationDesk(models.Model):
    """The service of a public structure that handles its sollicitations (the DP's `codeServiceSollicitation`).

    Kept here rather than on Structure so that the directory does not depend on this app. A structure
    without a desk still receives sollicitations, without a service (the structure as a whole)."""

    structure = models.OneToOneField(
        "directory.Structure", on_delete=models.CASCADE, related_name="sollicitation_desk"
    )
    service = models.ForeignKey(
        "directory.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepts_sollicitations = models.BooleanField("accepte les sollicitations", default=True)

    class Meta:
        verbose_name = "service des sollicitations"
        verbose_name_plural = "services des sollicitations"

    def __str__(self):
        return f"{self.structure} : {self.service or 'toute la structure'}"


class SollicitationQuerySet(models.QuerySet):
    def sent_by(self, user):
        """Sent by the user, or by a structure they are validly attached to."""
        from choeur.directory.models import Structure

        return self.filter(Q(sender_user=user) | Q(sender_structure__in=Structure.objects.of_user(user)))

    def received_by(self, user):
        """Addressed to a structure the user is attached to; support ones for the platform's administrators."""
        from choeur.directory.models import Structure

        condition = Q(recipient_kind=RecipientKind.STRUCTURE, recipient_structure__in=Structure.objects.of_user(user))
        if getattr(user, "is_staff", False):
            condition |= Q(recipient_kind=RecipientKind.SUPPORT)
        return self.filter(condition)

    def visible_to(self, user):
        """The tenancy boundary of every read: sent or received by the user's structures."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return (self.sent_by(user) | self.received_by(user)).distinct()


class Sollicitation(models.Model):
    numero = models.CharField("numéro", max_length=20, unique=True, null=True, blank=True)
    category = models.ForeignKey(SollicitationCategory, on_delete=models.PROTECT, related_name="+")
    subcategory = models.ForeignKey(SollicitationSubCategory, on_delete=models.PROTECT, related_name="+")
    subject = models.CharField("objet", max_length=200)
    reference = models.CharField("référence", max_length=100, blank=True)
    status = models.CharField(
        "état", max_length=30, choices=SollicitationStatus.choices, default=SollicitationStatus.OUVERTE
    )
    # RESTRICT: a person who wrote to a structure is deactivated, never deleted (traceability).
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    sender_structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    # Not-connected senders (support form) are known by their e-mail only.
    sender_email = models.EmailField("adresse électronique de l'émetteur", blank=True)
    recipient_kind = models.CharField("destinataire", max_length=20, choices=RecipientKind.choices)
    recipient_structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    recipient_service = models.ForeignKey(
        "directory.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invoice = models.ForeignKey("invoices.Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A works dossier (its MOE or MOA is the recipient) and a structure the request is about; referenced by
    # name only, so that this app imports neither `works` nor more of `directory` than it needs.
    works_dossier = models.ForeignKey(
        "works.Dossier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    about_structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A platform request (creation of a public structure, new gestionnaire principal): the fields asked for,
    # and what processing it produced.
    request_data = models.JSONField("données de la demande", default=dict, blank=True)
    processed_at = models.DateTimeField("demande traitée le", null=True, blank=True)
    created_at = models.DateTimeField("date de dépôt", default=timezone.now, db_index=True)
    first_answer_at = models.DateTimeField("première réponse", null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField("clôturée le", null=True, blank=True)

    objects = SollicitationQuerySet.as_manager()

    class Meta:
        verbose_name = "sollicitation"
        verbose_name_plural = "sollicitations"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient_kind="SUPPORT") | Q(recipient_structure__isnull=False),
                name="sollicitations_structure_recipient_named",
            )
        ]

    def __str__(self):
        return self.numero or f"Sollicitation {self.pk}"

    @property
    def recipient_label(self) -> str:
        if self.recipient_kind == RecipientKind.SUPPORT:
            return "Support de la plateforme"
        label = self.recipient_structure.designation
        if self.recipient_service_id:
            label = f"{label} — {self.recipient_service.libelle}"
        return label

    @property
    def sender_label(self) -> str:
        if self.sender_structure_id:
            return self.sender_structure.designation
        if self.sender_user_id:
            return self.sender_user.email
        return self.sender_email

    @property
    def age(self):
        return timezone.now() - self.created_at

    @property
    def time_to_first_answer(self):
        return None if self.first_answer_at is None else self.first_answer_at - self.created_at


class SollicitationMessage(models.Model):
    """One message of the conversation; append-only."""

    sollicitation = models.ForeignKey(Sollicitation, on_delete=models.CASCADE, related_name="messages")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    author_label = models.CharField("auteur", max_length=255)
    author_role = models.CharField("rôle", max_length=20)
    action = models.CharField("action", max_length=30)
    body = models.TextField("message")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.sollicitation} — {self.author_label}"


class SollicitationAttachment(models.Model):
    """A document joined to a message, stored content-addressed like invoice attachments."""

    message = models.ForeignKey(SollicitationMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("nom du fichier", max_length=50)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class SollicitationNotification(models.Model):
    """One notice of a sollicitation event for one person (notification preference « SOLLICITATIONS »,
    e-mailed at once or in the weekly digest) or for an e-mail address alone (not-connected sender)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField("adresse électronique", blank=True)
    sollicitation = models.ForeignKey(Sollicitation, on_delete=models.CASCADE, related_name="notifications")
    event_key = models.CharField("événement", max_length=60)
    title = models.CharField("titre", max_length=255)
    body = models.TextField("message", blank=True)
    url = models.CharField("lien", max_length=255, blank=True)
    frequency = models.CharField("envoi par courriel", max_length=10)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    emailed_at = models.DateTimeField("envoyée par courriel le", null=True, blank=True)

    class Meta:
        verbose_name = "notification de sollicitation"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "user"], condition=Q(user__isnull=False), name="sollicitations_notif_unique_user"
            ),
            models.UniqueConstraint(
                fields=["event_key", "email"],
                condition=Q(user__isnull=True),
                name="sollicitations_notif_unique_email",
            ),
        ]

    def __str__(self):
        return self.title


class SollicitationStatusChange(models.Model):
    """One status change, written by workflow.sollicitation_transition (append-only)."""

    sollicitation = models.ForeignKey(Sollicitation, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=30, choices=SollicitationStatus.choices)
    to_status = models.CharField(max_length=30, choices=SollicitationStatus.choices)
    transition = models.CharField(max_length=30)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    actor_role = models.CharField(max_length=20)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
