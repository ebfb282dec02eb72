from django.urls import path

from choeur.portal.flows_views import views

urlpatterns = [
    path("flux/", views.flow_list_view, name="flows"),
    path("flux/deposer/", views.flow_deposit_view, name="flow_deposit"),
    path("flux/<int:flow_id>/", views.flow_detail_view, name="flow_detail"),
    path("flux/<int:flow_id>/etat/", views.flow_status_view, name="flow_status"),
    path("flux/<int:flow_id>/compte-rendu.pdf", views.flow_cr_pdf_view, name="flow_cr_pdf"),
    path("flux/<int:flow_id>/compte-rendu.json", views.flow_cr_json_view, name="flow_cr_json"),
]
