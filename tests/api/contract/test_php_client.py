"""Contract of the PHP client (Gizmo091/piste-gouv-fr): `deposerPDFFacture` then `soumettreFacture` in
DEPOT_PDF_API mode, as its example « deposerFactureEtSoumettre » runs them, then `detacherPieceJointe` of a
file left unused (its catch branch) and `recupererStructuresPourUtilisateur` (`{"espaceFo": 0}`, its curl).

Bodies transcribed from Api/ChorusPro/Factures.php (deposerPDFFacture: idUtilisateurCourant, fichierFacture,
nomFichier, formatDepot) and Api/ChorusPro/Transverses.php (detacherPieceJointe: idPieceJointeObjet;
recupererStructuresPourUtilisateur: espaceFo); soumettre uses the reference's field names (chorus-pro.md
§8.3) with its pieceJointePrincipale list of {pieceJointePrincipaleDesignation, pieceJointePrincipaleId}."""

from __future__ import annotations

import base64

from tests.api.contract.test_go_client import _soumettre_body
from tests.api.factures_world import PDF


def test_deposer_pdf_then_soumettre_with_the_php_client_requests(cpro, world):
    deposited = cpro.post(
        "factures/v1/deposer/pdf",
        {
            "idUtilisateurCourant": 0,
            "fichierFacture": base64.b64encode(PDF).decode(),
            "nomFichier": "facture-f-2026-0102.pdf",
            "formatDepot": "PDF_NON_SIGNE",
        },
    )
    assert deposited.status_code == 200, deposited.content
    # WsRetourDeposerPdfFacture reads pieceJointeId (and the data Chorus Pro extracted, when it could).
    piece_id = deposited.json()["pieceJointeId"]

    body = _soumettre_body(world, piece_id=0)
    body.pop("pieceJointeComplementaire")
    body["modeDepot"] = "DEPOT_PDF_API"
    body["idUtilisateurCourant"] = 0
    body["pieceJointePrincipale"] = [
        {"pieceJointePrincipaleDesignation": "Facture", "pieceJointePrincipaleId": piece_id}
    ]
    submitted = cpro.post("factures/v1/soumettre", body)
    assert submitted.status_code == 200, submitted.content
    invoice_id = submitted.json()["identifiantFactureCPP"]

    facture = cpro.post("factures/v1/consulter/fournisseur", {"identifiantFactureCPP": invoice_id}).json()["facture"]
    assert facture["modeDepot"] == "DEPOT_PDF_API"
    assert facture["pieceJointePrincipale"]["idPieceJointePrincipale"]
    # The PDF deposited is the invoice's document.
    downloaded = cpro.post(
        "factures/v1/telecharger/groupe", {"listeFacture": [{"idFacture": invoice_id}], "format": "PDF"}
    ).json()
    assert base64.b64decode(downloaded["fichierResultat"]) == PDF


def test_an_unused_upload_is_detached_and_structures_listed_like_the_php_client(cpro, world):
    piece_id = cpro.post(
        "transverses/v1/ajouter/fichier",
        {"pieceJointeFichier": base64.b64encode(PDF).decode(), "pieceJointeNom": "annexe.pdf"},
    ).json()["pieceJointeId"]

    assert cpro.post("transverses/v1/detacherPieceJointe", {"idPieceJointeObjet": piece_id}).json()["codeRetour"] == 0
    # Detached: soumettre can no longer cite it.
    body = _soumettre_body(world, piece_id=piece_id)
    refused = cpro.post("factures/v1/soumettre", body)
    assert refused.status_code == 400 and "introuvable" in refused.json()["libelle"]

    listed = cpro.post("transverses/v1/recuperer/structuresPourUtilisateur", {"espaceFo": 0}).json()
    assert [s["idStructure"] for s in listed["listeStructures"]] == [world.refs["structure:fournisseur"]]
