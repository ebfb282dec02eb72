from django.urls import path

from choeur.portal.aide_views import views

urlpatterns = [
    path("aide/", views.aide_page, name="aide"),
    path("aide/rechercher/", views.aide_search, name="aide_search"),
    path("aide/cadre/", views.aide_cadre, name="aide_cadre"),
    path("accessibilite/", views.aide_page, {"slug": "accessibilite"}, name="accessibilite"),
    path("aide/<slug:slug>/", views.aide_page, name="aide_page"),
]
