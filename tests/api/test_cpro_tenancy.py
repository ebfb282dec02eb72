"""A structure never reads another structure's private data through /cpro/, and an id of another structure
gets exactly the answer of an id that does not exist."""

from __future__ import annotations

import pytest

from tests.api.test_cpro_auth import assert_envelope

NOWHERE = 987_654_321


def same_answer(cpro, path: str, foreign: dict, missing: dict, *, raccordement=None):
    """The answer for another structure's object equals the answer for a non-existent one."""
    a = cpro.post(path, foreign, raccordement=raccordement)
    b = cpro.post(path, missing, raccordement=raccordement)
    assert (a.status_code, a.json()) == (b.status_code, b.json())
    return a


def test_bank_details_of_another_structure(cpro, world):
    response = same_answer(
        cpro,
        "transverses/v1/recuperer/coordbanc/valides",
        {"idStructure": world.refs["structure:autre_prive"]},
        {"idStructure": NOWHERE},
    )
    assert_envelope(response, 400, 21001, "introuvable")
    assert "Plomberie" not in response.content.decode()


def test_bank_details_of_a_public_structure_are_not_readable_either(cpro, world):
    assert_envelope(
        cpro.post("transverses/v1/recuperer/coordbanc/valides", {"idStructure": world.refs["structure:commune"]}),
        400,
        21001,
    )


def test_other_structure_reads_its_own_bank_details(cpro, world):
    response = cpro.post(
        "transverses/v1/recuperer/coordbanc/valides",
        {"idStructure": world.refs["structure:autre_prive"]},
        raccordement=world.autre,
    )
    assert [c["nomCoordonneeBancaire"] for c in response.json()["listeCoordonneeBancaire"]] == [
        "Compte de Plomberie Martin"
    ]


def test_inactive_bank_details_are_not_listed(cpro, world):
    response = cpro.post(
        "transverses/v1/recuperer/coordbanc/valides", {"idStructure": world.refs["structure:fournisseur"]}
    )
    assert "Ancien compte" not in response.content.decode()


def test_consult_a_private_structure(cpro, world):
    response = same_answer(
        cpro,
        "structures/v1/consulter",
        {"idStructureCPP": world.refs["structure:autre_prive"]},
        {"idStructureCPP": NOWHERE},
    )
    assert_envelope(response, 400, 21001)


def test_password_expiry_is_only_given_for_the_own_structure(cpro, world):
    own = cpro.post("structures/v1/consulter", {"idStructureCPP": world.refs["structure:fournisseur"]}).json()
    public = cpro.post("structures/v1/consulter", {"idStructureCPP": world.refs["structure:commune"]}).json()
    assert own["informationGenerales"]["dateExpirationMotPasseCompteTech"].startswith("2027-04-30")
    assert public["informationGenerales"]["dateExpirationMotPasseCompteTech"] is None


@pytest.mark.parametrize(
    "path, key",
    [
        ("structures/v1/rechercher/services", "idStructure"),
        ("transverses/v1/rechercher/serviceexecutant", "idDestinataireCPP"),
    ],
)
def test_services_of_a_private_structure(cpro, world, path, key):
    response = same_answer(cpro, path, {key: world.refs["structure:autre_prive"]}, {key: NOWHERE})
    assert_envelope(response, 400, 21001)


def test_service_of_a_private_structure(cpro, world):
    foreign = world["structure:autre_prive"].services.get().pk
    response = same_answer(cpro, "structures/v1/consulter/service", {"idService": foreign}, {"idService": NOWHERE})
    assert_envelope(response, 400, 21001)


def test_service_named_with_the_wrong_structure(cpro, world):
    body = {"idStructure": world.refs["structure:hopital"], "idService": world.refs["service:commune:ECOLES"]}
    assert_envelope(cpro.post("structures/v1/consulter/service", body), 400, 21001)


def test_espaces_of_another_structure(cpro, world):
    response = same_answer(
        cpro,
        "structures/v1/rechercher/espaces",
        {"structure": {"idStructure": world.refs["structure:commune"]}},
        {"structure": {"idStructure": NOWHERE}},
    )
    assert_envelope(response, 400, 21001)
    by_identifier = {"structure": {"identifiantStructure": "40000002200014", "typeIdentifiantStructure": "SIRET"}}
    assert_envelope(cpro.post("structures/v1/rechercher/espaces", by_identifier), 400, 21001)


def test_espaces_for_one_service(cpro, world):
    service = world.refs["service:fournisseur:FACTURES_PUBLIQUES"]
    response = cpro.post("structures/v1/rechercher/espaces", {"idService": service})
    assert {e["idService"] for e in response.json()["listeEspace"]} == {service}
    assert_envelope(
        cpro.post("structures/v1/rechercher/espaces", {"idService": world.refs["service:commune:ECOLES"]}), 400, 21001
    )


def test_rattachements_of_a_person_of_another_structure(cpro, world):
    foreign = {"adresseEmailConnexionUtilisateur": "quelqu.un@plomberie-martin.example"}
    missing = {"adresseEmailConnexionUtilisateur": "personne@nulle-part.example"}
    response = same_answer(cpro, "structures/v1/lister/rattachementsutilisateur", foreign, missing)
    assert_envelope(response, 400, 21001)
    other_structure = {
        "idStructure": world.refs["structure:autre_prive"],
        "idUtilisateur": world.refs["user:etranger"],
    }
    assert_envelope(cpro.post("structures/v1/lister/rattachementsutilisateur", other_structure), 400, 21001)


def test_pending_rattachement_without_service(cpro, world):
    response = cpro.post(
        "structures/v1/lister/rattachementsutilisateur", {"idUtilisateur": world.refs["user:demandeur"]}
    )
    data = response.json()
    assert data["premierService"] is True
    (row,) = data["listeServices"]
    assert row["statutRattachement"] == "EN_COURS_DE_VALIDATION"
    assert row["idService"] is None and row["codeService"] is None


def test_search_shows_only_the_own_private_structure_by_default(cpro, world):
    for body in ({}, {"restreindreStructuresPrivees": True}, {"restreindreStructuresPrivees": None}):
        response = cpro.post("structures/v1/rechercher", {**body, "structure": {"typeStructure": "PRIVEE"}})
        assert [s["idStructureCPP"] for s in response.json()["listeStructures"]] == [
            world.refs["structure:fournisseur"]
        ]


def test_search_without_restriction_lists_public_register_data_only(cpro, world):
    response = cpro.post(
        "structures/v1/rechercher", {"structure": {"typeStructure": "PRIVEE"}, "restreindreStructuresPrivees": False}
    )
    listed = response.json()["listeStructures"]
    assert {s["idStructureCPP"] for s in listed} == {
        world.refs["structure:fournisseur"],
        world.refs["structure:autre_prive"],
    }
    assert all(
        set(s)
        == {"idStructureCPP", "identifiantStructure", "typeIdentifiantStructure", "designationStructure", "statut"}
        for s in listed
    )


def test_active_structures_are_the_caller_only(cpro, world):
    other = cpro.post("transverses/v1/recuperer/structures/actives/fournisseur", {}, raccordement=world.autre).json()
    assert [s["idStructureCPP"] for s in other["listeStructures"]] == [world.refs["structure:autre_prive"]]


def test_recipients_are_active_public_structures(cpro, world):
    response = cpro.post("transverses/v1/rechercher/destinataire", {"identifiant": "2"})
    ids = {d["idStructureCPP"] for d in response.json()["listeDestinataires"]}
    assert ids == {world.refs["structure:commune"], world.refs["structure:hopital"]}
    private = cpro.post("transverses/v1/rechercher/destinataire", {"typeStructure": "PRIVEE"}).json()
    assert private["codeRetour"] == 20000 and private["listeDestinataires"] == []


def test_siret_information_for_an_unknown_siret(cpro):
    response = cpro.post("transverses/v1/consulter/information/siret", {"siretStructure": "732 829 320 00074"})
    assert response.status_code == 200
    assert response.json() == {
        "codeRetour": 20000,
        "libelle": "TRA_MSG_00.015 La recherche n'a retourné aucun résultat",
    }
