from django.urls import path

from choeur.portal.validation_views import views

urlpatterns = [
    path("factures/a-valider/", views.invoices_to_validate_view, name="invoices_to_validate"),
    path("factures/a-valider/<int:invoice_id>/", views.invoice_to_validate_view, name="invoice_to_validate"),
    path(
        "factures/a-valider/<int:invoice_id>/document/",
        views.invoice_to_validate_document_view,
        name="invoice_to_validate_document",
    ),
    path(
        "factures/a-valider/<int:invoice_id>/pieces/<int:attachment_id>/",
        views.invoice_to_validate_attachment_view,
        name="invoice_to_validate_attachment",
    ),
    path(
        "factures/<int:invoice_id>/corriger-valideur/",
        views.invoice_valideur_correct_view,
        name="invoice_valideur_correct",
    ),
]
