"""`facturesTravaux/v1/*`: the monthly circuit through the API (company, MOE, MOA, payer), the checks of the
fiche marché in the envelope, and the tenancy of the searches."""

from decimal import Decimal

import pytest

from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice
from choeur.works.enums import PartyRole
from choeur.works.models import Dossier
from choeur.works.services import PartyInput, marche_create
from tests.api.conftest import make_raccordement
from tests.directory.factories import StructureFactory
from tests.invoices.factories import member_of

pytestmark = pytest.mark.django_db

A4 = "A4_PROJET_DECOMPTE_MENSUEL_FOURNISSEUR"
LINES = [
    {"lignePosteNumero": 1, "lignePosteDenomination": "Menuiseries extérieures", "lignePosteQuantite": 12,
     "lignePosteUnite": "H87", "lignePosteMontantUnitaireHT": 850, "lignePosteTauxTvaManuel": 20},
    {"lignePosteNumero": 2, "lignePosteDenomination": "Pose", "lignePosteQuantite": 24, "lignePosteUnite": "HUR",
     "lignePosteMontantUnitaireHT": 55, "lignePosteTauxTva": "TVA1"},
]  # fmt: skip


@pytest.fixture
def works(world):
    """A market of the API world: the hospital as MOA (and payer), an architect as MOE, the supplier as titulaire."""
    hopital = world["structure:hopital"]
    moe = StructureFactory(moe=True, raison_sociale="Atelier Lumière", identifier="40000009900013")
    marche_create(
        by=member_of(moe, EspaceCode.FACTURES_TRAVAUX),
        structure=moe,
        numero="MT-2026-001",
        objet="Extension du pavillon B",
        numero_engagement="EJ-2026-0042",
        parties=[
            PartyInput(PartyRole.MOA, hopital),
            PartyInput(PartyRole.MOE, moe),
            PartyInput(PartyRole.TITULAIRE, world["structure:fournisseur"]),
        ],
    )
    world.moe = make_raccordement(moe, name="moe")
    world.moa = make_raccordement(hopital, name="moa")
    return world


def submit_a4(cpro, **extra):
    body = {"cadreFacturation": {"codeCadreFacturation": A4}, "numeroMarche": "MT-2026-001",
            "numeroFactureTravaux": "PDM-2026-03", "lignePoste": LINES, **extra}  # fmt: skip
    return cpro.post("facturesTravaux/v1/soumettre", body)


def test_monthly_circuit_through_the_api(cpro, works):
    response = submit_a4(cpro)
    assert response.status_code == 200, response.json()
    a4 = response.json()
    assert a4["statutFactureTravaux"] == InvoiceStatus.MISE_A_DISPOSITION_MOE
    assert "A15" in a4["piecesAttendues"] and "Atelier Lumière" in a4["piecesAttendues"]
    dossier_id = a4["idDossierFacturation"]

    # The MOE corrects line 1 with a reason (without one, refused) and transmits its état d'acompte.
    corrected = [{**LINES[0], "lignePosteQuantite": 10}, LINES[1]]
    body = {"cadreFacturation": {"codeCadreFacturation": "A15_ETAT_ACOMPTE_MOE"}, "idDossierFacturation": dossier_id,
            "lignePoste": corrected}  # fmt: skip
    refused = cpro.post("facturesTravaux/v1/soumettre", body, raccordement=works.moe)
    assert refused.status_code == 400 and "raison de la correction" in refused.json()["libelle"]
    body["motifsCorrection"] = [{"lignePosteNumero": 1, "motif": "10 menuiseries posées sur 12"}]
    a15 = cpro.post("facturesTravaux/v1/soumettre", body, raccordement=works.moe).json()
    assert a15["statutFactureTravaux"] == InvoiceStatus.TRANSMISE_MOA

    consulted = cpro.post("facturesTravaux/v1/consulter/dossierfacturation", {"idDossierFacturation": dossier_id})
    dossier = consulted.json()
    assert [p["cadreFacturation"] for p in dossier["listePieces"]] == [A4, "A15_ETAT_ACOMPTE_MOE"]
    assert dossier["listePieces"][1]["listeCorrections"] == [
        {"lignePosteNumero": 1, "lignePosteDenomination": "Menuiseries extérieures", "montantHtOrigine": 10200.0,
         "montantHtCorrige": 8500.0, "motif": "10 menuiseries posées sur 12"}
    ]  # fmt: skip
    assert dossier["piecesAttendues"] == ["A19_ETAT_ACOMPTE_VALIDE_MOA"]
    assert dossier["dateDebutDelaiPaiement"] and dossier["dateLimiteContestation"]

    # The MOA validates (A19 pre-filled from the A15): the payer has it, and suspends it.
    body = {"cadreFacturation": {"codeCadreFacturation": "A19_ETAT_ACOMPTE_VALIDE_MOA"},
            "idDossierFacturation": dossier_id}  # fmt: skip
    a19 = cpro.post("facturesTravaux/v1/soumettre", body, raccordement=works.moa).json()
    assert a19["statutFactureTravaux"] == InvoiceStatus.MISE_A_DISPOSITION
    assert Invoice.objects.get(pk=a19["idFactureTravaux"]).total_ht == Decimal("9820.00")
    suspended = cpro.post(
        "facturesTravaux/v1/suspendre/demander/completer/factureTravaux",
        {"idFactureTravaux": a19["idFactureTravaux"], "commentaire": "Joindre la situation signée"},
        raccordement=works.moa,
    )
    assert suspended.json()["statutFactureTravaux"] == InvoiceStatus.SUSPENDUE

    # Searches, by role.
    mine = cpro.post("facturesTravaux/v1/rechercher", {"roleUtilisateur": "FOURNISSEUR"}).json()
    assert {row["numeroFactureTravaux"] for row in mine["listeFacturesTravaux"]} == {
        "PDM-2026-03",
        a15["numeroFactureTravaux"],
        a19["numeroFactureTravaux"],
    }
    last_only = cpro.post(
        "facturesTravaux/v1/rechercher", {"roleUtilisateur": "MOE", "uniquementSansPieceSuivante": True},
        raccordement=works.moe,
    ).json()  # fmt: skip
    assert [row["cadreFacturation"] for row in last_only["listeFacturesTravaux"]] == ["A19_ETAT_ACOMPTE_VALIDE_MOA"]
    as_moe = cpro.post("facturesTravaux/v1/rechercher", {"roleUtilisateur": "MOE"}).json()
    assert as_moe["codeRetour"] == 20000


def test_out_of_order_and_wrong_party_name_the_expected_document(cpro, works):
    dossier_id = submit_a4(cpro).json()["idDossierFacturation"]
    body = {"cadreFacturation": {"codeCadreFacturation": "A19_ETAT_ACOMPTE_VALIDE_MOA"},
            "idDossierFacturation": dossier_id}  # fmt: skip
    response = cpro.post("facturesTravaux/v1/soumettre", body, raccordement=works.moa)
    assert response.status_code == 400
    assert response.json()["codeRetour"] == 21002
    assert "hors de l'ordre" in response.json()["libelle"] and "A15" in response.json()["libelle"]
    body["cadreFacturation"]["codeCadreFacturation"] = "A15_ETAT_ACOMPTE_MOE"
    response = cpro.post("facturesTravaux/v1/soumettre", body)
    assert response.status_code == 403
    assert "se dépose par Atelier Lumière" in response.json()["libelle"]


def test_amount_error_is_not_a_refusal_reason(cpro, works):
    a4 = submit_a4(cpro).json()
    response = cpro.post(
        "facturesTravaux/v1/refuser",
        {"idFactureTravaux": a4["idFactureTravaux"], "motifRefus": "ERREUR_MONTANT"},
        raccordement=works.moe,
    )
    assert response.status_code == 400 and "n'est pas un motif de refus" in response.json()["libelle"]
    response = cpro.post(
        "facturesTravaux/v1/refuser",
        {
            "idFactureTravaux": a4["idFactureTravaux"],
            "motifRefus": "TRAVAUX_NON_EXECUTES",
            "commentaire": "Pose non faite",
        },
        raccordement=works.moe,
    )
    assert response.json()["statutFactureTravaux"] == InvoiceStatus.REFUSEE_MOE
    assert Dossier.objects.get().status == "REFUSE"


def test_other_structures_see_nothing(cpro, works):
    a4 = submit_a4(cpro).json()
    outsider = works.autre
    assert cpro.post("facturesTravaux/v1/rechercher", {"roleUtilisateur": "FOURNISSEUR"},
                     raccordement=outsider).json()["codeRetour"] == 20000  # fmt: skip
    for path, body in (
        ("consulter/dossierfacturation", {"idDossierFacturation": a4["idDossierFacturation"]}),
        ("consulter/dossierfacturation", {"idFactureTravaux": a4["idFactureTravaux"]}),
        ("refuser", {"idFactureTravaux": a4["idFactureTravaux"], "motifRefus": "AUTRE"}),
    ):
        response = cpro.post(f"facturesTravaux/v1/{path}", body, raccordement=outsider)
        assert response.status_code == 400 and response.json()["codeRetour"] == 21001
    response = cpro.post(
        "facturesTravaux/v1/soumettre",
        {"cadreFacturation": {"codeCadreFacturation": A4}, "numeroMarche": "MT-2026-001", "lignePoste": LINES},
        raccordement=outsider,
    )
    assert response.json()["codeRetour"] == 21001


def test_recycle_after_the_payer_sent_it_back(cpro, works):
    from choeur.invoices.lifecycle import invoice_process

    dossier_id = submit_a4(cpro).json()["idDossierFacturation"]
    cpro.post("facturesTravaux/v1/soumettre", {"cadreFacturation": {"codeCadreFacturation": "A15"},
              "idDossierFacturation": dossier_id}, raccordement=works.moe)  # fmt: skip
    a19 = cpro.post("facturesTravaux/v1/soumettre", {"cadreFacturation": {"codeCadreFacturation": "A19"},
                    "idDossierFacturation": dossier_id}, raccordement=works.moa).json()  # fmt: skip
    invoice = Invoice.objects.get(pk=a19["idFactureTravaux"])
    hopital = works["structure:hopital"]
    invoice_process(invoice=invoice, by=None, structure=hopital, transition="a_recycler", motif="ERREUR_CODE_SERVICE",
                    comment="Service des travaux", channel="API")  # fmt: skip
    response = cpro.post(
        "facturesTravaux/v1/recycler",
        {"idFactureTravaux": invoice.pk, "identifiantDestinataire": hopital.identifier,
         "codeServiceExecutant": "FACTURES_PUBLIQUES"},
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["statutFactureTravaux"] == InvoiceStatus.MISE_A_DISPOSITION
