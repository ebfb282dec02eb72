"""The Transverses operations around uploaded files and the directory download, beyond their golden pairs:
what they change and what the files hold."""

from __future__ import annotations

import base64
import csv
import io

from choeur.api.models import ApiUploadedFile
from tests.api import transverses_world


def test_annuaire_lists_every_active_public_structure_with_its_services(cpro, world):
    body = cpro.post("transverses/v1/telecharger/annuaire/destinataire", {}).json()

    text = base64.b64decode(body["fichierResultat"]).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    identifiers = {row["Identifiant"] for row in rows}
    assert world["structure:commune"].identifier in identifiers
    assert world["structure:fournisseur"].identifier not in identifiers  # a private supplier is not a recipient
    commune = world["structure:commune"]
    commune_rows = [row for row in rows if row["Identifiant"] == commune.identifier]
    expected = set(commune.services.values_list("code", flat=True))
    assert expected, "la commune du monde de test a des services"
    assert {row["Code service"] for row in commune_rows} == expected
    assert {row["Raison sociale"] for row in commune_rows} == {commune.designation}


def test_detacher_removes_the_pending_upload_only(cpro, world):
    transverses_world.uploads_pending(world)
    pending = world.refs["piece:bon-de-livraison"]

    assert cpro.post("transverses/v1/detacherPieceJointe", {"idPieceJointeObjet": pending}).status_code == 200
    assert not ApiUploadedFile.objects.filter(pk=pending).exists()
    # Gone: a second call does not find it, and another structure's file is as unknown.
    again = cpro.post("transverses/v1/detacherPieceJointe", {"idPieceJointeObjet": pending})
    assert again.status_code == 400 and "introuvable" in again.json()["libelle"]
    other = cpro.post(
        "transverses/v1/detacherPieceJointe",
        {"idPieceJointeObjet": world.refs["piece:proces-verbal"]},
        raccordement=world.autre,
    )
    assert other.status_code == 400
    assert ApiUploadedFile.objects.filter(pk=world.refs["piece:proces-verbal"]).exists()


def test_a_misspelt_line_page_field_is_still_refused_naming_it(cpro, world):
    response = cpro.post(
        "factures/v1/consulter/fournisseur",
        {"identifiantFactureCPP": 1, "pLignesPoste": {"nbResultatsParPageLignesPostes": 5}},
    )
    assert response.status_code == 400
    assert "nbResultatsParPageLignesPostes" in response.json()["libelle"]


def test_ajouter_fichier_at_its_transverses_path_feeds_soumettre(cpro, world):
    uploaded = cpro.post(
        "transverses/v1/ajouter/fichier",
        {
            "pieceJointeExtension": "pdf",
            "pieceJointeFichier": base64.b64encode(transverses_world.PDF).decode(),
            "pieceJointeNom": "bon-de-livraison",
            "pieceJointeTypeMime": "application/pdf",
        },
    ).json()
    found = cpro.post("transverses/v1/rechercher/pj/moncompte", {"pieceJointeTypeId": 1}).json()
    assert [item["pieceJointeId"] for item in found["listePiecesJointes"]] == [uploaded["pieceJointeId"]]


def test_consulter_cr_renders_its_pdf_once_per_state(cpro, world):
    from unittest import mock

    from choeur.flows import cr
    from choeur.flows.models import Flow
    from tests.api import factures_world

    factures_world.flow_deposited(world)
    numero = next(iter(world.strings))
    with mock.patch.object(cr, "flow_cr_pdf", wraps=cr.flow_cr_pdf) as render:
        for _ in range(3):
            assert cpro.post("transverses/v1/consulterCR", {"numeroFluxDepot": numero}).status_code == 200
        assert render.call_count == 1
        # A new state: a new report.
        flow = Flow.objects.get(numero_flux_depot=numero)
        Flow.objects.filter(pk=flow.pk).update(
            state="IN_REJETE", state_changed_at=flow.state_changed_at.replace(year=2027)
        )
        body = cpro.post("transverses/v1/consulterCR", {"numeroFluxDepot": numero}).json()
        assert render.call_count == 2
        assert body["etatCourantFlux"] == "IN_REJETE"
