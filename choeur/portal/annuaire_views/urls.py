from django.urls import path

from choeur.portal.annuaire_views import views

urlpatterns = [
    path("annuaire/", views.annuaire, name="annuaire"),
    path("annuaire/<int:structure_id>/", views.annuaire_detail, name="annuaire_detail"),
]
