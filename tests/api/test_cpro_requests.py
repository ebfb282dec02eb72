"""Bad input always gets the envelope, HTTP 400 and a French sentence naming the field; never a 500, never
Ninja's {"detail": …}. And the forms real Chorus clients send are accepted."""

from __future__ import annotations

import pytest

from choeur.api import selectors
from tests.api.test_cpro_auth import assert_envelope

RECHERCHER = "structures/v1/rechercher"
SERVICES = "structures/v1/rechercher/services"


@pytest.mark.parametrize("raw", ["{bad", '{"structure": }', "\x00", "[1, 2", "{'simple': 'quotes'}"])
def test_malformed_json(cpro, raw):
    body = assert_envelope(cpro.post(RECHERCHER, raw=raw), 400, 10201, "JSON valide", "ligne")
    assert "detail" not in body


def test_body_not_in_utf8(client, world):
    response = client.post(
        f"/cpro/{RECHERCHER}",
        data='{"structure": {"raisonSocialeStructure": "é"}}'.encode("latin-1"),
        content_type="application/json",
        headers=world.fournisseur.headers(),
    )
    assert_envelope(response, 400, 10201)


def test_body_that_is_not_an_object(cpro):
    assert_envelope(cpro.post(RECHERCHER, raw="[1]"), 400, 10204, "objet JSON")


def test_empty_body_when_fields_are_required(cpro):
    assert_envelope(cpro.post(SERVICES, raw=""), 400, 10203, "corps de la requête est vide")


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"idStructure": "abc"}, "idStructure", ["nombre entier", '"abc"']),
        ({"idStructure": 1.5}, "idStructure", ["nombre entier"]),
        ({"idStructure": {"id": 1}}, "idStructure", ["nombre entier", "un objet JSON"]),
        (
            {"idStructure": 1, "parametresRechercherServicesStructure": [1]},
            "parametresRechercherServicesStructure",
            ["objet JSON"],
        ),
        (
            {"idStructure": 1, "parametresRechercherServicesStructure": {"nbResultatsParPage": -1}},
            "parametresRechercherServicesStructure.nbResultatsParPage",
            ["supérieur ou égal à 0"],
        ),
        (
            {"idStructure": 1, "parametresRechercherServicesStructure": {"nbResultatsParPage": 10001}},
            "parametresRechercherServicesStructure.nbResultatsParPage",
            ["inférieur ou égal à 10000"],
        ),
        (
            {"idStructure": 1, "parametresRechercherServicesStructure": {"triSens": "Haut"}},
            "parametresRechercherServicesStructure.triSens",
            ["Ascendant", "Descendant"],
        ),
    ],
)
def test_wrong_types_name_the_field(cpro, body, field, words):
    assert_envelope(cpro.post(SERVICES, body), 400, 10204, f"« {field} »", *words)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"restreindreStructuresPrivees": "peut-être"}, "restreindreStructuresPrivees"),
        ({"structure": {"typeStructure": "MIXTE"}}, "structure.typeStructure"),
        ({"structure": {"typeIdentifiantStructure": "SIREN"}}, "structure.typeIdentifiantStructure"),
        ({"structure": {"estMOA": "oui"}}, "structure.estMOA"),
        ({"structure": {"raisonSocialeStructure": 12}}, "structure.raisonSocialeStructure"),
    ],
)
def test_invalid_values_name_the_field(cpro, body, field):
    body = assert_envelope(cpro.post(RECHERCHER, body), 400, 10204, f"« {field} »")
    assert "Le champ" in body["libelle"]


def test_enum_error_lists_the_accepted_values(cpro):
    assert_envelope(
        cpro.post(RECHERCHER, {"structure": {"typeStructure": "MIXTE"}}), 400, 10204, "'PRIVEE', 'PUBLIQUE'"
    )


def test_unknown_fields_are_named_with_the_accepted_ones(cpro):
    body = assert_envelope(
        cpro.post(RECHERCHER, {"structure": {"raisonSociale": "x"}, "pagination": {}}),
        400,
        10202,
        "« structure.raisonSociale »",
        "raisonSocialeStructure",
        "« pagination »",
        "restreindreStructuresPrivees",
    )
    assert "n'existe pas" in body["libelle"]


def test_missing_field(cpro):
    assert_envelope(cpro.post(SERVICES, {}), 400, 10203, "« idStructure » est obligatoire")
    assert_envelope(cpro.post("structures/v1/consulter", {"codeLangue": "FR"}), 400, 10203, "« idStructureCPP »")
    assert_envelope(
        cpro.post("structures/v1/lister/rattachementsutilisateur", {}),
        400,
        10203,
        "« idUtilisateur »",
        "« adresseEmailConnexionUtilisateur »",
    )


def test_unknown_sort_column_lists_the_columns(cpro, world):
    body = {
        "idStructure": world.refs["structure:commune"],
        "parametresRechercherServicesStructure": {"triColonne": "Nom"},
    }
    assert_envelope(
        cpro.post(SERVICES, body),
        400,
        10204,
        "« parametresRechercherServicesStructure.triColonne »",
        "CodeService, LibelleService, DateDbtService, DateFinService, EstActif",
    )


def test_invalid_siret(cpro):
    assert_envelope(
        cpro.post("transverses/v1/consulter/information/siret", {"siretStructure": "21690123100012"}),
        400,
        10204,
        "« siretStructure »",
        "clé de contrôle",
    )


def test_invalid_code_langue(cpro):
    assert_envelope(cpro.post("transverses/v1/recuperer/pays", {"codeLangue": "DE"}), 400, 10204, "« codeLangue »")


def test_processing_states_of_an_unknown_status(cpro):
    assert_envelope(
        cpro.post("transverses/v1/recuperer/etats/traitement", {"statutCourant": "PAYEE"}),
        400,
        10204,
        "« statutCourant »",
        "MISE_A_DISPOSITION",
    )


def test_processing_states_of_a_final_status_is_no_result(cpro):
    answer = cpro.post("transverses/v1/recuperer/etats/traitement", {"statutCourant": "MISE_EN_PAIEMENT"})
    assert (answer.status_code, answer.json()["codeRetour"]) == (200, 20000)


def test_unknown_operation(cpro, client):
    assert_envelope(cpro.post("structures/v1/chercher", {}), 404, 10404, "/cpro/structures/v1/chercher")
    # Without any credential too: the path is wrong before anything else.
    assert_envelope(client.get("/cpro/factures/v2/rechercher"), 404, 10404)


def test_wrong_method(cpro):
    response = cpro.get(RECHERCHER)
    assert_envelope(response, 405, 10405, "POST")
    assert response["Allow"] == "POST"


def test_internal_error_leaks_nothing(cpro, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("secret interne : /var/lib/base")

    monkeypatch.setattr(selectors, "structures_search", explode)
    body = assert_envelope(cpro.post(RECHERCHER, {}), 500, 50000, "référence")
    assert "secret interne" not in body["libelle"]
    assert "Traceback" not in body["libelle"]


# ---------------------------------------------------------------------------------------------------
# What real clients send
# ---------------------------------------------------------------------------------------------------


def test_go_client_request_shapes(cpro, world):
    """go-choruspro sends every criterion, empty ones as "", `estMOA: false`, `triSense` with a trailing
    space, and `idStructure` for consulter."""
    body = {
        "parametres": {"nbResultatsParPage": 2, "pageResultatDemandee": 1, "triColonne": "", "triSense": "Descendant"},
        "restreindreStructuresPrivees": False,
        "structure": {
            "adresseCodePays": "",
            "adresseCodePostal": "",
            "adresseVille": "",
            "estMOA": False,
            "estMOAUniquement": False,
            "identifiantStructure": "2169",
            "libelleStructure": "",
            "nomStructure": "",
            "prenomStructure": "",
            "raisonSocialeStructure": "",
            "statutStructure": "",
            "typeIdentifiantStructure": "",
            "typeStructure": "",
        },
    }
    response = cpro.post(RECHERCHER, body)
    assert response.status_code == 200, response.content
    identifiers = [s["identifiantStructure"] for s in response.json()["listeStructures"]]
    assert identifiers == ["21690999400016", "21690123100011"]
    body["parametres"]["triSense"] = "Ascendant "
    assert cpro.post(RECHERCHER, body).json()["listeStructures"][0]["identifiantStructure"] == "21690123100011"
    consult = cpro.post("structures/v1/consulter", {"codeLangue": "", "idStructure": world.refs["structure:commune"]})
    assert consult.json()["informationGenerales"]["raisonSocialeStructure"] == "Commune de Valfleurie"


def test_php_client_pagination_fields(cpro, world):
    body = {
        "idStructure": world.refs["structure:commune"],
        "parametresRechercherServicesStructure": {
            "pageResultatDemandee": 0,
            "nbResultatsParPage": 0,
            "triSens": "Descendant",
            "triColonne": "CodeService",
            "champsDeTri": [],
            "ordreTriGenerique": "Descendant",
            "taillePageGenerique": 0,
            "indexPageGenerique": 0,
        },
    }
    response = cpro.post(SERVICES, body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["parametresRetour"] == {"pageCourante": 1, "pages": 1, "nbResultatsParPage": 10, "total": 4}
    assert [s["codeService"] for s in data["listeServices"]] == ["VOIRIE", "FACTURES_PUBLIQUES", "ECOLES", "ANCIEN"]


def test_pastell_request_shapes(cpro, world):
    """Pastell sends `restreindreStructuresPrivees: ""`, `{}` to recuperer/tauxtva and no pagination."""
    found = cpro.post(
        RECHERCHER, {"structure": {"identifiantStructure": "21690123100011"}, "restreindreStructuresPrivees": ""}
    )
    assert found.json()["listeStructures"][0]["idStructureCPP"] == world.refs["structure:commune"]
    assert cpro.post("transverses/v1/recuperer/tauxtva", {}).json()["codeRetour"] == 0
    services = cpro.post(SERVICES, {"idStructure": world.refs["structure:commune"]})
    assert services.json()["parametresRetour"]["total"] == 4


def test_odoo_request_shapes(cpro, world):
    """Odoo looks a partner up by SIRET, reads its parametres, then asks 10 000 services in one page."""
    found = cpro.post(
        RECHERCHER, {"structure": {"identifiantStructure": "21690123100011", "typeIdentifiantStructure": "SIRET"}}
    )
    (structure,) = found.json()["listeStructures"]
    consult = cpro.post("structures/v1/consulter", {"idStructureCPP": structure["idStructureCPP"]})
    assert consult.json()["parametres"]["codeServiceDoitEtreRenseigne"] is True
    services = cpro.post(
        SERVICES,
        {
            "idStructure": structure["idStructureCPP"],
            "parametresRechercherServicesStructure": {"nbResultatsParPage": 10000},
        },
    )
    assert services.json()["parametresRetour"]["nbResultatsParPage"] == 10000


@pytest.mark.parametrize("raw", ["", "null", "{}", '{"idUtilisateurCourant": 0}'])
def test_operations_without_criteria_accept_any_empty_body(cpro, raw):
    response = cpro.post("transverses/v1/recuperer/modedepot", raw=raw)
    assert response.status_code == 200, response.content
    assert response.json()["codeRetour"] == 0


def test_id_utilisateur_courant_is_accepted_everywhere(cpro, world):
    body = {"idUtilisateurCourant": 0, "idStructure": world.refs["structure:commune"]}
    assert cpro.post(SERVICES, body).status_code == 200
    assert (
        cpro.post("transverses/v1/recuperer/pays", {"idUtilisateurCourant": 12, "codeLangue": "en"}).status_code == 200
    )


def test_responses_are_utf8_json(cpro):
    response = cpro.post("transverses/v1/recuperer/pays", {})
    assert "Émirats arabes unis" in response.content.decode("utf-8")
