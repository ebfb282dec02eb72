from django.urls import path

from choeur.portal.structures_views import views

urlpatterns = [
    path("structures/", views.structures, name="structures"),
    path("gestionnaire/", views.gestionnaire, name="gestionnaire"),
]
