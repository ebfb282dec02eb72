"""Django admin: the catégorie referential is administrable here (the API serves the same codes), and so is
each public structure's service des sollicitations. Sollicitations themselves are read-only: they change
only through the services, which log every transition."""

from django.contrib import admin

from choeur.sollicitations.models import (
    Sollicitation,
    SollicitationCategory,
    SollicitationDesk,
    SollicitationMessage,
    SollicitationSubCategory,
)


class SubCategoryInline(admin.TabularInline):
    model = SollicitationSubCategory
    extra = 0
    fields = ("code", "libelle", "is_active", "position")


@admin.register(SollicitationCategory)
class SollicitationCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "libelle", "routes_to", "is_active", "position")
    list_filter = ("routes_to", "is_active")
    inlines = [SubCategoryInline]


@admin.register(SollicitationDesk)
class SollicitationDeskAdmin(admin.ModelAdmin):
    list_display = ("structure", "service", "accepts_sollicitations")
    autocomplete_fields = ("structure",)
    raw_id_fields = ("service",)


class MessageInline(admin.TabularInline):
    model = SollicitationMessage
    extra = 0
    can_delete = False
    fields = ("created_at", "author_label", "author_role", "action", "body")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Sollicitation)
class SollicitationAdmin(admin.ModelAdmin):
    list_display = ("numero", "created_at", "category", "subcategory", "status", "recipient_kind")
    list_filter = ("status", "recipient_kind", "category")
    search_fields = ("numero", "subject", "reference")
    inlines = [MessageInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
