from django.urls import path

from choeur.portal.formation_views import views

urlpatterns = [
    path("formation/", views.parcours_view, name="formation"),
    path("formation/support.pdf", views.handout_pdf_view, name="formation_handout_pdf"),
    path("formation/<slug:slug>/connexion/", views.sign_in_view, name="formation_sign_in"),
]
