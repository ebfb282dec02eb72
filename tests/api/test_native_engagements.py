"""Native API: engagements juridiques (list, read, create, import), bounded to the caller's structure, in the
OpenAPI schema, with problem+json errors in French."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from choeur.directory.models import EngagementJuridique
from choeur.invoices.enums import InvoiceStatus
from tests.api.conftest import make_raccordement
from tests.api.native_client import NativeClient, assert_problem
from tests.directory.factories import EngagementFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def commune(world):
    return world["structure:commune"]


@pytest.fixture
def buyer_api(client, world, commune):
    return NativeClient(client, make_raccordement(commune, name="commune-native"), name="commune")


@pytest.fixture
def supplier_api(client, world):
    return NativeClient(client, world.fournisseur, name="fournisseur")


@pytest.fixture
def ej(world, commune):
    ej = EngagementFactory(
        structure=commune, supplier=world["structure:fournisseur"], number="EJ-1", amount_ttc=Decimal("1000")
    )
    InvoiceFactory(
        supplier=ej.supplier,
        recipient=commune,
        numero_engagement="EJ-1",
        status=InvoiceStatus.MISE_EN_PAIEMENT,
        total_ttc=Decimal("300.00"),
    )
    return ej


def test_buyer_and_supplier_read_the_ej_with_its_consumption(buyer_api, supplier_api, ej):
    mine = buyer_api.get("engagements").json()["results"]
    assert [(e["number"], e["side"]) for e in mine] == [("EJ-1", "acheteur")]
    assert mine[0]["consumption"] == {
        "invoiced_ttc": "300.00",
        "validated_ttc": "300.00",
        "paid_ttc": "300.00",
        "remaining_ttc": "700.00",
        "invoices": 1,
    }
    received = supplier_api.get(f"engagements/{ej.pk}").json()
    assert received["side"] == "fournisseur" and received["consumption"]["paid_ttc"] is None
    assert received["buyer"]["name"] == "Commune de Valfleurie"
    assert [e["number"] for e in supplier_api.get("engagements", side="fournisseur").json()["results"]] == ["EJ-1"]
    assert supplier_api.get("engagements", side="acheteur").json()["results"] == []


def test_nobody_reads_an_ej_of_another_structure(client, world, ej):
    stranger = NativeClient(client, world.autre, name="autre")
    assert stranger.get("engagements").json()["results"] == []
    assert_problem(stranger.get(f"engagements/{ej.pk}"), 404, "introuvable")
    other_buyer = NativeClient(client, make_raccordement(StructureFactory(public=True), name="autre-pub"), name="p")
    assert_problem(other_buyer.get(f"engagements/{ej.pk}"), 404, "introuvable")


def test_scopes_are_required(client, world, ej):
    reader = NativeClient(client, world.fournisseur, scope="invoices:read", name="sans-portee")
    assert_problem(reader.get("engagements"), 403, "portee_insuffisante")
    read_only = NativeClient(client, world.fournisseur, scope="engagements:read", name="lecture")
    assert_problem(read_only.post("engagements", {}), 403, "portee_insuffisante")


def test_a_public_structure_creates_an_ej(buyer_api, world):
    response = buyer_api.post(
        "engagements",
        {
            "number": "EJ-NEW",
            "supplier_identifier": "40000001400011",
            "amount_ttc": "250.50",
            "notified_on": "2026-02-20",
            "service_code": "VOIRIE",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["service_code"] == "VOIRIE"
    again = buyer_api.post(
        "engagements",
        {"number": "ej-new", "supplier_identifier": "40000001400011", "amount_ttc": "1", "notified_on": "2026-02-20"},
    )
    assert "a déjà un engagement" in assert_problem(again, 422, "erreur_metier")["detail"]


def test_a_supplier_cannot_create_or_import(supplier_api):
    body = {"number": "X", "supplier_identifier": "40000002200014", "amount_ttc": "1", "notified_on": "2026-02-20"}
    assert (
        "n'est pas une structure publique"
        in assert_problem(supplier_api.post("engagements", body), 403, "acces_refuse")["detail"]
    )
    response = supplier_api.upload("engagements/import", {"file": SimpleUploadedFile("ej.csv", b"x")})
    assert_problem(response, 403, "acces_refuse")
    assert not EngagementJuridique.objects.exists()


def test_import_is_idempotent_and_refuses_bad_lines_whole(buyer_api, commune):
    good = b"numero_engagement;siret_fournisseur;montant_ttc;date_notification\nEJ-A;40000001400011;10;01/02/2026\n"
    first = buyer_api.upload("engagements/import", {"file": SimpleUploadedFile("ej.csv", good)}).json()
    assert first == {"created": ["EJ-A"], "updated": [], "unchanged": []}
    second = buyer_api.upload("engagements/import", {"file": SimpleUploadedFile("ej.csv", good)}).json()
    assert second == {"created": [], "updated": [], "unchanged": ["EJ-A"]}
    bad = good + b"EJ-B;40000001400011;12,5x;01/02/2026\n"
    body = assert_problem(
        buyer_api.upload("engagements/import", {"file": SimpleUploadedFile("ej.csv", bad)}), 422, "erreur_metier"
    )
    assert body["errors"] == [
        {
            "field": "ligne 3.amount_ttc",
            "code": "ligne_invalide",
            "message": "ligne 3 : le montant TTC « 12,5x » n'est pas un nombre",
        }
    ]
    assert list(EngagementJuridique.objects.values_list("number", flat=True)) == ["EJ-A"]


def test_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/engagements", "/api/v1/engagements/{engagement_id}", "/api/v1/engagements/import"} <= set(paths)
