from django.urls import path

from choeur.portal.raccordement_views import views

urlpatterns = [
    path("raccordement/", views.raccordement, name="raccordement"),
]
