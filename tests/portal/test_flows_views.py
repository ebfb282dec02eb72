"""« Dépôt de flux » in the portal: who may deposit and read, the upload form, the flow page and its CR."""

import pytest
from django.urls import reverse

from choeur.directory.enums import Habilitation
from choeur.flows.enums import FlowState
from choeur.flows.models import Flow
from tests.accounts.factories import UserFactory
from tests.flows.factories import FlowFactory, subscribe, supplier_structure
from tests.flows.fixtures import zip_of
from tests.flows.flow_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _upload(client, structure, content: bytes, name: str = "lot.zip", **data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"structure": structure.pk, "fichier": SimpleUploadedFile(name, content), **data}
    return client.post(reverse("portal:flow_deposit"), data)


@pytest.fixture
def depositor_client(client, depositor):
    client.force_login(depositor)
    return client


@pytest.mark.parametrize("name", ["portal:flows", "portal:flow_deposit"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_user_without_factures_emises_cannot_deposit(client, supplier):
    outsider = UserFactory()
    client.force_login(outsider)
    response = client.get(reverse("portal:flow_deposit"))
    assert response.status_code == 403
    assert "« Factures émises »" in response.content.decode()
    assert "Déposer un flux" not in client.get(reverse("portal:flows")).content.decode()


def test_consultation_only_user_reads_but_cannot_deposit(client, supplier):
    reader = UserFactory()
    subscribe(reader, supplier, habilitation=Habilitation.CONSULTATION_UNIQUEMENT)
    flow = FlowFactory(structure=supplier, integre=True)
    client.force_login(reader)
    assert client.get(reverse("portal:flow_deposit")).status_code == 403
    assert flow.numero_flux_depot in client.get(reverse("portal:flows")).content.decode()
    assert client.get(reverse("portal:flow_detail", args=[flow.pk])).status_code == 200


def test_flow_of_another_structure_is_not_found(depositor_client):
    stranger_flow = FlowFactory(structure=supplier_structure())
    for name in ("portal:flow_detail", "portal:flow_status", "portal:flow_cr_pdf", "portal:flow_cr_json"):
        assert depositor_client.get(reverse(name, args=[stranger_flow.pk])).status_code == 404
    assert stranger_flow.numero_flux_depot not in depositor_client.get(reverse("portal:flows")).content.decode()


def test_deposit_form_renders_with_labels(depositor_client):
    response = depositor_client.get(reverse("portal:flow_deposit"))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in content
    assert "Fichier de factures" in content and "Syntaxe du flux (facultatif)" in content
    assert "Détection automatique" in content
    # A single structure: no structure choice to make.
    assert 'type="hidden" name="structure"' in content


def test_upload_processes_the_flow_and_shows_the_cr(
    supplier, depositor_client, make_xml, django_capture_on_commit_callbacks
):
    content = zip_of(
        {
            "a.xml": make_xml(number="PF-1"),
            "b.xml": make_xml(number="PF-2", broken=True),
            "c.xml": make_xml(number="PF-3"),
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(depositor_client, supplier, content)
    flow = Flow.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("portal:flow_detail", args=[flow.pk])
    page = depositor_client.get(response["Location"]).content.decode()
    assert f"Flux {flow.numero_flux_depot} reçu" in page
    assert "IN_INTEGRE_PARTIEL" in page and "Intégré partiellement" in page
    assert "Factures rejetées" in page and "PF-2" in page and "BR-CO-16" in page
    assert "Factures intégrées" in page and "PF-1" in page and "PF-3" in page
    assert 'hx-trigger="every 2s"' not in page  # final: no more polling
    assert reverse("portal:flow_cr_pdf", args=[flow.pk]) in page


def test_same_file_again_points_to_the_first_flow(
    supplier, depositor_client, make_xml, django_capture_on_commit_callbacks
):
    content = make_xml(number="PF-9")
    with django_capture_on_commit_callbacks(execute=True):
        _upload(depositor_client, supplier, content, "f.xml")
        response = _upload(depositor_client, supplier, content, "f.xml")
    flow = Flow.objects.get()
    assert response["Location"] == reverse("portal:flow_detail", args=[flow.pk])
    assert "a déjà été déposé" in depositor_client.get(response["Location"]).content.decode()


def test_oversized_file_is_refused_on_the_field(supplier, depositor_client, settings):
    settings.CHOEUR_FLOW_MAX_BYTES = 100
    response = _upload(depositor_client, supplier, b"<Invoice>" + b"x" * 200 + b"</Invoice>", "gros.xml")
    assert response.status_code == 400
    assert "au-delà de la limite de" in response.content.decode()
    assert not Flow.objects.exists()


def test_unsupported_syntax_is_refused_on_the_field(supplier, depositor_client, make_xml):
    response = _upload(depositor_client, supplier, make_xml(), "f.xml", syntaxe_flux="IN_DP_E1_XCBL")
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Flow.objects.exists()


def test_pending_flow_page_polls_its_status_every_two_seconds(depositor_client, supplier):
    flow = FlowFactory(structure=supplier, state=FlowState.IN_EN_COURS_TRAITEMENT_CPP, document_count=4)
    page = depositor_client.get(reverse("portal:flow_detail", args=[flow.pk])).content.decode()
    assert f'hx-get="{reverse("portal:flow_status", args=[flow.pk])}"' in page
    assert 'hx-trigger="every 2s"' in page
    assert "0 facture traitée sur 4" in page
    fragment = depositor_client.get(reverse("portal:flow_status", args=[flow.pk]), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and fragment["Cache-Control"] == "no-store"
    assert "<html" not in fragment.content.decode() and "every 2s" in fragment.content.decode()
    # Once final, the fragment stops the polling.
    Flow.objects.filter(pk=flow.pk).update(state=FlowState.IN_REJETE)
    final = depositor_client.get(reverse("portal:flow_status", args=[flow.pk])).content.decode()
    assert "every 2s" not in final and "Rejeté" in final


def test_cr_downloads(depositor_client, deposit, make_xml):
    flow, _ = deposit(make_xml(number="PF-20"), "f.xml")
    pdf = depositor_client.get(reverse("portal:flow_cr_pdf", args=[flow.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert "attachment" in pdf["Content-Disposition"]
    data = depositor_client.get(reverse("portal:flow_cr_json", args=[flow.pk])).json()
    assert data["numeroFluxDepot"] == flow.numero_flux_depot and data["etatCourantFlux"] == "IN_INTEGRE"


def test_list_paginates(depositor_client, supplier):
    for _ in range(23):
        FlowFactory(structure=supplier)
    first = depositor_client.get(reverse("portal:flows")).content.decode()
    assert "23 flux" in first and "fr-pagination" in first
    second = depositor_client.get(reverse("portal:flows") + "?page=2")
    assert second.status_code == 200 and second.content.decode().count("/flux/") >= 3
