"""Contract of the Go client (antoine2116/go-choruspro): its requests as its code builds them — the field
names of its structs, `omitempty` dropping zero values but never an empty struct — replayed against the API,
asserting the fields it then reads. A supplier journey end to end: ajouter/fichier → soumettre →
consulter/fournisseur → telecharger/groupe and telecharger/pieceJointe.

Bodies transcribed from: transverses_pieces_jointes.go (AjouterPieceOptions, TelechargerPieceJointeOptions),
factures_depots.go (SoumettreFactureOptions and its sub-structs), factures_consultations.go
(ConsulterFactureFournisseurOptions, PaginationLignesPosteOptions in pagination.go), factures_misc.go
(TelechargerGroupeFacturesOptions)."""

from __future__ import annotations

import base64

from tests.api import factures_world
from tests.api.factures_world import PDF

# Go's `TriSensAsc` constant carries a trailing space (pagination.go).
GO_TRI_SENS_ASC = "Ascendant "


def _ajouter_fichier_body() -> dict:
    # AjouterPieceOptions: pieceJointeExtension, pieceJointeFichier, pieceJointeNom, pieceJointeTypeMime (no
    # omitempty); idUtilisateurCourant omitted when 0.
    return {
        "pieceJointeExtension": "pdf",
        "pieceJointeFichier": base64.b64encode(PDF).decode(),
        "pieceJointeNom": "bon-de-livraison",
        "pieceJointeTypeMime": "application/pdf",
    }


def _soumettre_body(world, piece_id: int) -> dict:
    # SoumettreFactureOptions: struct fields are always sent (omitempty does not drop a struct), even empty
    # (`pieceJointePrincipale: {}` in SAISIE_API); pointer slices are sent when set.
    return {
        "cadreDeFacturation": {"codeCadreFacturation": "A1_FACTURE_FOURNISSEUR"},
        "commentaire": "Remplacement de vitrages — école des Tilleuls",
        "dateFacture": "2026-02-25",
        "destinataire": {"codeDestinataire": "21690123100011", "codeServiceExecutant": "ECOLES"},
        "fournisseur": {
            "codeCoordonneesBancairesFournisseur": world.refs["bank:fournisseur:principal"],
            "idFournisseur": world.refs["structure:fournisseur"],
        },
        "lignePoste": [
            {
                "lignePosteDenomination": "Vitrage feuilleté",
                "lignePosteMontantUnitaireHT": 210,
                "lignePosteNumero": 1,
                "lignePosteQuantite": 3,
                "lignePosteReference": "VITR-01",
                "lignePosteTauxTva": "TVA5",
                "lignePosteUnite": "H87",
            },
            {
                "lignePosteDenomination": "Main d'œuvre",
                "lignePosteMontantUnitaireHT": 48,
                "lignePosteNumero": 2,
                "lignePosteQuantite": 2.5,
                "lignePosteTauxTvaManuel": 20,
                "lignePosteUnite": "HUR",
            },
        ],
        # TVA5 is the 20 % rate (recuperer/tauxtva): both lines fall in one recap row.
        "ligneTva": [{"ligneTvaMontantBaseHtParTaux": 750, "ligneTvaMontantTvaParTaux": 150, "ligneTvaTaux": "TVA5"}],
        "modeDepot": "SAISIE_API",
        "montantTotal": {"montantAPayer": 900, "montantHtTotal": 750, "montantTVA": 150, "montantTtcTotal": 900},
        "numeroFactureSaisi": "F-2026-0102",
        "pieceJointeComplementaire": [
            {
                "pieceJointeComplementaireDesignation": "Bon de livraison",
                "pieceJointeComplementaireId": piece_id,
                "pieceJointeComplementaireType": "BON_DE_LIVRAISON",
            }
        ],
        "pieceJointePrincipale": {},
        "references": {
            "deviseFacture": "EUR",
            "modePaiement": "VIREMENT",
            "numeroBonCommande": "EJ-2026-0009",
            "numeroMarche": "M-2025-017",
            "typeFacture": "FACTURE",
            "typeTva": "TVA_SUR_DEBIT",
        },
    }


def test_supplier_journey_with_the_go_client_requests(cpro, world):
    uploaded = cpro.post("transverses/v1/ajouter/fichier", _ajouter_fichier_body())
    assert uploaded.status_code == 200, uploaded.content
    # AjouterPieceResponse reads codeRetour, libelle, pieceJointeId.
    piece_id = uploaded.json()["pieceJointeId"]
    assert uploaded.json()["codeRetour"] == 0 and isinstance(piece_id, int)

    submitted = cpro.post("factures/v1/soumettre", _soumettre_body(world, piece_id))
    assert submitted.status_code == 200, submitted.content
    # SoumettreFactureResponse reads these.
    answer = submitted.json()
    assert answer["codeRetour"] == 0
    assert answer["numeroFacture"] == "F-2026-0102"
    assert answer["dateDepot"] == "2026-03-02"
    assert answer["statutFacture"]
    assert answer["identifiantStructure"]
    invoice_id = answer["identifiantFactureCPP"]

    read = cpro.post(
        "factures/v1/consulter/fournisseur",
        {
            "identifiantFactureCPP": invoice_id,
            "pLignesPoste": {
                "nbResultatsParPageLignesPoste": 1,
                "pageResultatDemandeeLignesPoste": 2,
                "triSensListeLignesPoste": GO_TRI_SENS_ASC,
            },
            "pListePiecesJointes": {
                "nbResultatsParPageListePieceJointe": 10,
                "pageResultatDemandeeListePieceJointe": 1,
            },
        },
    )
    assert read.status_code == 200, read.content
    facture = read.json()["facture"]
    lines = facture["lignesDePoste"]
    # ListeLignesDePoste: the second page of one line, under the Go names.
    assert [line["lignePosteNumero"] for line in lines["lignePoste"]] == [2]
    assert (lines["pageCouranteLignesPoste"], lines["pagesLignesPoste"], lines["totalLignesPoste"]) == (2, 2, 2)
    assert lines["nbResultatsParPageLignesPoste"] == 1
    pieces = facture["listeDesPiecesJointes"]
    # The designation sent is kept, with the uploaded file's extension so that its type stays known.
    assert "Bon de livraison.pdf" in [piece["pieceJointeDesignation"] for piece in pieces["pieceJointe"]]
    assert pieces["totalListePiecesJointe"] == len(pieces["pieceJointe"])
    assert facture["montantTotal"]["montantTtcTotal"] == 900
    assert facture["numeroFacture"] == "F-2026-0102"

    downloaded = cpro.post(
        "factures/v1/telecharger/groupe",
        {"avecPiecesJointesComplementaires": "OUI", "format": "PDF", "listeFacture": [{"idFacture": invoice_id}]},
    )
    assert downloaded.status_code == 200, downloaded.content
    assert base64.b64decode(downloaded.json()["fichierResultat"])[:2] == b"PK"  # PDF and its attachment: a ZIP

    piece = cpro.post(
        "transverses/v1/telecharger/pieceJointe",
        {
            "objetPieceJointe": "DEMANDE_PAIEMENT",
            "demandePaiement": {
                "avecPiecesJointesComplementaires": "NON",
                "format": "PDF",
                "listeFacture": [{"idFacture": invoice_id}],
            },
            "engagementJuridique": None,
            "sollicitation": None,
            "structure": None,
        },
    )
    assert piece.status_code == 200, piece.content
    assert base64.b64decode(piece.json()["pieceJointe"]).startswith(b"%PDF")
    # The uploaded file now belongs to the invoice: no longer pending, no longer detachable.
    pending = cpro.post("transverses/v1/rechercher/pj/moncompte", {"pieceJointeTypeId": 1}).json()
    assert pending["listePiecesJointes"] == []


def test_two_recap_rows_at_one_rate_are_refused_naming_both(cpro, world):
    body = _soumettre_body(world, piece_id=0)
    body.pop("pieceJointeComplementaire")
    body["ligneTva"] = [
        {"ligneTvaMontantBaseHtParTaux": 630, "ligneTvaMontantTvaParTaux": 126, "ligneTvaTaux": "TVA5"},
        {"ligneTvaMontantBaseHtParTaux": 120, "ligneTvaMontantTvaParTaux": 24, "ligneTvaTauxManuel": 20},
    ]
    response = cpro.post("factures/v1/soumettre", body)
    assert response.status_code == 400, response.content
    assert "ligneTva[0] et ligneTva[1]" in response.json()["libelle"]


def test_suspended_invoice_completed_with_the_go_client_requests(cpro, world):
    factures_world.invoice_suspended(world)
    invoice_id = world.refs["invoice:envoyee"]
    piece_id = cpro.post("transverses/v1/ajouter/fichier", _ajouter_fichier_body()).json()["pieceJointeId"]

    # CompleterFactureOptions (factures_depots.go): every field omitempty.
    completed = cpro.post(
        "factures/v1/completer",
        {
            "commentaire": "Bon de livraison joint.",
            "identifiantFactureCPP": invoice_id,
            "pieceJointeComplementaire": [
                {
                    "pieceJointeComplementaireDesignation": "Bon de livraison",
                    "pieceJointeComplementaireId": piece_id,
                    "pieceJointeComplementaireType": "BON_DE_LIVRAISON",
                }
            ],
        },
    )
    assert completed.status_code == 200, completed.content
    # CompleterFactureResponse reads these.
    answer = completed.json()
    assert (answer["codeRetour"], answer["identifiantFactureCPP"]) == (0, invoice_id)
    assert answer["numeroFacture"] == "F-2026-0042" and answer["dateTraitement"] == "2026-03-02"
    facture = cpro.post("factures/v1/consulter/fournisseur", {"identifiantFactureCPP": invoice_id}).json()["facture"]
    assert facture["statutFacture"] == "COMPLETEE"
    assert "Bon de livraison.pdf" in [
        p["pieceJointeDesignation"] for p in facture["listeDesPiecesJointes"]["pieceJointe"]
    ]


def test_invoice_to_recycle_recycled_with_the_go_client_request(cpro, world):
    factures_world.invoice_to_recycle(world)
    invoice_id = world.refs["invoice:envoyee"]

    # RecyclerFactureOptions: no omitempty at its level (idUtilisateurCourant 0 is sent); the references
    # struct drops its empty fields.
    recycled = cpro.post(
        "factures/v1/recycler",
        {
            "commentaire": "Adressée au service des écoles",
            "destinataire": {"codeDestinataire": "21690123100011", "codeServiceExecutant": "ECOLES"},
            "idUtilisateurCourant": 0,
            "identifiantFactureCPP": invoice_id,
            "reference": {"numeroBonCommande": "EJ-2026-0007"},
        },
    )
    assert recycled.status_code == 200, recycled.content
    # RecyclerFactureResponse reads these.
    answer = recycled.json()
    assert (answer["codeRetour"], answer["identifiantFactureCPP"], answer["numeroFacture"]) == (
        0,
        invoice_id,
        "F-2026-0042",
    )
    assert answer["dateDepot"] and answer["statutFacture"] not in ("A_RECYCLER", "")
    facture = cpro.post("factures/v1/consulter/fournisseur", {"identifiantFactureCPP": invoice_id}).json()["facture"]
    assert facture["destinataire"]["codeServiceExecutant"] == "ECOLES"
    assert facture["references"]["numeroBonCommande"] == "EJ-2026-0007"


def test_rejected_invoice_acknowledged_with_the_go_client_request(cpro, world):
    factures_world.invoice_rejected(world)
    invoice_id = world.refs["invoice:envoyee"]

    before = cpro.post("factures/v1/rechercher/fournisseur", {"rejetTraite": True}).json()
    assert before["codeRetour"] == 20000 and not before.get("listeFactures")
    # TraiterRejetOptions (factures_traitements.go): all three fields always sent, cpltInfos may be "".
    treated = cpro.post(
        "factures/v1/traiterRejet",
        {"cpltInfos": "", "listeDemandePaiement": [{"idDemandePaiement": invoice_id}], "motifRejet": "ERREUR_MONTANT"},
    )
    assert treated.status_code == 200, treated.content
    assert treated.json()["codeRetour"] == 0
    found = cpro.post("factures/v1/rechercher/fournisseur", {"rejetTraite": True}).json()
    assert [row["identifiantFactureCPP"] for row in found["listeFactures"]] == [invoice_id]
