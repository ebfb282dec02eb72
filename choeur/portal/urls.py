from django.urls import include, path

from choeur.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("choeur.portal.accounts_views.urls")),
    path("", include("choeur.portal.structures_views.urls")),
    path("", include("choeur.portal.annuaire_views.urls")),
    path("", include("choeur.portal.raccordement_views.urls")),
    path("", include("choeur.portal.flows_views.urls")),
    path("", include("choeur.portal.invoices_views.urls")),
    path("", include("choeur.portal.engagements_views.urls")),
    path("", include("choeur.portal.tracking_views.urls")),
    path("", include("choeur.portal.works_views.urls")),
    path("", include("choeur.portal.lifecycle_views.urls")),
    path("", include("choeur.portal.webhooks_views.urls")),
    path("", include("choeur.portal.validation_views.urls")),
    path("", include("choeur.portal.aide_views.urls")),
    path("", include("choeur.portal.formation_views.urls")),
    path("", include("choeur.portal.sollicitations_views.urls")),
]
