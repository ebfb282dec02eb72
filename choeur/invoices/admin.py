"""Back-office views of payment requests: read-mostly, since a sent invoice is immutable (models.Invoice)."""

from django.contrib import admin

from choeur.invoices.models import (
    Invoice,
    InvoiceAttachment,
    InvoiceEvent,
    InvoiceLine,
    InvoiceStatusChange,
    InvoiceTemplate,
    InvoiceVatLine,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ("position", "reference", "designation", "quantity", "unit", "unit_price_ht", "discount_ht",
              "vat_rate", "line_net_ht")  # fmt: skip


class VatLineInline(ReadOnlyInline):
    model = InvoiceVatLine
    fields = ("rate", "category", "base_ht", "vat_amount")


class AttachmentInline(ReadOnlyInline):
    model = InvoiceAttachment
    fields = ("name", "type_code", "line_number", "file", "added_at", "added_in_status")


class StatusChangeInline(ReadOnlyInline):
    model = InvoiceStatusChange
    fields = ("created_at", "from_status", "to_status", "transition", "actor_label", "actor_role", "channel", "motif")


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "invoice_type", "cadre", "supplier", "recipient", "status", "total_ttc", "deposited_at")
    list_filter = ("status", "invoice_type", "cadre", "mode_depot")
    search_fields = ("number", "supplier__raison_sociale", "supplier__identifier", "recipient__identifier")
    date_hierarchy = "created_at"
    inlines = [LineInline, VatLineInline, AttachmentInline, StatusChangeInline]
    list_select_related = ("supplier", "recipient")
    raw_id_fields = (
        "supplier", "supplier_service", "supplier_bank_account", "recipient", "recipient_service", "valideur",
        "valideur_service", "valideur2", "valideur2_service", "moe", "moe_service", "moa", "moa_service",
        "origin_invoice", "main_document", "structured_xml", "certificate", "created_by",
    )  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # Everything is read-only: statuses move through workflow.invoice_transition, content never changes.
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InvoiceStatusChange)
class InvoiceStatusChangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "invoice", "from_status", "to_status", "transition", "actor_label", "channel")
    list_filter = ("to_status", "channel")
    raw_id_fields = ("invoice", "actor_user", "actor_structure")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InvoiceEvent)
class InvoiceEventAdmin(InvoiceStatusChangeAdmin):
    list_display = ("created_at", "invoice", "action", "actor_label", "channel")
    list_filter = ("action", "channel")


@admin.register(InvoiceTemplate)
class InvoiceTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "supplier", "created_at")
    search_fields = ("name", "supplier__raison_sociale")
    raw_id_fields = ("supplier", "created_by")
