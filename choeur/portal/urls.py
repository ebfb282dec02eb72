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
]
