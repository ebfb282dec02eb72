"""`factures/v1` and the flow CRs: bad input gets a precise envelope (never a 500), another structure's ids
get the answer of nonexistent ones, and the rules (motif, conflicts, sizes, one use per uploaded file)."""

from __future__ import annotations

import base64

import pytest

from choeur.api.models import ApiUploadedFile
from choeur.invoices.models import Invoice
from tests.api import factures_world

pytestmark = pytest.mark.django_db

PDF = factures_world.PDF


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def envelope(response, status: int, code: int) -> str:
    body = response.json()
    assert (response.status_code, body["codeRetour"]) == (status, code), body
    return body["libelle"]


def test_malformed_json_names_line_and_column(cpro):
    response = cpro.post("factures/v1/consulter/fournisseur", raw='{"identifiantFactureCPP": 1,,}')
    assert "ligne 1" in envelope(response, 400, 10201)


def test_unknown_field_is_named(cpro):
    response = cpro.post("factures/v1/soumettre", {"numeroFactureSaisi": "F-1", "numeroFacture": "F-1"})
    assert "numeroFacture" in envelope(response, 400, 10202)


def test_wrong_type_is_refused(cpro):
    response = cpro.post("factures/v1/consulter/historique", {"idFacture": "douze"})
    assert "idFacture" in envelope(response, 400, 10204)


def test_bad_base64_names_the_field(cpro):
    response = cpro.post("factures/v1/deposer/flux", {"fichierFlux": "pas du base64 !", "nomFichier": "f.xml"})
    assert "fichierFlux" in envelope(response, 400, 10204)


def test_missing_file_name(cpro):
    response = cpro.post("factures/v1/deposer/flux", {"fichierFlux": b64(b"<x/>")})
    assert "nomFichier" in envelope(response, 400, 10203)


def test_attachment_above_10_mo_is_20003(cpro):
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 1)
    response = cpro.post("factures/v1/ajouter/fichier", {"pieceJointeFichier": b64(big), "pieceJointeNom": "gros.pdf"})
    assert "10 Mo" in envelope(response, 400, 20003)


def test_attachment_whose_content_is_not_its_extension(cpro):
    response = cpro.post(
        "factures/v1/ajouter/fichier", {"pieceJointeFichier": b64(b"texte"), "pieceJointeNom": "a.pdf"}
    )
    assert "pdf" in envelope(response, 400, 21002).lower()


def test_another_structures_invoice_is_answered_like_a_missing_one(cpro, world):
    factures_world.invoice_sent(world)
    invoice = world["invoice:envoyee"]
    theirs = cpro.post(
        "factures/v1/consulter/fournisseur", {"identifiantFactureCPP": invoice.pk}, raccordement=world.autre
    )
    missing = cpro.post("factures/v1/consulter/fournisseur", {"identifiantFactureCPP": invoice.pk + 1000})
    assert envelope(theirs, 400, 21001) == envelope(missing, 400, 21001)
    for path, body in (
        ("factures/v1/consulter/historique", {"idFacture": invoice.pk}),
        ("factures/v1/telecharger/groupe", {"listeFacture": [{"idFacture": invoice.pk}]}),
        ("factures/v1/traiterRejet", {"listeDemandePaiement": [{"idDemandePaiement": invoice.pk}]}),
    ):
        assert envelope(cpro.post(path, body, raccordement=world.autre), 400, 21001) == envelope(missing, 400, 21001)
    # The supplier itself cannot read its invoice as a recipient, nor process it.
    assert cpro.post("factures/v1/consulter/recipiendaire", {"identifiantFactureCPP": invoice.pk}).status_code == 400
    processed = cpro.post("factures/v1/traiter/recue", {"idFacture": invoice.pk, "nouveauStatut": "SERVICE_FAIT"})
    envelope(processed, 400, 21001)
    assert Invoice.objects.get(pk=invoice.pk).status == "MISE_A_DISPOSITION"


def test_search_without_result_is_20000(cpro, world):
    response = cpro.post("factures/v1/rechercher/fournisseur", {"numeroFluxDepot": "FLUX-INCONNU"})
    assert envelope(response, 200, 20000).endswith("La recherche n'a retourné aucun résultat")
    assert response.json()["listeFactures"] == []


def test_search_refuses_an_unknown_status(cpro, world):
    response = cpro.post("factures/v1/rechercher/fournisseur", {"statutCourant": ["PAYEE"]})
    assert "PAYEE" in envelope(response, 400, 10204)


def test_rejection_requires_a_motif_and_free_text_is_kept(cpro, world):
    factures_world.invoice_sent(world)
    invoice = world["invoice:envoyee"]
    commune = factures_world._recipient_raccordement(world)
    body = {"idFacture": invoice.pk, "nouveauStatut": "REJETEE"}
    assert "motif" in envelope(cpro.post("factures/v1/traiter/recue", body, raccordement=commune), 400, 10203)
    answer = cpro.post(
        "factures/v1/traiter/recue", {**body, "motif": "Montant différent du devis"}, raccordement=commune
    )
    assert answer.json()["nouveauStatut"] == "REJETEE"
    change = invoice.status_changes.order_by("-id").first()
    assert (change.motif, change.comment) == ("AUTRE_REJET", "Montant différent du devis")


def test_unknown_target_status_lists_the_possible_ones(cpro, world):
    factures_world.invoice_sent(world)
    commune = factures_world._recipient_raccordement(world)
    response = cpro.post(
        "factures/v1/traiter/recue",
        {"idFacture": world["invoice:envoyee"].pk, "nouveauStatut": "PAYEE"},
        raccordement=commune,
    )
    assert "MISE_EN_PAIEMENT" in envelope(response, 400, 10204)


def test_stale_expected_status_is_a_409(cpro, world):
    factures_world.invoice_sent(world)
    commune = factures_world._recipient_raccordement(world)
    body = {"idFacture": world["invoice:envoyee"].pk, "nouveauStatut": "SERVICE_FAIT"}
    assert cpro.post("factures/v1/traiter/recue", body, raccordement=commune).status_code == 200
    again = cpro.post(
        "factures/v1/traiter/recue",
        {**body, "nouveauStatut": "MANDATEE", "numeroDPMandat": "M-1", "statutCourantAttendu": "MISE_A_DISPOSITION"},
        raccordement=commune,
    )
    envelope(again, 409, 21003)


def test_uploaded_file_of_another_structure_cannot_be_used(cpro, world):
    factures_world.invoice_suspended(world)
    upload = world["piece:pv-reception"]
    ApiUploadedFile.objects.filter(pk=upload.pk).update(structure=world["structure:autre_prive"])
    response = cpro.post(
        "factures/v1/completer",
        {
            "identifiantFactureCPP": world["invoice:envoyee"].pk,
            "pieceJointeComplementaire": [{"pieceJointeComplementaireId": upload.pk}],
        },
    )
    envelope(response, 400, 21001)
    assert Invoice.objects.get(pk=world["invoice:envoyee"].pk).status == "SUSPENDUE"


def test_uploaded_file_is_used_once(cpro, world):
    factures_world.invoice_suspended(world)
    body = {
        "identifiantFactureCPP": world["invoice:envoyee"].pk,
        "pieceJointeComplementaire": [{"pieceJointeComplementaireId": world["piece:pv-reception"].pk}],
    }
    assert cpro.post("factures/v1/completer", body).json()["codeRetour"] == 0
    assert world["invoice:envoyee"].attachments.get().name == "pv-reception.pdf"
    envelope(cpro.post("factures/v1/completer", body), 400, 21001)


def test_refused_submission_lists_every_point_and_creates_nothing(cpro, world):
    before = Invoice.objects.count()
    response = cpro.post(
        "factures/v1/soumettre",
        {"numeroFactureSaisi": "F-2026-01", "destinataire": {"codeDestinataire": "21690123100011"}},
    )
    libelle = envelope(response, 400, 21002)
    assert "1) " in libelle and "2) " in libelle
    assert Invoice.objects.count() == before


def test_submission_to_an_unknown_recipient(cpro, world):
    response = cpro.post("factures/v1/soumettre", {"destinataire": {"codeDestinataire": "40000002200014"}})
    # A private structure is no recipient: the same words as a SIRET nobody has.
    assert "aucune structure publique" in envelope(response, 400, 10204)


def test_recipient_download_marks_the_invoice_downloaded(cpro, world):
    factures_world.invoice_sent(world)
    invoice = world["invoice:envoyee"]
    commune = factures_world._recipient_raccordement(world)
    answer = cpro.post(
        "factures/v1/telecharger/groupe",
        {"listeFacture": [{"idFacture": invoice.pk}], "format": "ZIP"},
        raccordement=commune,
    ).json()
    assert base64.b64decode(answer["fichierResultat"]).startswith(b"PK\x03\x04")
    assert Invoice.objects.get(pk=invoice.pk).downloaded_by_recipient
    found = cpro.post(
        "factures/v1/rechercher/recipiendaire", {"factureTelechargeeParDestinataire": False}, raccordement=commune
    )
    assert found.json()["codeRetour"] == 20000


def test_flow_of_another_structure_is_unknown(cpro, world):
    factures_world.flow_deposited(world)
    number = next(iter(world.strings))
    assert cpro.post("transverses/v1/consulterCRDetaille", {"numeroFluxDepot": number}).status_code == 200
    theirs = cpro.post("transverses/v1/consulterCR", {"numeroFluxDepot": number}, raccordement=world.autre)
    assert "Flux introuvable" in envelope(theirs, 400, 21001)
    envelope(cpro.post("transverses/v1/consulterCR", {}), 400, 10203)


@pytest.mark.parametrize("value", ["NaN", "-Infinity", "sNaN", "Infinity", "1e999999", 1e308, "-1e13"])
@pytest.mark.parametrize("path", ["factures/v1/rechercher/fournisseur", "factures/v1/rechercher/recipiendaire"])
def test_search_refuses_an_amount_filter_that_is_no_amount(cpro, world, path, value):
    # Valid JSON, valid Decimal literals, but no amount: a French 400 naming the field, never an HTML 500.
    response = cpro.post(path, {"montantTTCMin": value})
    message = envelope(response, 400, 10204)
    assert "montantTTCMin" in message and "montant fini" in message


@pytest.mark.parametrize("value", ["\x00", "\x00\x00", "FAC\x00-1", "\x1b[31m"])
def test_search_refuses_control_characters_in_a_filter(cpro, world, value):
    response = cpro.post("factures/v1/rechercher/fournisseur", {"numeroFacture": value})
    message = envelope(response, 400, 10204)
    assert "numeroFacture" in message and "caractère de contrôle" in message
