from django.urls import path

from choeur.portal.raccordement_views import views

urlpatterns = [
    path("raccordement/", views.raccordement, name="raccordement"),
    path("raccordement/<int:structure_id>/", views.raccordement_structure, name="raccordement_structure"),
    path(
        "raccordement/<int:structure_id>/comptes-techniques/nouveau/",
        views.technical_account_create_view,
        name="raccordement_technical_account_create",
    ),
    path(
        "raccordement/<int:structure_id>/comptes-techniques/<int:account_id>/revoquer/",
        views.technical_account_revoke_view,
        name="raccordement_technical_account_revoke",
    ),
    path(
        "raccordement/<int:structure_id>/comptes-techniques/<int:account_id>/deverrouiller/",
        views.technical_account_unlock_view,
        name="raccordement_technical_account_unlock",
    ),
    path(
        "raccordement/<int:structure_id>/comptes-techniques/<int:account_id>/reinitialiser/",
        views.technical_account_reset_view,
        name="raccordement_technical_account_reset",
    ),
    path(
        "raccordement/<int:structure_id>/clients-api/", views.raccordement_api_clients, name="raccordement_api_clients"
    ),
    path(
        "raccordement/<int:structure_id>/clients-api/nouveau/",
        views.api_client_create_view,
        name="raccordement_api_client_create",
    ),
    path(
        "raccordement/<int:structure_id>/clients-api/<int:client_id>/revoquer/",
        views.api_client_revoke_view,
        name="raccordement_api_client_revoke",
    ),
]
