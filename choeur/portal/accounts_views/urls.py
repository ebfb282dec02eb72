from django.urls import path

from choeur.portal.accounts_views import views

urlpatterns = [
    path("connexion/", views.login, name="login"),
    path("connexion/verification/", views.login_verify, name="login_verify"),
    path("deconnexion/", views.logout, name="logout"),
    path("inscription/", views.register, name="register"),
    path("inscription/courriel-envoye/", views.register_done, name="register_done"),
    path("inscription/nouveau-lien/", views.activation_resend, name="activation_resend"),
    path("activation/<str:token>/", views.activate, name="activate"),
    path("bienvenue/", views.welcome, name="welcome"),
    path("mot-de-passe-oublie/", views.password_reset, name="password_reset"),
    path("mot-de-passe-oublie/courriel-envoye/", views.password_reset_done, name="password_reset_done"),
    path(
        "mot-de-passe-oublie/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("mot-de-passe-oublie/termine/", views.password_reset_complete, name="password_reset_complete"),
    path("mon-compte/", views.profile, name="profile"),
    path("mon-compte/mot-de-passe/", views.password_change, name="password_change"),
    path("mon-compte/double-authentification/", views.two_factor, name="two_factor"),
    path("mon-compte/double-authentification/activer/", views.two_factor_enrol, name="two_factor_enrol"),
    path("mon-compte/double-authentification/desactiver/", views.two_factor_disable, name="two_factor_disable"),
    path(
        "mon-compte/double-authentification/codes-de-secours/",
        views.two_factor_backup_codes,
        name="two_factor_backup_codes",
    ),
    path("mon-compte/reauthentification/", views.reauth, name="reauth"),
]
