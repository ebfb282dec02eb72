"""Compte rendu: JSON, PDF, and the exact answers of consulterCR / consulterCRDetaille."""

import base64
import io

import pytest
from pypdf import PdfReader

from choeur.flows.cr import consulter_cr, consulter_cr_detaille, flow_cr, flow_cr_pdf
from tests.flows.fixtures import zip_of
from tests.flows.flow_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def partial_flow(deposit, make_xml):
    content = zip_of(
        {
            "f1.xml": make_xml(number="CR-1"),
            "f2.xml": make_xml(number="CR-2", broken=True),
            "f3.xml": make_xml(number="CR-3"),
        }
    )
    flow, _ = deposit(content, "lot_factures.zip")
    return flow


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_consulter_cr_answers_with_chorus_keys_and_a_pdf(partial_flow):
    answer = consulter_cr(partial_flow)
    assert list(answer) == [
        "codeRetour",
        "libelle",
        "numeroFluxDepot",
        "nomFichierFlux",
        "dateDepotFlux",
        "codeInterfaceFlux",
        "codeAppliPartenaire",
        "designationPartenaire",
        "etatCourantFlux",
        "dateHeureEtatCourantFlux",
        "fichierCR",
    ]
    assert answer["codeRetour"] == 0 and answer["libelle"] == "TRA_MSG_00.000"
    assert answer["numeroFluxDepot"] == partial_flow.numero_flux_depot
    assert answer["nomFichierFlux"] == "lot_factures.zip"
    assert answer["etatCourantFlux"] == "IN_INTEGRE_PARTIEL"
    assert answer["codeInterfaceFlux"] == "FSO1110A"
    assert len(answer["dateDepotFlux"]) == 10 and "T" in answer["dateHeureEtatCourantFlux"]
    pdf = base64.b64decode(answer["fichierCR"])
    assert pdf.startswith(b"%PDF-")


def test_consulter_cr_detaille_lists_the_rejected_invoice(partial_flow, supplier, buyer):
    answer = consulter_cr_detaille(partial_flow)
    assert list(answer) == [
        "codeRetour",
        "libelle",
        "nomFichier",
        "dateDepotFlux",
        "codeInterfaceDepotFlux",
        "etatCourantDepotFlux",
        "dateHeureEtatCourantFlux",
        "listeErreurTechnique",
        "listeErreurDP",
    ]
    assert answer["etatCourantDepotFlux"] == "IN_INTEGRE_PARTIEL"
    assert answer["listeErreurTechnique"] == []
    (rejected,) = answer["listeErreurDP"]
    assert rejected["identifiantFournisseur"] == supplier.identifier
    assert rejected["identifiantDestinataire"] == buyer.identifier
    assert rejected["numeroDP"] == "CR-2"
    assert "BR-CO-16" in rejected["libelleErreurDP"]
    assert "montant à payer" in rejected["libelleErreurDP"]
    # Our richer details beside Chorus Pro's four keys.
    assert rejected["rangDansFlux"] == 2 and rejected["nomFichier"] == "f2.xml"
    detail = next(e for e in rejected["erreurs"] if e["regle"] == "BR-CO-16")
    assert detail["gravite"] == "fatal" and detail["couche"] and detail["emplacement"]


def test_json_cr_counts_and_links(partial_flow):
    cr = flow_cr(partial_flow)
    assert (cr["nombreFactures"], cr["nombreFacturesIntegrees"], cr["nombreFacturesRejetees"]) == (3, 2, 1)
    assert [entry["numeroDP"] for entry in cr["listeFacturesIntegrees"]] == ["CR-1", "CR-3"]
    assert all(entry["identifiantFactureCPP"] for entry in cr["listeFacturesIntegrees"])


def test_pdf_cr_is_in_french_and_names_the_reasons(partial_flow):
    text = _pdf_text(flow_cr_pdf(partial_flow))
    assert "Compte rendu de traitement du flux" in text
    assert partial_flow.numero_flux_depot in text
    assert "Intégré partiellement" in text
    assert "Factures rejetées" in text and "CR-2" in text and "BR-CO-16" in text
    assert "Factures intégrées" in text and "CR-1" in text


def test_cr_of_a_rejected_flow_carries_the_technical_errors(deposit, make_xml):
    flow, _ = deposit(make_xml(number="T-1"), "f.xml", syntaxe_flux="IN_DP_E2_CII_FACTURX")
    answer = consulter_cr_detaille(flow)
    assert answer["etatCourantDepotFlux"] == "IN_REJETE"
    (error,) = answer["listeErreurTechnique"]
    assert set(error) == {"codeErreur", "libelleErreur", "natureErreur"}
    assert error["codeErreur"] == "SYNTAXE_FLUX_INCOHERENTE"
    text = _pdf_text(flow_cr_pdf(flow))
    assert "Erreurs sur le flux" in text and "SYNTAXE_FLUX_INCOHERENTE" in text
