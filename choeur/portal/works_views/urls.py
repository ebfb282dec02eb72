from django.urls import path

from choeur.portal.works_views import views

urlpatterns = [
    path("travaux/", views.dossier_list_view, name="works_dossiers"),
    path("travaux/a-valider/", views.queue_view, name="works_queue"),
    path("travaux/deposer/", views.deposit_view, name="works_deposit"),
    path("travaux/dossiers/<int:dossier_id>/", views.dossier_view, name="works_dossier"),
    path("travaux/dossiers/<int:dossier_id>/suivante/", views.piece_next_view, name="works_piece_next"),
    path("travaux/dossiers/<int:dossier_id>/etat-acompte/", views.moe_transmit_view, name="works_moe_transmit"),
    path("travaux/dossiers/<int:dossier_id>/apercu/", views.moe_preview_view, name="works_moe_preview"),
    path("travaux/dossiers/<int:dossier_id>/refuser/", views.refuse_view, name="works_refuse"),
    path("travaux/dossiers/<int:dossier_id>/valider/", views.moa_validate_view, name="works_moa_validate"),
    path("travaux/dossiers/<int:dossier_id>/titulaire/", views.valideur_decide_view, name="works_valideur_decide"),
    path("travaux/dossiers/<int:dossier_id>/contester/", views.contest_view, name="works_contest"),
    path("travaux/dossiers/<int:dossier_id>/mettre-en-paiement/", views.pay_view, name="works_pay"),
    path("travaux/marches/", views.marche_list_view, name="works_marches"),
    path("travaux/marches/nouveau/", views.marche_create_view, name="works_marche_create"),
    path("travaux/marches/<int:marche_id>/", views.marche_view, name="works_marche"),
]
