from django.urls import path

from choeur.portal.invoices_views import step_lines, step_parties, step_send, views

urlpatterns = [
    path("factures/saisir/", views.invoice_new, name="invoice_new"),
    path("factures/deposer/", views.invoice_upload, name="invoice_upload"),
    path("factures/brouillons/<int:pk>/etape/<int:step>/", views.invoice_draft_step, name="invoice_draft_step"),
    path("factures/brouillons/<int:pk>/recherche/", step_parties.invoice_party_search, name="invoice_party_search"),
    path("factures/brouillons/<int:pk>/structure/", step_parties.invoice_party_pick, name="invoice_party_pick"),
    path("factures/brouillons/<int:pk>/totaux/", step_lines.invoice_draft_totals, name="invoice_draft_totals"),
    path("factures/brouillons/<int:pk>/envoyer/", step_send.invoice_draft_send, name="invoice_draft_send"),
    path("factures/brouillons/<int:pk>/supprimer/", views.invoice_draft_remove, name="invoice_draft_delete"),
    path("factures/<int:pk>/dupliquer/", views.invoice_copy, name="invoice_duplicate"),
    path("factures/<int:pk>/modele/", views.invoice_template_create, name="invoice_template_save"),
    path("factures/modeles/<int:pk>/utiliser/", views.invoice_template_use, name="invoice_template_apply"),
    path("factures/modeles/<int:pk>/supprimer/", views.invoice_template_remove, name="invoice_template_delete"),
]
