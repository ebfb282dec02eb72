from django.urls import path

from choeur.portal.sollicitations_views import views

urlpatterns = [
    path("sollicitations/emises/", views.sollicitations_sent_view, name="sollicitations_sent"),
    path("sollicitations/recues/", views.sollicitations_received_view, name="sollicitations_received"),
    path("sollicitations/nouvelle/", views.sollicitation_new_view, name="sollicitation_new"),
    path(
        "sollicitations/nouvelle/champs/", views.sollicitation_request_fields_view, name="sollicitation_request_fields"
    ),
    path("sollicitations/<int:pk>/", views.sollicitation_detail_view, name="sollicitation_detail"),
    path("sollicitations/<int:pk>/action/", views.sollicitation_action_view, name="sollicitation_action"),
    path(
        "sollicitations/<int:pk>/pieces/<int:attachment_id>/",
        views.sollicitation_attachment_view,
        name="sollicitation_attachment",
    ),
    path("support/nous-contacter/", views.support_contact_view, name="support_contact"),
]
