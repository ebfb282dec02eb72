"""The valideur's operations of the Chorus-compatible API, in the API test world: Plomberie Martin
(sous-traitant, raccordement `world.autre`) sends an A9 to the Commune de Valfleurie; Menuiserie Dupont, the
titulaire (raccordement `world.fournisseur`), validates it.

Full answers are compared with golden files under tests/api/golden_valideur/ (ids turned into names, as in
test_cpro_golden.py; `CHOEUR_UPDATE_GOLDEN=1` rewrites them); the rules are checked one by one below."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from choeur.invoices.enums import Cadre, InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.services import invoice_send
from choeur.invoices.validation_circuit import invoices_validate_tacitly_due
from tests.api.conftest import FROZEN_AT
from tests.invoices.factories import InvoiceFactory, fr_vat, issuer_for

GOLDEN = Path(__file__).parent / "golden_valideur"
UPDATE = os.environ.get("CHOEUR_UPDATE_GOLDEN") == "1"
S = InvoiceStatus

# Keys of the answers holding ids, and the kind of object of the world each designates.
ID_KINDS = {
    "idFacture": "invoice",
    "identifiantFactureCPP": "invoice",
    "idFournisseur": "structure",
    "idDestinataire": "structure",
    "idValideur": "structure",
    "idValideur1": "structure",
    "idValideur2": "structure",
    "idMoa": "structure",
    "idMoe": "structure",
    "idServiceExecutant": "service",
    "idServiceFournisseur": "service",
    "coordBancairesFournisseurId": "bank",
}
# Ids of stored files and attachments are not part of the world: shown as present or absent.
OPAQUE_IDS = {"idPieceJointePrincipale", "pieceJointeId"}


def normalise(value, world, key=None):
    if isinstance(value, dict):
        return {k: normalise(v, world, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(item, world, key) for item in value]
    if key in OPAQUE_IDS and isinstance(value, int):
        return "<id>"
    kind = ID_KINDS.get(key or "")
    if kind and isinstance(value, int) and not isinstance(value, bool):
        for ref, pk in world.refs.items():
            if ref.startswith(f"{kind}:") and pk == value:
                return f"<{ref}>"
        return f"<{kind}:? {value}>"
    return value


def assert_golden(name: str, response, world):
    actual = {"status": response.status_code, "body": normalise(response.json(), world)}
    path = GOLDEN / f"{name}.response.json"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n")
    assert path.exists(), f"Réponse de référence absente : {path} (CHOEUR_UPDATE_GOLDEN=1)"
    assert actual == json.loads(path.read_text())


def send_a9(world, number="ST-2026-001", **kwargs):
    sous_traitant = world["structure:autre_prive"]
    # A VAT-registered sous-traitant (the world's Plomberie Martin has no VAT number yet).
    sous_traitant.numero_tva = fr_vat(sous_traitant.identifier)
    sous_traitant.save(update_fields=["numero_tva"])
    draft = InvoiceFactory(
        with_lines=True,
        supplier=sous_traitant,
        supplier_bank_account=world["bank:autre_prive:principal"],
        recipient=world["structure:commune"],
        recipient_service=world["service:commune:ECOLES"],
        cadre=Cadre.A9,
        valideur=world["structure:fournisseur"],
        number=number,
        invoice_date=FROZEN_AT.date(),
        numero_marche="M-2026-007",
        numero_engagement="EJ-778",
        **kwargs,
    )
    invoice = invoice_send(invoice=draft, by=issuer_for(sous_traitant))
    return world.add("invoice", number, invoice)


@pytest.fixture
def a9(world):
    return send_a9(world)


# --- rechercher / consulter -----------------------------------------------------------------------------


def test_rechercher_valideur_lists_the_invoices_to_validate(cpro, world, a9):
    response = cpro.post("factures/v1/rechercher/valideur", {"pagination": {"nbResultatsParPage": 5}})
    assert response.status_code == 200
    assert_golden("rechercher-valideur", response, world)
    body = response.json()
    assert body["listeFactures"][0]["dateLimiteValidation"] == "2026-03-17T10:00:00.000+01:00"


def test_rechercher_valideur_criteria_as_the_go_client_sends_them(cpro, world, a9):
    go_style = {
        "cadreFacturation": {},
        "idDestinataire": 0,
        "idFournisseur": 0,
        "idStructureValideur": 0,
        "montantHTMax": 0,
        "numeroFacture": "",
        "pagination": None,
        "periodeDateDepotAu": None,
        "statutCourant": None,
        "listeTypeFacture": None,
        "rechercheSirenFournisseur": False,
    }
    assert [
        f["numeroFacture"] for f in cpro.post("factures/v1/rechercher/valideur", go_style).json()["listeFactures"]
    ] == ["ST-2026-001"]
    narrow = {
        "cadreFacturation": {"codeCadreFacturation": "A9_FACTURE_SOUSTRAITANT"},
        "idFournisseur": world.refs["structure:autre_prive"],
        "statutCourant": ["A_VALIDER_1"],
        "montantTTCMin": 100,
        "periodeDateDepotDu": "2026-03-02T00:00:00Z",
        "numeroEngagement": "EJ-778",
    }
    assert cpro.post("factures/v1/rechercher/valideur", narrow).json()["codeRetour"] == 0
    for excluding in (
        {"statutCourant": ["MISE_A_DISPOSITION"]},
        {"cadreFacturation": "A12"},
        {"montantTTCMax": 1},
        {"idStructureValideur": world.refs["structure:commune"]},
    ):
        response = cpro.post("factures/v1/rechercher/valideur", excluding)
        assert response.json()["codeRetour"] == 20000, excluding
    bad = cpro.post("factures/v1/rechercher/valideur", {"statutCourant": ["A_VALIDE"]})
    assert bad.status_code == 400 and "statut inconnu" in bad.json()["libelle"]


def test_only_the_valideur_reads_the_invoice(cpro, world, a9):
    response = cpro.post("factures/v1/consulter/valideur", {"identifiantFactureCPP": a9.pk})
    assert response.status_code == 200
    assert_golden("consulter-valideur", response, world)
    facture = response.json()["facture"]
    assert facture["cadreDeFacturation"]["idValideur1"] == world.refs["structure:fournisseur"]
    assert facture["montantTotal"]["montantTtcTotal"] == float(a9.total_ttc)
    # The sous-traitant is not the valideur: the same « introuvable » as for an unknown id.
    other = cpro.post("factures/v1/consulter/valideur", {"identifiantFactureCPP": a9.pk}, raccordement=world.autre)
    assert other.status_code == 400 and other.json()["codeRetour"] == 21001
    assert not cpro.post("factures/v1/rechercher/valideur", {}, raccordement=world.autre).json()["listeFactures"]


# --- traiter/factureAValider -------------------------------------------------------------------------------


def test_validation_sends_the_invoice_to_the_commune(cpro, world, a9):
    response = cpro.post(
        "factures/v1/traiter/factureAValider",
        {
            "action": "VALIDATION",
            "idFacture": a9.pk,
            "idValideur": world.refs["structure:fournisseur"],
            "typeValideur": "TITULAIRE",
            "complementInfo": "Travaux conformes.",
        },
    )
    assert_golden("traiter-validation", response, world)
    a9.refresh_from_db()
    assert a9.status == S.MISE_A_DISPOSITION
    change = InvoiceStatusChange.objects.get(invoice=a9, transition="valider_1")
    assert (change.channel, change.comment, change.actor_structure) == (
        "API",
        "Travaux conformes.",
        world["structure:fournisseur"],
    )
    # Answered once: a second answer is refused, the invoice is no longer to validate.
    again = cpro.post(
        "factures/v1/traiter/factureAValider", {"action": "REFUS", "idFacture": a9.pk, "motifRefus": "DOUBLON"}
    )
    assert again.status_code == 400 and "n'est pas à valider" in again.json()["libelle"]


def test_refusal_needs_a_known_motif(cpro, world, a9):
    missing = cpro.post("factures/v1/traiter/factureAValider", {"action": "REFUS", "idFacture": a9.pk})
    assert missing.status_code == 400 and "« motifRefus » est obligatoire" in missing.json()["libelle"]
    unknown = cpro.post(
        "factures/v1/traiter/factureAValider",
        {"action": "REFUS", "idFacture": a9.pk, "motifRefus": "HORS_PART_COTRAITANT"},
    )
    assert unknown.status_code == 400 and "Motif de refus inconnu pour le cadre A9" in unknown.json()["libelle"]
    response = cpro.post(
        "factures/v1/traiter/factureAValider",
        {"action": "refus", "idFacture": a9.pk, "motifRefus": "3", "complementInfo": "Lot 2 non sous-traité."},
    )
    assert_golden("traiter-refus", response, world)
    assert InvoiceStatusChange.objects.get(invoice=a9, transition="refuser_1").motif == "HORS_ACTE_SOUS_TRAITANCE"


def test_traiter_refuses_what_a_valideur_cannot_do(cpro, world, a9):
    cases = [
        ({"action": "VALIDER", "idFacture": a9.pk}, "utilisez VALIDATION, REFUS ou ERREUR_VALIDEUR"),
        ({"action": "REJET", "idFacture": a9.pk}, "action réservée au destinataire"),
        ({"action": "VALIDATION"}, "« idFacture » est obligatoire"),
        (
            {"action": "VALIDATION", "idFacture": a9.pk, "idPieceJointe": 12},
            "« idPieceJointe » n'est pas pris en charge",
        ),
        (
            {"action": "VALIDATION", "idFacture": a9.pk, "idValideur": world.refs["structure:commune"]},
            "« idValideur » doit désigner votre structure",
        ),
    ]
    for body, message in cases:
        response = cpro.post("factures/v1/traiter/factureAValider", body)
        assert response.status_code == 400, body
        assert message in response.json()["libelle"], body
    # The sous-traitant cannot validate its own invoice: it is not found among its invoices to validate.
    own = cpro.post(
        "factures/v1/traiter/factureAValider", {"action": "VALIDATION", "idFacture": a9.pk}, raccordement=world.autre
    )
    assert own.json()["codeRetour"] == 21001
    assert Invoice.objects.get(pk=a9.pk).status == S.A_VALIDER_1


# --- « pas le bon valideur », then corriger/valideur/facture ----------------------------------------------------


def test_wrong_valideur_then_the_supplier_corrects_it(cpro, world, a9):
    declined = cpro.post(
        "factures/v1/traiter/factureAValider",
        {"action": "MISE_EN_RECYCLAGE", "idFacture": a9.pk, "complementInfo": "Pas notre marché."},
    )
    assert declined.json()["statutFacture"] == S.ERREUR_FOURNISSEUR_SUR_VALIDEUR

    # Only the supplier corrects: for the titulaire, the invoice is not among its own.
    not_supplier = cpro.post(
        "factures/v1/corriger/valideur/facture",
        {"idFacture": a9.pk, "idStructure": world.refs["structure:hopital"]},
    )
    assert not_supplier.json()["codeRetour"] == 21001
    unknown_siret = cpro.post(
        "factures/v1/corriger/valideur/facture",
        {"idFacture": a9.pk, "identifiantStructure": "99999999999999"},
        raccordement=world.autre,
    )
    assert (
        unknown_siret.status_code == 400
        and "Aucune structure n'a l'identifiant SIRET" in unknown_siret.json()["libelle"]
    )
    same = cpro.post(
        "factures/v1/corriger/valideur/facture",
        {"idFacture": a9.pk, "idStructure": world.refs["structure:fournisseur"]},
        raccordement=world.autre,
    )
    assert same.status_code == 400 and "a indiqué ne pas être le valideur" in same.json()["libelle"]
    missing = cpro.post("factures/v1/corriger/valideur/facture", {"idFacture": a9.pk}, raccordement=world.autre)
    assert missing.status_code == 400 and "Désignez le nouveau valideur" in missing.json()["libelle"]

    response = cpro.post(
        "factures/v1/corriger/valideur/facture",
        {
            "idFacture": a9.pk,
            "identifiantStructure": world["structure:hopital"].identifier,
            "typeIdentifiantStructure": "SIRET",
            "codeService": "FACTURES_PUBLIQUES",
        },
        raccordement=world.autre,
    )
    assert_golden("corriger-valideur", response, world)
    a9.refresh_from_db()
    assert a9.valideur == world["structure:hopital"]
    assert a9.valideur_service.code == "FACTURES_PUBLIQUES"
    # The old valideur no longer finds it.
    assert cpro.post("factures/v1/consulter/valideur", {"identifiantFactureCPP": a9.pk}).json()["codeRetour"] == 21001
    # A correction that is not due is refused.
    again = cpro.post(
        "factures/v1/corriger/valideur/facture",
        {"idFacture": a9.pk, "idStructure": world.refs["structure:commune"]},
        raccordement=world.autre,
    )
    assert again.status_code == 400 and "n'est pas à corriger" in again.json()["libelle"]


# --- Referentials ---------------------------------------------------------------------------------------------


def test_motifs_per_cadre_and_errors(cpro):
    a12 = cpro.post("transverses/v1/recuperer/motifs/refus/Facture/AValider", {"codeCadreFacturationAValider": "A12"})
    codes = [m["codeMotif"] for m in a12.json()["listeMotifRefusFactureAValider"]]
    assert "HORS_PART_COTRAITANT" in codes and "HORS_ACTE_SOUS_TRAITANCE" not in codes
    missing = cpro.post("transverses/v1/recuperer/motifs/refus/Facture/AValider", {})
    assert missing.status_code == 400 and "codeCadreFacturationAValider" in missing.json()["libelle"]
    a1 = cpro.post("transverses/v1/recuperer/motifs/refus/Facture/AValider", {"codeCadreFacturationAValider": "A1"})
    assert a1.status_code == 400 and "n'a pas de valideur" in a1.json()["libelle"]
    unknown = cpro.post(
        "transverses/v1/recuperer/motifs/refus/Facture/AValider", {"codeCadreFacturationAValider": "Z9"}
    )
    assert unknown.status_code == 400 and "cadre de facturation inconnu" in unknown.json()["libelle"]


def test_validated_invoice_stays_visible_with_its_later_statuses(cpro, world, a9):
    # 16 days later the scheduler validates tacitly (the token of the test world would have expired by then:
    # the API is called back at the world's time).
    later = FROZEN_AT + timedelta(days=16)
    with time_machine.travel(later, tick=False):
        assert [i.status for i in invoices_validate_tacitly_due(now=later)] == [S.MISE_A_DISPOSITION]
    found = cpro.post("factures/v1/rechercher/valideur", {"statutCourant": ["MISE_A_DISPOSITION"]}).json()
    assert [f["numeroFacture"] for f in found["listeFactures"]] == ["ST-2026-001"]
    assert found["listeFactures"][0]["dateLimiteValidation"] is None
    facture = cpro.post("factures/v1/consulter/valideur", {"identifiantFactureCPP": a9.pk}).json()["facture"]
    assert facture["cadreDeFacturation"]["dateValidation1"] == "2026-03-18"
    assert facture["statutFacture"] == S.MISE_A_DISPOSITION
