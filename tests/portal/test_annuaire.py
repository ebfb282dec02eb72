"""The public annuaire pages: no login, public data only, HTMX live search that degrades to a GET form."""

from datetime import date

import pytest
from django.urls import reverse

from choeur.directory.identifiers import make_siret
from tests.directory.factories import ServiceFactory, StructureFactory

pytestmark = pytest.mark.django_db
URL = "/annuaire/"


@pytest.fixture
def hopital():
    structure = StructureFactory(
        hopital=True,
        raison_sociale="Centre hospitalier Émile-Roux",
        identifier=make_siret("26330001", "0017"),
        code_postal="33000",
        ville="Bordeaux-sur-Garonne",
        email="direction@ch-emile-roux.example",
        telephone="05 56 00 00 00",
        numero_tva="FR40303265045",
        mise_en_paiement_non_remontee=True,
    )
    ServiceFactory(structure=structure, code="PHARMACIE", libelle="Pharmacie centrale", engagement_obligatoire=True)
    ServiceFactory(structure=structure, code="FERME", libelle="Service fermé", is_active=False)
    ServiceFactory(structure=structure, code="PERIME", libelle="Service périmé", valid_until=date(2020, 1, 1))
    return structure


def test_search_page_needs_no_login(client):
    response = client.get(URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Annuaire des structures publiques" in content
    # Works without JavaScript: a real GET form with a submit button, enhanced by htmx attributes.
    assert 'method="get"' in content and 'type="submit"' in content and "hx-get" in content


@pytest.mark.parametrize(
    "params",
    [{"q": "emile roux"}, {"q": "HOSPITALIER"}, {"siret": "263 300"}, {"lieu": "33000"}, {"lieu": "bordeaux"}],
)
def test_search_finds_by_name_siret_or_place(client, hopital, params):
    StructureFactory(public=True, raison_sociale="Commune de Valfleurie", code_postal="44000", ville="Nantes")
    content = client.get(URL, params).content.decode()
    assert "Centre hospitalier Émile-Roux" in content
    assert "Valfleurie" not in content
    assert reverse("portal:annuaire_detail", args=[hopital.pk]) in content


def test_htmx_request_gets_only_the_results(client, hopital):
    response = client.get(URL, {"q": "emile"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert "Centre hospitalier Émile-Roux" in content
    assert "<html" not in content and "<form" not in content


def test_private_structures_are_never_listed(client):
    StructureFactory(raison_sociale="Entreprise Valfleurie BTP", identifier=make_siret("55330001", "0010"))
    StructureFactory(public=True, raison_sociale="Commune de Valfleurie", is_active=False)
    for params in ({"q": "valfleurie"}, {"siret": "553300"}):
        content = client.get(URL, params).content.decode()
        assert "Aucune structure publique" in content
        assert "Valfleurie BTP" not in content


def test_bad_siret_criterion_is_explained(client):
    content = client.get(URL, {"siret": "12"}).content.decode()
    assert "au moins 3 chiffres" in content


def test_results_are_paginated(client):
    for index in range(25):
        StructureFactory(public=True, raison_sociale=f"Commune de Valfleurie {index:02d}")
    first = client.get(URL, {"q": "valfleurie"}).content.decode()
    assert "25 structures trouvées" in first
    assert "Valfleurie 00" in first and "Valfleurie 24" not in first
    second = client.get(URL, {"q": "valfleurie", "page": 2}).content.decode()
    assert "Valfleurie 24" in second


def test_detail_shows_settings_and_active_services_only(client, hopital):
    response = client.get(reverse("portal:annuaire_detail", args=[hopital.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Le numéro d&#x27;engagement juridique est obligatoire." in content
    assert "ne transmet pas le statut « mise en paiement »" in content
    assert "PHARMACIE" in content and "Pharmacie centrale" in content
    assert "FACTURES_PUBLIQUES" in content
    assert "FERME" not in content and "PERIME" not in content
    # Never private data.
    for private in ("direction@ch-emile-roux.example", "05 56 00 00 00", "FR40303265045"):
        assert private not in content


def test_detail_of_a_private_or_inactive_structure_is_not_found(client):
    private = StructureFactory()
    inactive = StructureFactory(public=True, is_active=False)
    for structure in (private, inactive):
        assert client.get(reverse("portal:annuaire_detail", args=[structure.pk])).status_code == 404


def test_detail_of_a_commune_says_the_service_code_is_required(client):
    commune = StructureFactory(commune=True, is_moa=True)
    content = client.get(reverse("portal:annuaire_detail", args=[commune.pk])).content.decode()
    assert "Le code service est obligatoire." in content
    assert "maître d&#x27;ouvrage" in content
