from django.urls import path

from choeur.portal.structures_views import views

urlpatterns = [
    # « Mes structures »
    path("structures/", views.structures, name="structures"),
    path("structures/rechercher/", views.structure_search, name="structure_search"),
    path("structures/creer/", views.structure_create, name="structure_create"),
    path("structures/rattachement/", views.rattachement_lookup, name="rattachement_lookup"),
    path("structures/<int:pk>/", views.structure_detail, name="structure_detail"),
    path("structures/<int:pk>/rattachement/", views.rattachement_request, name="rattachement_request"),
    path("structures/<int:pk>/modifier/", views.structure_edit, name="structure_edit"),
    path("structures/<int:pk>/services/", views.structure_services, name="structure_services"),
    path("structures/<int:pk>/services/ajouter/", views.service_create, name="service_create"),
    path("structures/<int:pk>/services/<int:service_pk>/", views.service_edit, name="service_edit"),
    path("structures/<int:pk>/coordonnees-bancaires/", views.structure_bank_accounts, name="structure_bank_accounts"),
    path("structures/<int:pk>/coordonnees-bancaires/ajouter/", views.bank_account_create, name="bank_account_create"),
    path(
        "structures/<int:pk>/coordonnees-bancaires/<int:bank_pk>/", views.bank_account_edit, name="bank_account_edit"
    ),
    path(
        "structures/<int:pk>/coordonnees-bancaires/<int:bank_pk>/activation/",
        views.bank_account_toggle,
        name="bank_account_toggle",
    ),
    path("structures/<int:pk>/utilisateurs/", views.structure_users, name="structure_users"),
    path(
        "structures/<int:pk>/utilisateurs/<int:rattachement_pk>/role/",
        views.rattachement_role,
        name="rattachement_role",
    ),
    path(
        "structures/<int:pk>/utilisateurs/<int:rattachement_pk>/desactiver/",
        views.rattachement_deactivate,
        name="rattachement_deactivate",
    ),
    path("structures/<int:pk>/transfert/", views.structure_transfer, name="structure_transfer"),
    path("structures/<int:pk>/espaces/", views.structure_espaces, name="structure_espaces"),
    path("structures/<int:pk>/espaces/ouverture/", views.espace_toggle, name="espace_toggle"),
    # « Activités du gestionnaire »
    path("gestionnaire/", views.gestionnaire, name="gestionnaire"),
    path(
        "gestionnaire/rattachements/<int:rattachement_pk>/",
        views.gestionnaire_rattachement,
        name="gestionnaire_rattachement",
    ),
    path("gestionnaire/abonnements/", views.gestionnaire_subscriptions, name="gestionnaire_subscriptions"),
    path("gestionnaire/utilisateurs/", views.gestionnaire_users, name="gestionnaire_users"),
    path(
        "gestionnaire/utilisateurs/<int:rattachement_pk>/droits/",
        views.gestionnaire_rights,
        name="gestionnaire_rights",
    ),
    path("gestionnaire/historique/", views.gestionnaire_history, name="gestionnaire_history"),
    path("gestionnaire/export.csv", views.gestionnaire_export, name="gestionnaire_export"),
]
