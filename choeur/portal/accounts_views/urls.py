from django.urls import path

from choeur.portal.accounts_views import views

urlpatterns = [
    path("connexion/", views.login, name="login"),
    path("deconnexion/", views.logout, name="logout"),
    path("inscription/", views.register, name="register"),
    path("mon-compte/", views.profile, name="profile"),
    path("mon-compte/reauthentification/", views.reauth, name="reauth"),
]
