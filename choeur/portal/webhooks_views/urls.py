from django.urls import path

from choeur.portal.webhooks_views import views

urlpatterns = [
    path("raccordement/webhooks/", views.webhooks, name="webhooks"),
    path("raccordement/webhooks/<int:webhook_id>/", views.webhook_detail, name="webhook_detail"),
    path("raccordement/webhooks/<int:webhook_id>/activer/", views.webhook_toggle, name="webhook_toggle"),
    path("raccordement/webhooks/<int:webhook_id>/supprimer/", views.webhook_delete_view, name="webhook_delete"),
    path(
        "raccordement/webhooks/<int:webhook_id>/livraisons/<int:delivery_id>/rejouer/",
        views.webhook_replay,
        name="webhook_replay",
    ),
]
