"""Django admin for platform administrators.

Public structures are created here (never from the portal), with their services inline; creation goes
through `services.structure_create` so that the default service, the default espaces and the history
are the same as everywhere else. Administrators may also name a structure's gestionnaire principal (the
support's job in Chorus Pro). Bank details, rattachements and the manager history are read-only here:
they change through the portal, where re-authentication, e-mails and history apply.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect

from choeur.accounts.models import User
from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError
from choeur.directory import services
from choeur.directory.enums import DEFAULT_SERVICE_CODE, StructureKind
from choeur.directory.identifiers import clean_identifier
from choeur.directory.models import (
    BankAccount,
    EngagementJuridique,
    EspaceSubscription,
    ManagerAction,
    Rattachement,
    Service,
    Structure,
    StructureEspace,
)


class ServiceInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            code = (form.cleaned_data.get("code") or "").strip().upper()
            instance = form.instance
            if instance.pk and instance.code == DEFAULT_SERVICE_CODE:
                if form.cleaned_data.get("DELETE"):
                    raise ValidationError(f"Le service {DEFAULT_SERVICE_CODE} ne peut pas être supprimé.")
                if not form.cleaned_data.get("is_active", True) or code != DEFAULT_SERVICE_CODE:
                    raise ValidationError(
                        f"Le service {DEFAULT_SERVICE_CODE} reste actif et garde son code : "
                        "c'est le service par défaut."
                    )
            elif not instance.pk and code == DEFAULT_SERVICE_CODE:
                raise ValidationError(
                    f"Le service {DEFAULT_SERVICE_CODE} est créé automatiquement : ne l'ajoutez pas."
                )


class ServiceInline(admin.TabularInline):
    model = Service
    formset = ServiceInlineFormSet
    extra = 1
    fields = (
        "code",
        "libelle",
        "valid_from",
        "valid_until",
        "is_active",
        "engagement_obligatoire",
        "mise_en_paiement",
    )


class StructureEspaceInline(admin.TabularInline):
    model = StructureEspace
    extra = 0
    fields = ("code", "is_open", "opened_at")
    readonly_fields = ("opened_at",)


class StructureAdminForm(forms.ModelForm):
    gestionnaire_principal_email = forms.EmailField(
        label="Nommer le gestionnaire principal (adresse de connexion)",
        required=False,
        help_text=(
            "Facultatif. La personne doit avoir un compte activé ; l'actuel gestionnaire principal, s'il y en a "
            "un, devient gestionnaire secondaire."
        ),
    )

    class Meta:
        model = Structure
        exclude = ()

    def clean_identifier(self):
        identifier_type = self.cleaned_data.get("identifier_type")
        value = self.cleaned_data.get("identifier") or ""
        if not identifier_type:
            return value
        try:
            return clean_identifier(identifier_type, value) if value.strip() else value
        except ApplicationError as exc:
            raise ValidationError(exc.message) from None

    def clean(self):
        cleaned = super().clean()
        # On a change, `kind` is read-only (not in the form): the instance says it.
        kind = cleaned.get("kind") or self.instance.kind
        if self.instance.pk is None and kind == StructureKind.PRIVEE:
            if not cleaned.get("gestionnaire_principal_email") and "gestionnaire_principal_email" not in self.errors:
                self.add_error(
                    "gestionnaire_principal_email",
                    "Une structure privée a un gestionnaire principal : indiquez son adresse de connexion.",
                )
        if kind != StructureKind.PUBLIQUE and cleaned.get("public_category"):
            self.add_error("public_category", "Seule une structure publique a une catégorie d'entité publique.")
        return cleaned

    def clean_gestionnaire_principal_email(self):
        email = (self.cleaned_data.get("gestionnaire_principal_email") or "").strip()
        if not email:
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise ValidationError("Aucun compte n'utilise cette adresse de connexion.")
        if not user.is_active:
            raise ValidationError("Ce compte n'est pas activé : la personne doit d'abord activer son compte.")
        return user


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    form = StructureAdminForm
    list_display = ("raison_sociale", "identifier_type", "identifier", "kind", "public_category", "ville", "is_active")
    list_filter = ("kind", "public_category", "is_active", "identifier_type")
    search_fields = ("raison_sociale", "libelle", "identifier")
    inlines = [ServiceInline, StructureEspaceInline]
    fieldsets = (
        (None, {"fields": ("identifier_type", "identifier", "kind", "public_category", "is_active")}),
        ("Identité", {"fields": ("raison_sociale", "libelle", "nom", "prenom", "numero_tva", "numero_rcs", "email")}),
        ("Adresse", {"fields": ("adresse", "complement_adresse", "code_postal", "ville", "pays", "telephone")}),
        (
            "Paramètres de réception des factures",
            {
                "fields": (
                    "code_service_obligatoire",
                    "engagement_obligatoire",
                    "engagement_ou_service",
                    "mise_en_paiement_non_remontee",
                    "is_moa",
                    "is_moa_only",
                    "is_moe",
                    "payment_delay_days",
                )
            },
        ),
        ("Gestionnaire principal", {"fields": ("gestionnaire_principal_email",)}),
    )

    def get_readonly_fields(self, request, obj=None):
        # One structure per identifier, for life: a change of SIRET is a new structure.
        return ("identifier_type", "identifier", "kind") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        gestionnaire = form.cleaned_data.get("gestionnaire_principal_email")
        if change:
            obj.save()
            audit_log(
                action="directory.structure.updated_by_staff",
                actor=request.user,
                structure_id=obj.pk,
                target=obj,
                data={"champs": [f for f in form.changed_data if f != "gestionnaire_principal_email"]},
            )
        else:
            data = form.cleaned_data
            editable = set(services.IDENTITY_FIELDS) | set(services.RECIPIENT_FIELDS)
            public = data["kind"] == StructureKind.PUBLIQUE
            fields = {
                name: data[name]
                for name in editable
                if name in data and name != "raison_sociale" and (public or name not in services.RECIPIENT_FIELDS)
            }
            created = services.structure_create(
                created_by=request.user,
                identifier_type=data["identifier_type"],
                identifier=data["identifier"],
                raison_sociale=data["raison_sociale"],
                public=public,
                public_category=(data.get("public_category") or "") if public else "",
                gestionnaire_principal=gestionnaire,
                **fields,
            )
            gestionnaire = None  # already named by structure_create
            if not data.get("is_active", True):
                Structure.objects.filter(pk=created.pk).update(is_active=False)
            # The admin carries on with `obj` (its inlines are saved against it).
            obj.pk = created.pk
            obj._state.adding = False
            obj._state.db = created._state.db
        if gestionnaire is not None:
            services.gestionnaire_principal_appoint(by=request.user, structure=obj, user=gestionnaire)

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            # A rule of the services refused (the form checks most of them first): say so and roll back
            # everything, the admin's own transaction included.
            transaction.set_rollback(True)
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "libelle", "structure", "is_active", "valid_from", "valid_until", "engagement_obligatoire")
    list_filter = ("is_active", "engagement_obligatoire")
    search_fields = ("code", "libelle", "structure__raison_sociale", "structure__identifier")
    raw_id_fields = ("structure",)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_default


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown for support and investigation; changes go through the portal's services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rattachement)
class RattachementAdmin(ReadOnlyAdmin):
    list_display = ("user", "structure", "role", "status", "created_at", "decided_at")
    list_filter = ("role", "status")
    search_fields = ("user__email", "user__last_name", "structure__raison_sociale", "structure__identifier")


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnlyAdmin):
    list_display = ("label", "structure", "masked_iban", "bic", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("label", "structure__raison_sociale", "structure__identifier")
    # The full IBAN is not shown in the admin either: it has no use there.
    exclude = ("iban",)
    readonly_fields = ("masked_iban",)


@admin.register(EspaceSubscription)
class EspaceSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("rattachement", "espace", "habilitation", "status", "created_at")
    list_filter = ("habilitation", "status", "espace__code")


@admin.register(ManagerAction)
class ManagerActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "structure", "actor", "action", "description")
    list_filter = ("action",)
    search_fields = ("structure__raison_sociale", "description")


@admin.register(EngagementJuridique)
class EngagementJuridiqueAdmin(admin.ModelAdmin):
    list_display = ("number", "structure", "supplier", "type", "amount_ttc", "currency", "notified_on", "state")
    list_filter = ("state", "type")
    search_fields = ("number", "structure__raison_sociale", "supplier__raison_sociale", "supplier__identifier")
    raw_id_fields = ("structure", "supplier", "service", "document", "created_by")
    date_hierarchy = "notified_on"
