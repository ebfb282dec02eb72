from django.contrib import admin

from choeur.works.models import Dossier, DossierEvent, DossierPiece, Marche, MarcheParty


class MarchePartyInline(admin.TabularInline):
    model = MarcheParty
    extra = 0
    raw_id_fields = ("structure", "service", "works_for")


@admin.register(Marche)
class MarcheAdmin(admin.ModelAdmin):
    list_display = ("numero", "objet", "created_at")
    search_fields = ("numero", "objet")
    inlines = [MarchePartyInline]
    raw_id_fields = ("created_by", "created_by_structure")


class DossierPieceInline(admin.TabularInline):
    model = DossierPiece
    extra = 0
    can_delete = False
    fields = ("position", "cadre", "invoice", "depositor", "depositor_role", "created_at")
    readonly_fields = fields


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "status", "waiting_for", "deadline")
    list_filter = ("kind", "status", "waiting_for")
    raw_id_fields = ("marche", "company", "created_by")
    inlines = [DossierPieceInline]


@admin.register(DossierEvent)
class DossierEventAdmin(admin.ModelAdmin):
    list_display = ("dossier", "kind", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("dossier", "piece", "actor_user", "actor_structure")
