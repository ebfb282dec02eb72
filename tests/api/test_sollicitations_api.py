"""Sollicitations through the APIs: the Chorus-compatible referential and `telecharger/pieceJointe`
(SOLLICITATION) with Chorus Pro's field names, and the native API (list, create, read, reply with an
attachment, close), each bounded to the caller's structure."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest

from choeur.sollicitations.models import Sollicitation, SollicitationCategory, SollicitationSubCategory
from choeur.sollicitations.referential import categories_seed
from choeur.sollicitations.services import sollicitation_create
from tests.api.conftest import make_raccordement
from tests.api.native_client import NativeClient, assert_problem
from tests.invoices.factories import InvoiceFactory

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _referential(db):
    categories_seed(SollicitationCategory, SollicitationSubCategory)


@pytest.fixture
def asked(world):
    """The supplier asked the commune about an invoice, with a PDF."""
    sub = SollicitationSubCategory.objects.get(category__code="FACTURE", code="SUSPENSION")
    return sollicitation_create(
        by=None, api_structure=world["structure:fournisseur"], recipient_structure=world["structure:commune"],
        subcategory=sub, subject="Facture suspendue", body="Que manque-t-il ?", attachments=[("bon.pdf", PDF)],
    )  # fmt: skip


def test_categorie_sollicitation_has_chorus_field_names_and_filters(cpro):
    body = cpro.post("transverses/v1/rechercher/categorieSollicitation", {}).json()
    assert body["codeRetour"] == 0
    first = body["listeCategories"][0]
    assert set(first) == {"idTechniqueCategorie", "codeCategorie", "libelleCategorie"}
    codes = [c["codeCategorie"] for c in body["listeCategories"]]
    assert codes == list(SollicitationCategory.objects.order_by("position", "code").values_list("code", flat=True))
    assert set(body["parametresRetour"]) == {"pageCourante", "pages", "nbResultatsParPage", "total"}
    one = cpro.post("transverses/v1/rechercher/categorieSollicitation", {"codeCategorie": "COMPTE"}).json()
    assert [c["codeCategorie"] for c in one["listeCategories"]] == ["COMPTE"]
    page = cpro.post(
        "transverses/v1/rechercher/categorieSollicitation",
        {"pagination": {"nbResultatsParPage": 2, "pageResultatDemandee": 2}},
    ).json()
    assert [c["codeCategorie"] for c in page["listeCategories"]] == codes[2:4]
    SollicitationCategory.objects.filter(code="TRAVAUX").update(is_active=False)
    active = cpro.post("transverses/v1/rechercher/categorieSollicitation", {"estActif": True}).json()
    assert "TRAVAUX" not in [c["codeCategorie"] for c in active["listeCategories"]]
    bad = cpro.post("transverses/v1/rechercher/categorieSollicitation", {"codeCategory": "X"})
    assert bad.status_code == 400 and "codeCategory" in bad.json()["libelle"]


def test_sous_categorie_sollicitation_is_grouped_by_categorie(cpro):
    compte = SollicitationCategory.objects.get(code="COMPTE")
    body = cpro.post(
        "transverses/v1/rechercher/sousCategorieSollicitation", {"idTechniqueCategorie": compte.pk}
    ).json()
    [group] = body["listeSousCategories"]
    assert group["categorie"] == [
        {"idTechniqueCategorie": compte.pk, "codeCategorie": "COMPTE", "libelleCategorie": compte.libelle}
    ]
    sub = group["ssCategorie"][0]
    assert set(sub) == {"code", "libelle", "estActif", "dateCreation", "dateDerniereModification",
                        "idTechniqueCategorie"}  # fmt: skip
    assert sub["code"] == "CREATION_STRUCTURE_PUBLIQUE" and sub["estActif"] is True
    assert sub["idTechniqueCategorie"] == compte.pk
    every = cpro.post(
        "transverses/v1/rechercher/sousCategorieSollicitation", {"pagination": {"nbResultatsParPage": 50}}
    ).json()
    total = SollicitationSubCategory.objects.count()
    assert sum(len(g["ssCategorie"]) for g in every["listeSousCategories"]) == total
    assert every["parametresRetour"]["total"] == total
    missing = cpro.post("transverses/v1/rechercher/sousCategorieSollicitation", {"idTechniqueCategorie": 999999})
    assert missing.status_code == 400 and "introuvable" in missing.json()["libelle"]


def test_telecharger_piece_jointe_sollicitation_for_its_parties_only(cpro, world, asked):
    request = {"objetPieceJointe": "SOLLICITATION",
               "sollicitation": {"idSollicitation": asked.pk, "pieceJointeSollicitation": "OUI"}}  # fmt: skip
    body = cpro.post("transverses/v1/telecharger/pieceJointe", request).json()
    assert body["codeRetour"] == 0 and body["nomFichierResultat"] == f"{asked.numero}.zip"
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(body["pieceJointe"])))
    assert sorted(archive.namelist()) == ["conversation.txt", "pieces/bon.pdf"]
    assert archive.read("pieces/bon.pdf") == PDF
    assert "Que manque-t-il ?" in archive.read("conversation.txt").decode()
    without = cpro.post(
        "transverses/v1/telecharger/pieceJointe",
        {"objetPieceJointe": "SOLLICITATION", "sollicitation": {"idSollicitation": asked.pk,
                                                                "pieceJointeSollicitation": "NON"}},
    ).json()  # fmt: skip
    assert zipfile.ZipFile(io.BytesIO(base64.b64decode(without["pieceJointe"]))).namelist() == ["conversation.txt"]
    foreign = cpro.post("transverses/v1/telecharger/pieceJointe", request, raccordement=world.autre)
    assert foreign.status_code == 400 and "introuvable" in foreign.json()["libelle"]
    unknown = cpro.post(
        "transverses/v1/telecharger/pieceJointe",
        {"objetPieceJointe": "SOLLICITATION", "sollicitation": {"idSollicitation": 10**9}},
    )
    # The same answer for another structure's sollicitation as for one that does not exist.
    assert unknown.json()["libelle"] == foreign.json()["libelle"]
    empty = cpro.post("transverses/v1/telecharger/pieceJointe", {"objetPieceJointe": "SOLLICITATION"})
    assert empty.status_code == 400 and "« sollicitation » est obligatoire" in empty.json()["libelle"]


@pytest.fixture
def natives(client, world):
    commune_racc = make_raccordement(world["structure:commune"], name="commune")
    return (
        NativeClient(client, world.fournisseur, name="fournisseur"),
        NativeClient(client, commune_racc, name="commune"),
        NativeClient(client, world.autre, name="autre"),
    )


def test_native_create_read_reply_with_attachment_and_close(natives, world):
    supplier, commune, _ = natives
    invoice = InvoiceFactory(sent=True, supplier=world["structure:fournisseur"], recipient=world["structure:commune"],
                             number="F-API-1")  # fmt: skip
    created = supplier.post(
        "sollicitations",
        {"category_code": "FACTURE", "subcategory_code": "PAIEMENT", "subject": "Paiement ?", "body": "Quand ?",
         "invoice_id": invoice.pk},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["recipient_structure"]["id"] == world["structure:commune"].pk and data["reference"] == "F-API-1"
    assert data["your_roles"] == ["EMETTEUR"] and "cloturer" in data["actions"]
    listed = commune.get("sollicitations", side="recues").json()["results"]
    assert [row["id"] for row in listed] == [data["id"]] and "repondre" in listed[0]["actions"]
    reply = commune.post(
        f"sollicitations/{data['id']}/messages",
        {"action": "repondre", "body": "Payée hier.", "expected_status": "OUVERTE",
         "attachments": [{"name": "avis.pdf", "content_base64": base64.b64encode(PDF).decode()}]},
    )  # fmt: skip
    assert reply.status_code == 201, reply.content
    detail = supplier.get(f"sollicitations/{data['id']}").json()
    assert detail["status"] == "REPONDUE"
    assert detail["messages"][-1]["attachments"][0]["name"] == "avis.pdf"
    assert detail["messages"][-1]["author"] == "Commune de Valfleurie (API)"
    closed = supplier.post(f"sollicitations/{data['id']}/close", {})
    assert closed.status_code == 200 and closed.json()["status"] == "CLOTUREE"


def test_native_bad_input_is_a_french_problem_and_nothing_is_saved(natives, world, asked):
    supplier, commune, _ = natives
    unknown = {"category_code": "FACTURE", "subcategory_code": "NON", "subject": "x", "body": "y"}
    assert_problem(supplier.post("sollicitations", unknown), 400, "requete_invalide")
    body = assert_problem(
        supplier.post("sollicitations", {"category_code": "FACTURE", "subcategory_code": "SUIVI", "subject": "x",
                                         "body": "   ", "recipient_structure_id": world["structure:commune"].pk}),
        422, "erreur_metier",
    )  # fmt: skip
    assert "Message : écrivez votre message" in body["detail"]
    bad_file = supplier.post(
        f"sollicitations/{asked.pk}/messages",
        {"action": "relancer", "body": "x", "attachments": [{"name": "a.pdf", "content_base64": "%%%"}]},
    )
    assert_problem(bad_file, 400, "requete_invalide")
    assert_problem(supplier.post(f"sollicitations/{asked.pk}/messages", {"action": "repondre", "body": "x"}),
                   403, "acces_refuse")  # fmt: skip
    assert_problem(commune.post(f"sollicitations/{asked.pk}/messages", {"action": "relancer", "body": "x"}),
                   403, "acces_refuse")  # fmt: skip
    stale = commune.post(f"sollicitations/{asked.pk}/messages",
                         {"action": "repondre", "body": "x", "expected_status": "REPONDUE"})  # fmt: skip
    assert_problem(stale, 409, "conflit")
    assert Sollicitation.objects.count() == 1 and asked.messages.count() == 1


def test_native_every_endpoint_refuses_another_structures_sollicitation(natives, asked):
    _, _, outsider = natives
    assert outsider.get("sollicitations").json()["results"] == []
    assert_problem(outsider.get(f"sollicitations/{asked.pk}"), 404, "introuvable")
    assert_problem(outsider.post(f"sollicitations/{asked.pk}/messages", {"body": "x"}), 404, "introuvable")
    assert_problem(outsider.post(f"sollicitations/{asked.pk}/close", {}), 404, "introuvable")
    asked.refresh_from_db()
    assert asked.status == "OUVERTE"


def test_native_scopes_are_required(client, world, asked):
    reader = NativeClient(client, world.fournisseur, scope="invoices:read", name="lecteur")
    assert_problem(reader.get("sollicitations"), 403, "portee_insuffisante")
    read_only = NativeClient(client, world.fournisseur, scope="sollicitations:read", name="lecture")
    assert read_only.get("sollicitations").status_code == 200
    assert_problem(read_only.post(f"sollicitations/{asked.pk}/close", {}), 403, "portee_insuffisante")
