from django.urls import path

from choeur.portal.tracking_views import bulk, downloads, views

urlpatterns = [
    path("factures/emises/", views.invoices_issued_view, name="invoices_issued"),
    path("factures/emises/traiter-rejets/", views.rejections_acknowledge_view, name="invoice_rejections_acknowledge"),
    path("factures/recues/", views.invoices_received_view, name="invoices_received"),
    path("factures/recues/traitement-en-masse/", bulk.invoices_bulk_select_view, name="invoices_bulk_select"),
    path(
        "factures/recues/traitement-en-masse/confirmer/", bulk.invoices_bulk_confirm_view, name="invoices_bulk_confirm"
    ),
    path("factures/recues/traitement-en-masse/appliquer/", bulk.invoices_bulk_apply_view, name="invoices_bulk_apply"),
    path("factures/statistiques/", views.invoice_stats_view, name="invoice_stats"),
    path("factures/<int:pk>/", views.invoice_detail_view, name="invoice_detail"),
    path("factures/<int:pk>/action/", views.invoice_action_view, name="invoice_action"),
    path("factures/<int:pk>/telecharger/<str:kind>/", downloads.invoice_download_view, name="invoice_download"),
    path(
        "factures/<int:pk>/pieces/<int:attachment_id>/",
        downloads.invoice_attachment_download_view,
        name="invoice_attachment_download",
    ),
]
