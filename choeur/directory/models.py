"""Structures (legal entities), their services, people's rattachements and roles, espaces, bank details
and API raccordements."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from choeur.directory.enums import (
    DEFAULT_SERVICE_CODE,
    GESTIONNAIRE_ROLES,
    EngagementState,
    EngagementType,
    EspaceCode,
    Habilitation,
    IdentifierType,
    PublicCategory,
    RattachementStatus,
    Role,
    StructureKind,
    SubscriptionStatus,
)


class StructureQuerySet(models.QuerySet):
    def public(self):
        return self.filter(kind=StructureKind.PUBLIQUE)

    def active(self):
        return self.filter(is_active=True)

    def managed_by(self, user):
        return self.filter(
            rattachements__user=user,
            rattachements__status=RattachementStatus.VALIDEE,
            rattachements__role__in=GESTIONNAIRE_ROLES,
        ).distinct()

    def of_user(self, user):
        """Structures the user is validly attached to: the tenancy boundary of every read."""
        return self.filter(rattachements__user=user, rattachements__status=RattachementStatus.VALIDEE).distinct()


class Structure(models.Model):
    """One legal entity, known by one identifier (`identifier_type`, `identifier`).

    A public structure both receives (as destinataire) and issues invoices. Public structures are
    created by platform administrators or imported from the annuaire, never self-created.
    """

    identifier_type = models.CharField("type d'identifiant", max_length=20, choices=IdentifierType.choices)
    identifier = models.CharField("identifiant", max_length=40)
    kind = models.CharField("type de structure", max_length=10, choices=StructureKind.choices)
    public_category = models.CharField(
        "catégorie d'entité publique", max_length=30, choices=PublicCategory.choices, blank=True
    )
    raison_sociale = models.CharField("raison sociale", max_length=255)
    libelle = models.CharField("libellé", max_length=255, blank=True)
    nom = models.CharField("nom (personne physique)", max_length=150, blank=True)
    prenom = models.CharField("prénom (personne physique)", max_length=150, blank=True)
    numero_tva = models.CharField("numéro de TVA intracommunautaire", max_length=20, blank=True)
    numero_rcs = models.CharField("numéro RCS", max_length=40, blank=True)
    email = models.EmailField("adresse électronique de la structure", blank=True)
    adresse = models.CharField("adresse", max_length=255, blank=True)
    complement_adresse = models.CharField("complément d'adresse", max_length=255, blank=True)
    code_postal = models.CharField("code postal", max_length=10, blank=True)
    ville = models.CharField("ville", max_length=100, blank=True)
    pays = models.CharField("pays (code ISO)", max_length=2, default="FR")
    telephone = models.CharField("téléphone", max_length=30, blank=True)
    is_active = models.BooleanField("active", default=True)

    # Recipient settings (`parametres` in Chorus Pro's structures/v1/consulter).
    code_service_obligatoire = models.BooleanField("code service obligatoire", default=False)
    engagement_obligatoire = models.BooleanField("numéro d'engagement obligatoire", default=False)
    engagement_ou_service = models.BooleanField("numéro d'engagement ou code service obligatoire", default=False)
    mise_en_paiement_non_remontee = models.BooleanField("statut « mise en paiement » non remonté", default=False)
    is_moa = models.BooleanField("maîtrise d'ouvrage (MOA)", default=False)
    is_moa_only = models.BooleanField("MOA uniquement", default=False)
    is_moe = models.BooleanField("maîtrise d'œuvre (MOE)", default=False)
    payment_delay_days = models.PositiveSmallIntegerField(
        "délai global de paiement (jours)",
        null=True,
        blank=True,
        help_text="Vide : 30 jours (État, collectivités) ou 50 jours (établissements publics de santé).",
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StructureQuerySet.as_manager()

    class Meta:
        verbose_name = "structure"
        constraints = [
            models.UniqueConstraint(fields=["identifier_type", "identifier"], name="directory_structure_unique_id"),
        ]
        indexes = [models.Index(fields=["raison_sociale"], name="directory_structure_rs")]

    def __str__(self):
        return f"{self.raison_sociale} ({self.identifier})"

    @property
    def is_public(self) -> bool:
        return self.kind == StructureKind.PUBLIQUE

    @property
    def designation(self) -> str:
        return self.libelle or self.raison_sociale

    @property
    def effective_payment_delay_days(self) -> int:
        if self.payment_delay_days:
            return self.payment_delay_days
        return 50 if self.public_category == PublicCategory.ETABLISSEMENT_SANTE else 30


class ServiceQuerySet(models.QuerySet):
    def active(self, on=None):
        on = on or timezone.localdate()
        return (
            self.filter(is_active=True)
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on))
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        )


class Service(models.Model):
    """A sub-unit of a structure (service exécutant on the recipient side). Every structure has
    FACTURES_PUBLIQUES."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="services")
    code = models.CharField("code service", max_length=100)
    libelle = models.CharField("libellé", max_length=255)
    description = models.TextField("description", blank=True)
    valid_from = models.DateField("début de validité", null=True, blank=True)
    valid_until = models.DateField("fin de validité", null=True, blank=True)
    is_active = models.BooleanField("actif", default=True)
    engagement_obligatoire = models.BooleanField("numéro d'engagement obligatoire", default=False)
    mise_en_paiement = models.BooleanField("statut « mise en paiement » remonté", default=True)
    adresse = models.CharField("adresse", max_length=255, blank=True)
    code_postal = models.CharField("code postal", max_length=10, blank=True)
    ville = models.CharField("ville", max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = "service"
        ordering = ["structure_id", "code"]
        constraints = [models.UniqueConstraint(fields=["structure", "code"], name="directory_service_unique_code")]

    def __str__(self):
        return f"{self.code} — {self.libelle}"

    @property
    def is_default(self) -> bool:
        return self.code == DEFAULT_SERVICE_CODE

    def is_currently_active(self, on=None) -> bool:
        on = on or timezone.localdate()
        return (
            self.is_active
            and (self.valid_from is None or self.valid_from <= on)
            and (self.valid_until is None or self.valid_until >= on)
        )


class BankAccount(models.Model):
    """Coordonnées bancaires of a supplier structure. A change requires re-authentication, is notified
    to every gestionnaire and is logged (bank-detail fraud is a known attack on invoice platforms)."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="bank_accounts")
    label = models.CharField("nom des coordonnées bancaires", max_length=100)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11)
    holder = models.CharField("titulaire du compte", max_length=255)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "coordonnées bancaires"
        verbose_name_plural = "coordonnées bancaires"
        ordering = ["structure_id", "label"]

    def __str__(self):
        return f"{self.label} ({self.masked_iban})"

    @property
    def masked_iban(self) -> str:
        return f"{self.iban[:4]} •••• {self.iban[-4:]}" if len(self.iban) > 8 else self.iban


class RattachementQuerySet(models.QuerySet):
    def validated(self):
        return self.filter(status=RattachementStatus.VALIDEE)

    def pending(self):
        return self.filter(status=RattachementStatus.EN_COURS_DE_VALIDATION)

    def gestionnaires(self):
        return self.validated().filter(role__in=GESTIONNAIRE_ROLES)


class Rattachement(models.Model):
    """A person's attachment to a structure (optionally to some of its services), with a role."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rattachements")
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="rattachements")
    services = models.ManyToManyField(Service, blank=True, related_name="rattachements")
    role = models.CharField("rôle", max_length=30, choices=Role.choices, default=Role.UTILISATEUR_SIMPLE)
    status = models.CharField(
        "statut", max_length=30, choices=RattachementStatus.choices, default=RattachementStatus.EN_COURS_DE_VALIDATION
    )
    message = models.TextField("message de la demande", blank=True)
    decision_comment = models.TextField("commentaire de décision", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RattachementQuerySet.as_manager()

    class Meta:
        verbose_name = "rattachement"
        constraints = [
            models.UniqueConstraint(fields=["user", "structure"], name="directory_rattachement_unique"),
            # Exactly one gestionnaire principal per structure (the "at least one" half is kept by services).
            models.UniqueConstraint(
                fields=["structure"],
                condition=Q(role="GESTIONNAIRE_PRINCIPAL", status="VALIDEE"),
                name="directory_one_gestionnaire_principal",
            ),
        ]

    def __str__(self):
        return f"{self.user} → {self.structure} ({self.get_role_display()}, {self.get_status_display()})"

    @property
    def is_gestionnaire(self) -> bool:
        return self.status == RattachementStatus.VALIDEE and self.role in GESTIONNAIRE_ROLES


class StructureEspace(models.Model):
    """An espace opened on a structure by a gestionnaire."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="espaces")
    code = models.CharField(max_length=40, choices=EspaceCode.choices)
    is_open = models.BooleanField("ouvert", default=True)
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "espace"
        constraints = [models.UniqueConstraint(fields=["structure", "code"], name="directory_espace_unique")]

    def __str__(self):
        return f"{self.get_code_display()} — {self.structure}"


class EspaceSubscription(models.Model):
    """A user's abonnement to an espace of a structure, with CONSULTATION_UNIQUEMENT or MODIFICATION."""

    rattachement = models.ForeignKey(Rattachement, on_delete=models.CASCADE, related_name="subscriptions")
    espace = models.ForeignKey(StructureEspace, on_delete=models.CASCADE, related_name="subscriptions")
    habilitation = models.CharField(max_length=30, choices=Habilitation.choices, default=Habilitation.MODIFICATION)
    status = models.CharField(
        max_length=30, choices=SubscriptionStatus.choices, default=SubscriptionStatus.EN_COURS_DE_VALIDATION
    )
    decision_comment = models.TextField("commentaire de décision", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "abonnement à un espace"
        constraints = [
            models.UniqueConstraint(fields=["rattachement", "espace"], name="directory_subscription_unique")
        ]

    def __str__(self):
        return f"{self.rattachement.user} → {self.espace} ({self.get_habilitation_display()})"


class ManagerAction(models.Model):
    """History of gestionnaire actions, shown in « Activités du gestionnaire » (the audit log keeps the proof)."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="manager_actions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=60)
    description = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "action de gestionnaire"
        ordering = ["-created_at", "-id"]


class TechnicalAccount(models.Model):
    """A « compte technique » for the `cpro-account` header. The password is stored hashed, shown once."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="technical_accounts")
    login = models.CharField(max_length=150, unique=True)
    password_hash = models.CharField(max_length=255)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "compte technique"

    def __str__(self):
        return self.login

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ApiClient(models.Model):
    """An OAuth2 client (client_credentials) of a structure, wrapping django-oauth-toolkit's Application.
    The client secret is hashed by the toolkit and shown once."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="api_clients")
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="choeur_client"
    )
    label = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Last access token issued to this client (set by the token endpoint).
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "client API"

    def __str__(self):
        return self.label

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class EngagementJuridiqueQuerySet(models.QuerySet):
    def of_buyers(self, structures):
        return self.filter(structure__in=structures)

    def addressed_to(self, structures):
        return self.filter(supplier__in=structures)


class EngagementJuridique(models.Model):
    """An engagement juridique (EJ) of a public structure: the purchase commitment (bon de commande, marché)
    whose number the supplier's invoices carry (`numeroBonCommande`, chorus-pro.md §3.2, §8.6).

    The buyer's referential lives here; what invoices consumed of it (invoiced, validated, paid) is read from
    the invoices (`invoices.selectors.engagement_consumptions`), which match it by recipient, supplier and
    number.
    """

    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="engagements", verbose_name="structure publique"
    )
    number = models.CharField("numéro d'engagement", max_length=50)
    type = models.CharField(
        "type d'engagement", max_length=20, choices=EngagementType.choices, default=EngagementType.BON_DE_COMMANDE
    )
    supplier = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="engagements_received", verbose_name="fournisseur"
    )
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="engagements",
        verbose_name="service exécutant",
    )
    numero_marche = models.CharField("numéro de marché", max_length=50, blank=True)
    label = models.CharField("objet", max_length=255, blank=True)
    amount_ttc = models.DecimalField("montant TTC", max_digits=19, decimal_places=2)
    currency = models.CharField("devise", max_length=3, default="EUR")
    notified_on = models.DateField("date de notification")
    state = models.CharField(
        "état", max_length=10, choices=EngagementState.choices, default=EngagementState.COMMANDE, db_index=True
    )
    document = models.ForeignKey(
        "core.StoredFile", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="PDF"
    )
    document_name = models.CharField("nom du PDF", max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EngagementJuridiqueQuerySet.as_manager()

    class Meta:
        verbose_name = "engagement juridique"
        verbose_name_plural = "engagements juridiques"
        ordering = ["structure_id", "-notified_on", "number"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "number"], name="directory_engagement_unique_number"),
        ]
        indexes = [models.Index(fields=["supplier", "state"], name="directory_engagement_supplier")]

    def __str__(self):
        return f"{self.number} — {self.structure.designation}"
