"""The portal side of a sous-traitant's draft: the titulaire's queue and decision on the dossier page, and the
mandataire following a cotraitant's dossier read-only."""

import pytest
from django.urls import reverse

from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import InvoiceStatus
from choeur.works.enums import DossierStatus, PartyRole
from choeur.works.services import PartyInput, marche_create, works_piece_deposit
from tests.invoices.factories import member_of
from tests.works.factories import a4_lines, company, groupement_market, works_market

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def a10():
    m = works_market()
    sous_traitant = company(raison_sociale="Électricité Durand")
    marche = marche_create(
        by=m.user("moe"), structure=m.moe, numero="MT-ST-1", objet="Gymnase",
        parties=[
            PartyInput(PartyRole.MOA, m.moa),
            PartyInput(PartyRole.MOE, m.moe),
            PartyInput(PartyRole.TITULAIRE, m.titulaire),
            PartyInput(PartyRole.SOUS_TRAITANT, sous_traitant, works_for=m.titulaire, paiement_direct=True),
        ],
    )  # fmt: skip
    user = member_of(sous_traitant, EspaceCode.FACTURES_TRAVAUX)
    piece = works_piece_deposit(marche=marche, cadre="A10", by=user, structure=sous_traitant, lines=a4_lines())
    return m, piece


def test_titulaire_sees_the_draft_in_its_queue_and_validates_it(client, a10):
    m, piece = a10
    dossier = piece.dossier
    client.force_login(m.user("titulaire"))
    queue = html(client.get(reverse("portal:works_queue")))
    assert "En tant que titulaire de sous-traitants" in queue and dossier.reference in queue
    page = html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
    assert "Valider le projet de décompte du sous-traitant (A10)" in page
    assert "Prestations hors du périmètre de l&#x27;acte spécial de sous-traitance" in page
    # The MOE sees the dossier but has nothing to do yet.
    client.force_login(m.user("moe"))
    moe_page = html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
    assert "Valider le projet de décompte du sous-traitant" not in moe_page
    assert "Établir l'état d'acompte" not in moe_page
    assert dossier.reference not in html(client.get(reverse("portal:works_queue")))
    response = client.post(
        reverse("portal:works_valideur_decide", args=[dossier.pk]), {"titulaire-decision": "VALIDATION"}
    )
    assert response.status_code == 403

    client.force_login(m.user("titulaire"))
    url = reverse("portal:works_valideur_decide", args=[dossier.pk])
    response = client.post(url, {"titulaire-decision": "REFUS"})
    assert response.status_code == 302
    assert "choisissez un motif" in html(client.get(response.url))
    response = client.post(url, {"titulaire-decision": "VALIDATION", "titulaire-certified": "on"})
    assert response.status_code == 302
    piece.invoice.refresh_from_db()
    assert piece.invoice.status == InvoiceStatus.MISE_A_DISPOSITION_MOE
    client.force_login(m.user("moe"))
    assert dossier.reference in html(client.get(reverse("portal:works_queue")))


def test_titulaire_refuses_with_a_reason(client, a10):
    m, piece = a10
    client.force_login(m.user("titulaire"))
    response = client.post(
        reverse("portal:works_valideur_decide", args=[piece.dossier.pk]),
        {
            "titulaire-decision": "REFUS",
            "titulaire-motif": "PRESTATIONS_NON_REALISEES",
            "titulaire-comment": "Non posé",
        },
    )
    assert response.status_code == 302
    piece.dossier.refresh_from_db()
    assert piece.dossier.status == DossierStatus.REFUSE


def test_mandataire_follows_a_cotraitant_dossier_read_only(client):
    g = groupement_market(works_market(), numero="GRP-12", objet="École")
    marche, mandataire, cotraitant, users = g.marche, g.mandataire, g.cotraitant, g.users
    dossier = works_piece_deposit(
        marche=marche, cadre="A13", by=users[cotraitant], structure=cotraitant, lines=a4_lines()
    ).dossier
    client.force_login(users[mandataire])
    assert dossier.reference in html(client.get(reverse("portal:works_dossiers")))
    page = html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
    assert "Lecture seule" in page
    assert "Pièce suivante" not in page and "Refuser la pièce" not in page
    client.force_login(users[cotraitant])
    assert "Lecture seule" not in html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
