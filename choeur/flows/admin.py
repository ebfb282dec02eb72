from django.contrib import admin

from choeur.flows.models import Flow, FlowItem, Revalidation


class FlowItemInline(admin.TabularInline):
    model = FlowItem
    extra = 0
    can_delete = False
    fields = (
        "index",
        "member_name",
        "invoice_number",
        "supplier_identifier",
        "recipient_identifier",
        "status",
        "invoice",
    )
    readonly_fields = fields
    show_change_link = True


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ("numero_flux_depot", "filename", "structure", "channel", "state", "state_changed_at", "attempts")
    list_filter = ("state", "channel")
    search_fields = ("numero_flux_depot", "filename", "structure__identifier", "structure__raison_sociale", "sha256")
    date_hierarchy = "deposited_at"
    raw_id_fields = ("structure", "deposited_by", "file")
    # The ledger is written by the services only: the admin shows it.
    readonly_fields = [f.name for f in Flow._meta.fields]
    inlines = [FlowItemInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FlowItem)
class FlowItemAdmin(admin.ModelAdmin):
    list_display = ("flow", "index", "invoice_number", "status", "invoice")
    list_filter = ("status",)
    search_fields = ("flow__numero_flux_depot", "invoice_number", "supplier_identifier", "recipient_identifier")
    raw_id_fields = ("flow", "invoice")
    readonly_fields = [f.name for f in FlowItem._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Revalidation)
class RevalidationAdmin(admin.ModelAdmin):
    """Re-validations are run by `choeur revalidate`: the admin shows them, verdicts filtered by invoice."""

    list_display = ("started_at", "reason", "engine", "rules", "checked", "invalid_count", "changed_count")
    readonly_fields = [f.name for f in Revalidation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
