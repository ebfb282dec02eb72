"""`engagementsJuridiques/v1/rechercher` and `transverses/v1/telecharger/pieceJointe` ENGAGEMENT_JURIDIQUE, with
Chorus Pro's field names, bounded to the EJs the caller recorded or that are addressed to it."""

import base64
import datetime
from decimal import Decimal

import pytest

from choeur.core.files import file_store
from choeur.directory.enums import EngagementState, EngagementType
from tests.api.conftest import make_raccordement
from tests.directory.factories import EngagementFactory, StructureFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def ejs(world):
    fournisseur, commune, hopital = (
        world["structure:fournisseur"],
        world["structure:commune"],
        world["structure:hopital"],
    )
    voirie = world["service:commune:VOIRIE"]
    return {
        "voirie": EngagementFactory(
            structure=commune,
            supplier=fournisseur,
            number="EJ-2026-0001",
            service=voirie,
            amount_ttc=Decimal("12000.00"),
            notified_on=datetime.date(2026, 2, 1),
            document=file_store(content=PDF),
            document_name="bon-de-commande.pdf",
        ),
        "hopital": EngagementFactory(
            structure=hopital,
            supplier=fournisseur,
            number="EJ-H-77",
            type=EngagementType.MARCHE,
            numero_marche="M-2026-3",
            amount_ttc=Decimal("480.50"),
            notified_on=datetime.date(2026, 1, 10),
            state=EngagementState.CLOTURE,
        ),
        "autre": EngagementFactory(structure=commune, supplier=world["structure:autre_prive"], number="EJ-2026-0002"),
    }


def search(cpro, body, **kwargs):
    return cpro.post("engagementsJuridiques/v1/rechercher", body, **kwargs).json()


def test_supplier_finds_its_ej_with_chorus_fields(cpro, world, ejs):
    answer = search(
        cpro,
        {
            "structureReceptriceEngagementJuridique": str(world.refs["structure:fournisseur"]),
            "numeroEngagementJuridique": "ej-2026-0001",
            "etatCourantEngagementJuridique": "COMMANDE",
            "parametresRecherche": {
                "nbResultatsParPage": 10,
                "pageResultatDemandee": 1,
                "triColonne": "DateCreationEJ",
            },
        },
    )
    assert answer["codeRetour"] == 0
    assert answer["listeEngagementJuridique"] == [
        {
            "idEngagementJuridique": ejs["voirie"].pk,
            "libelleTypeEngagementJuridique": "BON_DE_COMMANDE",
            "numeroEngagementJuridique": "EJ-2026-0001",
            "structureReceptrice": world.refs["structure:fournisseur"],
            "identifiantStructureReceptrice": "40000001400011",
            "libelleStructureReceptrice": "Menuiserie Dupont",
            "codeServiceExecutant": "VOIRIE",
            "libelleServiceExecutant": "Service de la voirie",
            "dateNotificationEJ": "2026-02-01",
            "libelleEtatCourantEJ": "COMMANDE",
            "montantTotalTtc": 12000.0,
            "deviseEngagement": "EUR",
            "taillePJ": len(PDF),
        }
    ]
    assert answer["parametresRetour"]["total"] == 1


def test_filters_by_type_marche_period_and_amount(cpro, ejs):
    numbers = lambda body: [e["numeroEngagementJuridique"] for e in search(cpro, body).get("listeEngagementJuridique")]  # noqa: E731
    assert numbers({}) == ["EJ-2026-0001", "EJ-H-77"]
    assert numbers({"codeEngagementJuridique": "marche"}) == ["EJ-H-77"]
    assert numbers({"numeroMarcheEngagementJuridique": "M-2026"}) == ["EJ-H-77"]
    assert numbers({"periodeDateNotificationEJDu": "2026-01-15"}) == ["EJ-2026-0001"]
    assert numbers({"montantTTCMin": 0, "montantTTCMax": 1000}) == ["EJ-H-77"]
    assert numbers({"etatCourantEngagementJuridique": "CLOTURE"}) == ["EJ-H-77"]


def test_no_result_and_bad_values_in_french(cpro, ejs):
    assert search(cpro, {"numeroEngagementJuridique": "INCONNU"})["codeRetour"] == 20000
    wrong = search(cpro, {"etatCourantEngagementJuridique": "PERDU"})
    assert wrong["codeRetour"] == 10204 and "utilisez COMMANDE, CLOTURE, ANNULE" in wrong["libelle"]
    bad_id = search(cpro, {"structureReceptriceEngagementJuridique": "abc"})
    assert bad_id["codeRetour"] != 0 and "idStructureCPP" in bad_id["libelle"]


def test_a_caller_never_reads_the_ejs_of_others(cpro, world, ejs):
    # Asking for another supplier's EJs answers nothing, not theirs.
    other = str(world.refs["structure:autre_prive"])
    assert search(cpro, {"structureReceptriceEngagementJuridique": other})["codeRetour"] == 20000
    # The other supplier sees its own only.
    mine = search(cpro, {}, raccordement=world.autre)["listeEngagementJuridique"]
    assert [e["numeroEngagementJuridique"] for e in mine] == ["EJ-2026-0002"]
    # A public structure that recorded none sees none; the buyer sees those it recorded.
    stranger = make_raccordement(StructureFactory(public=True), name="etrangere")
    assert search(cpro, {}, raccordement=stranger)["codeRetour"] == 20000
    commune = make_raccordement(world["structure:commune"], name="commune")
    recorded = search(cpro, {}, raccordement=commune)["listeEngagementJuridique"]
    assert sorted(e["numeroEngagementJuridique"] for e in recorded) == ["EJ-2026-0001", "EJ-2026-0002"]
    # Nor download their PDF.
    for raccordement in (world.autre, stranger):
        answer = cpro.post(
            "transverses/v1/telecharger/pieceJointe",
            {
                "objetPieceJointe": "ENGAGEMENT_JURIDIQUE",
                "engagementJuridique": {"numeroEngagementJuridique": "EJ-2026-0001"},
            },
            raccordement=raccordement,
        ).json()
        assert answer["codeRetour"] == 21001 and "pieceJointe" not in answer


def test_download_the_pdf_of_an_ej(cpro, ejs):
    answer = cpro.post(
        "transverses/v1/telecharger/pieceJointe",
        {
            "objetPieceJointe": "ENGAGEMENT_JURIDIQUE",
            "engagementJuridique": {"numeroEngagementJuridique": "EJ-2026-0001"},
        },
    ).json()
    assert answer["codeRetour"] == 0
    assert base64.b64decode(answer["pieceJointe"]) == PDF
    assert (answer["nomFichierResultat"], answer["typeMimeFichierResultat"]) == (
        "bon-de-commande.pdf",
        "application/pdf",
    )
    without = cpro.post(
        "transverses/v1/telecharger/pieceJointe",
        {"objetPieceJointe": "ENGAGEMENT_JURIDIQUE", "engagementJuridique": {"numeroEngagementJuridique": "EJ-H-77"}},
    ).json()
    assert without["codeRetour"] == 21001 and "n'a pas de pièce jointe" in without["libelle"]
    missing = cpro.post("transverses/v1/telecharger/pieceJointe", {"objetPieceJointe": "ENGAGEMENT_JURIDIQUE"}).json()
    assert missing["codeRetour"] == 10203 and "numeroEngagementJuridique" in missing["libelle"]
