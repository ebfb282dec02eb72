from django.urls import path

from choeur.portal.engagements_views import views

urlpatterns = [
    path("engagements/", views.engagements_buyer, name="engagements"),
    path("engagements/recus/", views.engagements_supplier, name="engagements_received"),
    path("engagements/saisir/", views.engagement_new, name="engagement_new"),
    path("engagements/importer/", views.engagement_import_view, name="engagement_import"),
    path("engagements/importer/modele.csv", views.engagement_import_template, name="engagement_import_template"),
    path("engagements/<int:pk>/", views.engagement_detail, name="engagement_detail"),
    path("engagements/<int:pk>/pdf/", views.engagement_document, name="engagement_document"),
    path("engagements/<int:pk>/pdf/joindre/", views.engagement_document_upload, name="engagement_document_upload"),
]
