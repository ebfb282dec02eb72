"""« Factures de travaux » in the portal: lists bounded to the user's markets, the MOE's queue, the dossier
page with the side-by-side comparison, each action, the next-piece form and the fiche marché."""

from decimal import Decimal

import pytest
from django.urls import reverse

from choeur.invoices.enums import Cadre, InvoiceStatus
from choeur.works.enums import DossierStatus
from choeur.works.models import Marche
from choeur.works.services import works_moa_validate, works_moe_transmit, works_piece_deposit
from tests.accounts.factories import UserFactory
from tests.works.factories import a4_lines, company, works_market

pytestmark = pytest.mark.django_db


def a4(m):
    return works_piece_deposit(
        marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines(),
        data={"number": "PDM-03"},
    ).dossier  # fmt: skip


def html(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("name", ["portal:works_dossiers", "portal:works_queue", "portal:works_marches"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_lists_show_only_the_user_markets(client):
    m, other = works_market(), works_market(numero="AUTRE-9", titulaire="Routes Sud")
    dossier, foreign = a4(m), a4(other)
    client.force_login(m.user("titulaire"))
    page = html(client.get(reverse("portal:works_dossiers")))
    assert dossier.reference in page and foreign.reference not in page
    assert "Déposer un projet de décompte" in page
    assert client.get(reverse("portal:works_dossier", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("portal:works_marche", args=[other.marche.pk])).status_code == 404
    assert "AUTRE-9" not in html(client.get(reverse("portal:works_marches")))
    client.force_login(UserFactory())
    assert "Aucun dossier" in html(client.get(reverse("portal:works_dossiers")))


def test_moe_queue_and_transmit_with_a_correction(client):
    m = works_market()
    dossier = a4(m)
    client.force_login(m.user("moe"))
    queue = html(client.get(reverse("portal:works_queue")))
    assert dossier.reference in queue and "Bâtiments Martin SA" in queue
    page = html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
    assert "Établir l'état d'acompte et le transmettre" in page
    url = reverse("portal:works_moe_transmit", args=[dossier.pk])
    # A changed quantity without a reason comes back with the French message, the input kept.
    response = client.post(url, {"q_1": "1", "p_1": "12000", "q_2": "30", "p_2": "150"})
    # Answered by a redirect to the dossier page (post/redirect/get): a reload re-posts nothing.
    assert response.status_code == 302 and response.url == reverse("portal:works_dossier", args=[dossier.pk])
    response = client.get(response.url)
    assert "indiquez la raison de la correction" in html(response) and 'value="30"' in html(response)
    assert 'value="30"' not in html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
    response = client.post(url, {"q_2": "30", "r_2": "30 m² constatés"}, follow=True)
    page = html(response)
    assert "A15 n° A15-" in page and "1 montant(s) corrigé(s)" in page
    assert "<mark>4500,00 €</mark>" in page and "30 m² constatés" in page
    assert "Montant modifié (-1500,00 €)" in page
    dossier.refresh_from_db()
    assert dossier.last_piece.cadre == Cadre.A15


def test_amount_error_refusal_is_explained_not_applied(client):
    m = works_market()
    dossier = a4(m)
    client.force_login(m.user("moe"))
    response = client.post(reverse("portal:works_refuse", args=[dossier.pk]), {"refus-reason": "ERREUR_MONTANT"})
    assert response.status_code == 302
    response = client.get(response.url)
    assert "n&#x27;est pas un motif de refus" in html(response)
    response = client.post(
        reverse("portal:works_refuse", args=[dossier.pk]),
        {"refus-reason": "PIECES_MANQUANTES", "refus-comment": "Situation de travaux absente"},
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.REFUSE


def test_moa_validates_then_pays(client):
    m = works_market()
    dossier = a4(m)
    works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    client.force_login(m.user("moa"))
    assert "Valider l'état d'acompte" in html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
    client.post(reverse("portal:works_moa_validate", args=[dossier.pk]))
    page = html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
    assert "Mettre en paiement" in page
    client.post(reverse("portal:works_pay", args=[dossier.pk]), {"expected_status": InvoiceStatus.MISE_A_DISPOSITION})
    dossier.refresh_from_db()
    assert dossier.last_piece.invoice.status == InvoiceStatus.MISE_EN_PAIEMENT


def test_other_parties_cannot_act(client):
    m = works_market()
    dossier = a4(m)
    client.force_login(m.user("titulaire"))
    assert client.post(reverse("portal:works_moe_transmit", args=[dossier.pk])).status_code == 403
    assert client.post(reverse("portal:works_moa_validate", args=[dossier.pk])).status_code == 403
    assert client.post(reverse("portal:works_pay", args=[dossier.pk])).status_code == 403


def test_company_contests_from_the_dossier_page(client):
    m = works_market()
    dossier = a4(m)
    works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe,
                       corrections={1: {"quantity": "0.5", "reason": "Moitié réalisée"}})  # fmt: skip
    client.force_login(m.user("titulaire"))
    page = html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
    assert "Contester les corrections" in page and "Moitié réalisée" in page
    # An empty contest comes back on the dossier page (post/redirect/get), nothing recorded.
    response = client.post(reverse("portal:works_contest", args=[dossier.pk]), {"contestation-reason": ""})
    assert response.status_code == 302
    assert "Ce champ est obligatoire" in html(client.get(response.url))
    dossier.refresh_from_db()
    assert not dossier.contest_reason
    client.post(reverse("portal:works_contest", args=[dossier.pk]), {"contestation-reason": "Tout est fait."})
    dossier.refresh_from_db()
    assert dossier.contest_reason == "Tout est fait."


def test_next_piece_is_prefilled_from_the_previous_one(client):
    m = works_market()
    a7 = works_piece_deposit(marche=m.marche, cadre="A7", by=m.user("titulaire"), structure=m.titulaire,
                             lines=a4_lines())  # fmt: skip
    dossier = a7.dossier
    works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    works_moa_validate(dossier=dossier, by=m.user("moa"), structure=m.moa)  # A20, notified to the company
    client.force_login(m.user("titulaire"))
    page = html(client.get(reverse("portal:works_dossier", args=[dossier.pk])))
    assert "Déposer la pièce de facturation suivante (A8)" in page
    url = reverse("portal:works_piece_next", args=[dossier.pk])
    form = html(client.get(url))
    assert "Gros œuvre — fondations" in form and 'value="12000"' in form
    data = {
        "cadre": Cadre.A8.value, "number": "DGD-01", "type_tva": "TVA_SUR_DEBIT",
        "lignes-TOTAL_FORMS": "2", "lignes-INITIAL_FORMS": "2",
        "lignes-0-designation": "Gros œuvre — fondations", "lignes-0-quantity": "1", "lignes-0-unit": "LS",
        "lignes-0-unit_price_ht": "12000", "lignes-0-vat_rate": "20",
        "lignes-1-designation": "Maçonnerie — murs porteurs", "lignes-1-quantity": "40", "lignes-1-unit": "MTK",
        "lignes-1-unit_price_ht": "150", "lignes-1-vat_rate": "20",
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302, html(response)
    dossier.refresh_from_db()
    last = dossier.last_piece
    assert last.cadre == Cadre.A8 and last.invoice.number == "DGD-01"
    assert last.invoice.total_ht == Decimal("18000.00")
    assert last.invoice.status == InvoiceStatus.MISE_A_DISPOSITION
    # The MOE has nothing to deposit here.
    client.force_login(m.user("moe"))
    assert client.get(url).status_code == 403


def test_first_deposit_form(client):
    m = works_market()
    client.force_login(m.user("titulaire"))
    url = reverse("portal:works_deposit")
    assert "Projet de décompte mensuel" in html(client.get(url))
    data = {
        "marche": m.marche.pk, "cadre": Cadre.A4.value, "number": "PDM-04", "type_tva": "TVA_SUR_DEBIT",
        "lignes-TOTAL_FORMS": "2", "lignes-INITIAL_FORMS": "0",
        "lignes-0-designation": "Charpente", "lignes-0-quantity": "2", "lignes-0-unit": "LS",
        "lignes-0-unit_price_ht": "5000", "lignes-0-vat_rate": "20",
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    # A document out of order comes back with the expected one.
    response = client.post(url, {**data, "cadre": Cadre.A10.value, "number": "X-1"})
    assert response.status_code == 400 and "ne commence pas par le cadre A10" in html(response)
    client.force_login(m.user("moe"))
    assert client.get(url).status_code == 403


def test_marche_create_and_edit(client):
    m = works_market()
    sous_traitant = company(raison_sociale="Électricité Bernard")
    client.force_login(m.user("moe"))
    response = client.get(reverse("portal:works_marche_create"))
    assert response.status_code == 200
    data = {
        "numero": "MT-2026-050", "objet": "Réfection de la toiture", "numero_engagement": "EJ-9",
        "moa_siret": m.moa.identifier, "moe_siret": m.moe.identifier, "titulaire_siret": m.titulaire.identifier,
        "sous_traitants": f"{sous_traitant.identifier} ; {m.titulaire.identifier}",
    }  # fmt: skip
    response = client.post(reverse("portal:works_marche_create"), data)
    assert response.status_code == 302, html(response)
    marche = Marche.objects.get(numero="MT-2026-050")
    assert marche.parties.count() == 4
    page = html(client.get(reverse("portal:works_marche", args=[marche.pk])))
    assert "Électricité Bernard" in page and "A10, A11" in page
    response = client.post(reverse("portal:works_marche", args=[marche.pk]), {**data, "objet": "Toiture et zinguerie",
                                                                              "sous_traitants": ""})  # fmt: skip
    assert response.status_code == 302
    marche.refresh_from_db()
    assert marche.objet == "Toiture et zinguerie" and marche.parties.count() == 3
    response = client.post(reverse("portal:works_marche_create"), {**data, "moa_siret": "99999999999999"})
    assert response.status_code == 400 and "aucune structure de SIRET 99999999999999" in html(response)
    client.force_login(m.user("titulaire"))
    assert client.get(reverse("portal:works_marche_create")).status_code == 403
    assert client.post(reverse("portal:works_marche", args=[marche.pk]), data).status_code == 403


def test_moe_previews_the_etat_d_acompte_before_issuing_it(client):
    m = works_market()
    dossier = a4(m)
    client.force_login(m.user("moe"))
    url = reverse("portal:works_moe_preview", args=[dossier.pk])
    partial = html(client.post(url, {"q_2": "30"}, headers={"HX-Request": "true"}))
    assert "<!DOCTYPE" not in partial
    assert "<mark>4500,00 €</mark>" in partial and "Raison à indiquer" in partial
    page = html(client.post(url, {"q_2": "30", "r_2": "Constat"}))
    assert "<!DOCTYPE" in page and "Constat" in page and 'value="30"' in page
    dossier.refresh_from_db()
    assert dossier.pieces.count() == 1  # nothing issued
    client.force_login(m.user("titulaire"))
    assert client.post(url, {"q_2": "30"}).status_code == 403
