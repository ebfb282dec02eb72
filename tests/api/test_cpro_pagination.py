"""Chorus Pro's page-number pagination: defaults, walking the pages, sorting, the maximum, past the end."""

from __future__ import annotations

from tests.directory.factories import ServiceFactory

SERVICES = "structures/v1/rechercher/services"


def _page(cpro, structure_id, **params):
    return cpro.post(SERVICES, {"idStructure": structure_id, "parametresRechercherServicesStructure": params}).json()


def test_default_page_size_is_10_and_pages_cover_everything(cpro, world):
    commune = world["structure:commune"]
    for n in range(21):
        ServiceFactory(structure=commune, code=f"S{n:02d}", libelle=f"Service {n:02d}")
    first = cpro.post(SERVICES, {"idStructure": commune.pk}).json()
    assert first["parametresRetour"] == {"pageCourante": 1, "pages": 3, "nbResultatsParPage": 10, "total": 25}
    seen = []
    for page in (1, 2, 3):
        data = _page(cpro, commune.pk, pageResultatDemandee=page)
        assert data["parametresRetour"]["pageCourante"] == page
        seen += [s["codeService"] for s in data["listeServices"]]
    assert len(seen) == len(set(seen)) == 25
    assert seen == sorted(seen)


def test_page_past_the_end_answers_no_result(cpro, world):
    data = _page(cpro, world.refs["structure:commune"], pageResultatDemandee=2)
    assert data["codeRetour"] == 20000
    assert data["listeServices"] == []
    assert data["parametresRetour"] == {"pageCourante": 2, "pages": 1, "nbResultatsParPage": 10, "total": 4}


def test_sort_by_each_listed_column(cpro, world):
    commune = world.refs["structure:commune"]
    by_label = _page(cpro, commune, triColonne="LibelleService", triSens="Descendant")
    labels = [s["libelleService"] for s in by_label["listeServices"]]
    assert labels == sorted(labels, reverse=True)
    by_end = _page(cpro, commune, triColonne="datefinservice", triSens="ascendant")
    assert by_end["codeRetour"] == 0
    by_active = _page(cpro, commune, triColonne="EstActif", triSens="Descendant")
    assert by_active["listeServices"][-1]["codeService"] == "ANCIEN"


def test_maximum_caps_the_total(cpro, world):
    data = _page(cpro, world.refs["structure:commune"], nbResultatsParPage=3, nbResultatsMaximum=2)
    assert data["parametresRetour"] == {"pageCourante": 1, "pages": 1, "nbResultatsParPage": 3, "total": 2}
    assert len(data["listeServices"]) == 2


def test_structures_sort_on_the_designation_shown(cpro, world):
    commune = world["structure:commune"]
    commune.libelle = "Aaa — mairie"
    commune.save(update_fields=["libelle"])
    data = cpro.post(
        "structures/v1/rechercher",
        {"structure": {"typeStructure": "PUBLIQUE"}, "parametres": {"triColonne": "DesignationStructure"}},
    ).json()
    assert data["listeStructures"][0]["designationStructure"] == "Aaa — mairie"
