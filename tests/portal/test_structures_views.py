"""Structures pages: search before creation, creation, requests and decisions, bank details, export."""

import csv
import html
import io
import time

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from choeur.directory import services
from choeur.directory.enums import EspaceCode, Habilitation, RattachementStatus, Role, SubscriptionStatus
from choeur.directory.identifiers import make_siret
from choeur.directory.models import BankAccount, EspaceSubscription, ManagerAction, Rattachement, Structure
from choeur.portal.accounts_views.reauth import REAUTH_SESSION_KEY
from tests.accounts.factories import UserFactory
from tests.directory.factories import RattachementFactory, StructureFactory

pytestmark = pytest.mark.django_db

SIRET = make_siret("51234567", "0001")


def _managed_structure(**kwargs):
    structure = StructureFactory(**kwargs)
    services.structure_defaults_ensure(structure=structure)
    gp = RattachementFactory(structure=structure, gp=True)
    return structure, gp


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _reauth(client):
    session = client.session
    session[REAUTH_SESSION_KEY] = time.time()
    session.save()


# ---------------------------------------------------------------------------------------------------
# Search and creation
# ---------------------------------------------------------------------------------------------------


def test_creation_needs_a_search_first(client):
    client.force_login(UserFactory())
    response = client.get(reverse("portal:structure_create"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:structure_search")
    response = client.post(reverse("portal:structure_create"), {"identifier_type": "SIRET", "identifier": SIRET})
    assert response.status_code == 302
    assert not Structure.objects.exists()


def test_search_rules_and_results(client):
    existing, _ = _managed_structure(raison_sociale="Boulangerie Martin")
    client.force_login(UserFactory())
    content = _text(client.get(reverse("portal:structure_search"), {"q": "12"}))
    assert "Saisissez au moins 3 chiffres du SIRET" in content
    content = _text(client.get(reverse("portal:structure_search"), {"q": existing.identifier[:5]}))
    assert "Boulangerie Martin" in content and "Demander un rattachement" in content
    content = _text(client.get(reverse("portal:structure_search"), {"q": "boulangerie martin"}))
    assert "Boulangerie Martin" in content
    # Partial names do not list structures: no browsing of the private directory.
    content = _text(client.get(reverse("portal:structure_search"), {"q": "Boulangerie"}))
    assert "Boulangerie Martin" not in content and "Aucune structure inscrite" in content
    assert "Créer la structure" in content


def test_search_warns_about_an_invalid_siret(client):
    client.force_login(UserFactory())
    wrong = SIRET[:-1] + str((int(SIRET[-1]) + 1) % 10)
    content = _text(client.get(reverse("portal:structure_search"), {"q": wrong}))
    assert "clé de contrôle" in content


def test_create_structure_flow(client):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("portal:structure_search"), {"q": SIRET})
    page = _text(client.get(reverse("portal:structure_create")))
    assert SIRET in page  # the searched SIRET is prefilled
    response = client.post(
        reverse("portal:structure_create"),
        {"identifier_type": "SIRET", "identifier": SIRET[:-1] + "0", "raison_sociale": "Plomberie Roux", "pays": "FR"},
    )
    assert response.status_code == 200
    assert "Le SIRET" in _text(response)
    response = client.post(
        reverse("portal:structure_create"),
        {
            "identifier_type": "SIRET",
            "identifier": SIRET,
            "raison_sociale": "Plomberie Roux",
            "pays": "FR",
            "code_postal": "69003",
            "ville": "Lyon",
        },
    )
    structure = Structure.objects.get(identifier=SIRET)
    assert response.status_code == 302 and response["Location"] == reverse(
        "portal:structure_detail", args=[structure.pk]
    )
    assert Rattachement.objects.get(structure=structure).role == Role.GESTIONNAIRE_PRINCIPAL
    page = _text(client.get(response["Location"]))
    assert "Plomberie Roux" in page and "Gestionnaire principal" in page and "Factures émises" in page


def test_duplicate_structure_points_to_rattachement(client):
    existing, _ = _managed_structure()
    client.force_login(UserFactory())
    client.get(reverse("portal:structure_search"), {"q": existing.identifier})
    response = client.post(
        reverse("portal:structure_create"),
        {"identifier_type": "SIRET", "identifier": existing.identifier, "raison_sociale": "Copie", "pays": "FR"},
    )
    content = _text(response)
    assert "déjà inscrite" in content
    assert reverse("portal:rattachement_request", args=[existing.pk]) in content
    assert Structure.objects.count() == 1


def test_public_structure_cannot_be_created_from_portal(client):
    client.force_login(UserFactory())
    client.get(reverse("portal:structure_search"), {"q": SIRET})
    client.post(
        reverse("portal:structure_create"),
        {
            "identifier_type": "SIRET",
            "identifier": SIRET,
            "raison_sociale": "Mairie",
            "pays": "FR",
            "kind": "PUBLIQUE",
        },
    )
    assert Structure.objects.get().kind == "PRIVEE"


# ---------------------------------------------------------------------------------------------------
# Rattachement requests and decisions
# ---------------------------------------------------------------------------------------------------


def test_request_then_bulk_approve(client, django_capture_on_commit_callbacks):
    structure, gp = _managed_structure()
    requesters = [UserFactory() for _ in range(3)]
    for user in requesters:
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("portal:rattachement_request", args=[structure.pk]), {"message": "Service comptable"}
            )
        assert response.status_code == 302
    assert len(mail.outbox) == 3 and all(m.to == [gp.user.email] for m in mail.outbox)
    # A second request while one is pending: told, nothing new.
    response = client.get(reverse("portal:rattachement_request", args=[structure.pk]), follow=True)
    assert "déjà en cours de validation" in _text(response)

    mail.outbox.clear()
    client.force_login(gp.user)
    page = _text(client.get(reverse("portal:gestionnaire")))
    assert all(u.email in page for u in requesters)
    ids = list(Rattachement.objects.pending().values_list("pk", flat=True))
    response = client.post(reverse("portal:gestionnaire"), {"ids": ids[:2], "decision": "refuser", "comment": ""})
    assert "Indiquez le motif du refus" in _text(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:gestionnaire"), {"ids": ids[:2], "decision": "valider"}, follow=True)
    assert "2 demandes de rattachement validées" in _text(response)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in requesters[:2])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("portal:gestionnaire_rattachement", args=[ids[2]]),
            {"decision": "refuser", "comment": "Inconnu"},
        )
    assert Rattachement.objects.get(pk=ids[2]).status == RattachementStatus.REFUSEE
    assert "Inconnu" in mail.outbox[-1].body


def test_lookup_unknown_identifier_has_french_message(client):
    client.force_login(UserFactory())
    response = client.get(reverse("portal:rattachement_lookup"), {"identifier_type": "SIRET", "identifier": SIRET})
    assert "Aucune structure n'est inscrite" in _text(response)
    structure, _ = _managed_structure()
    response = client.get(
        reverse("portal:rattachement_lookup"), {"identifier_type": "SIRET", "identifier": structure.identifier}
    )
    assert response["Location"] == reverse("portal:rattachement_request", args=[structure.pk])


def test_roles_and_transfer_through_pages(client):
    structure, gp = _managed_structure()
    simple = RattachementFactory(structure=structure)
    client.force_login(gp.user)
    client.post(
        reverse("portal:rattachement_role", args=[structure.pk, simple.pk]), {"role": "GESTIONNAIRE_SECONDAIRE"}
    )
    simple.refresh_from_db()
    assert simple.role == Role.GESTIONNAIRE_SECONDAIRE
    response = client.post(reverse("portal:structure_transfer", args=[structure.pk]), {"to": simple.pk})
    assert response.status_code == 302
    gp.refresh_from_db()
    simple.refresh_from_db()
    assert (gp.role, simple.role) == (Role.GESTIONNAIRE_SECONDAIRE, Role.GESTIONNAIRE_PRINCIPAL)
    # The former GP can no longer transfer.
    assert client.get(reverse("portal:structure_transfer", args=[structure.pk])).status_code == 403
    # The GP's own rattachement cannot be deactivated.
    response = client.post(reverse("portal:rattachement_deactivate", args=[structure.pk, simple.pk]), follow=True)
    assert "ne peut pas être désactivé" in _text(response)


# ---------------------------------------------------------------------------------------------------
# Espaces and abonnements
# ---------------------------------------------------------------------------------------------------


def test_subscription_request_and_bulk_validation(client):
    structure, gp = _managed_structure()
    simple = RattachementFactory(structure=structure)
    client.force_login(simple.user)
    response = client.post(
        reverse("portal:structure_espaces", args=[structure.pk]),
        {"code": EspaceCode.FACTURES_EMISES, "habilitation": Habilitation.MODIFICATION},
    )
    assert response.status_code == 302
    subscription = EspaceSubscription.objects.get(rattachement=simple)
    assert subscription.status == SubscriptionStatus.EN_COURS_DE_VALIDATION
    client.force_login(gp.user)
    client.post(
        reverse("portal:espace_toggle", args=[structure.pk]), {"code": EspaceCode.ENGAGEMENTS, "action": "ouvrir"}
    )
    assert structure.espaces.filter(code=EspaceCode.ENGAGEMENTS, is_open=True).exists()
    client.post(reverse("portal:gestionnaire_subscriptions"), {"ids": [subscription.pk], "decision": "valider"})
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.VALIDEE
    client.force_login(simple.user)
    page = _text(client.get(reverse("portal:structure_detail", args=[structure.pk])))
    assert "Factures émises — modification" in page


def test_rights_page_sets_rights(client):
    structure, gp = _managed_structure()
    simple = RattachementFactory(structure=structure)
    client.force_login(gp.user)
    response = client.post(
        reverse("portal:gestionnaire_rights", args=[simple.pk]),
        {
            EspaceCode.FACTURES_EMISES: Habilitation.CONSULTATION_UNIQUEMENT,
            EspaceCode.SOLLICITATIONS_EMISES: "AUCUN",
            EspaceCode.SOLLICITATIONS_RECUES: "AUCUN",
        },
    )
    assert response.status_code == 302
    assert EspaceSubscription.objects.get(rattachement=simple).habilitation == Habilitation.CONSULTATION_UNIQUEMENT


# ---------------------------------------------------------------------------------------------------
# Bank details
# ---------------------------------------------------------------------------------------------------


def test_bank_account_create_through_reauth_notifies_gestionnaires(client, django_capture_on_commit_callbacks):
    structure, gp = _managed_structure()
    gs = RattachementFactory(structure=structure, gs=True)
    client.force_login(gs.user)
    url = reverse("portal:bank_account_create", args=[structure.pk])
    data = {
        "label": "Compte principal",
        "holder": "Menuiserie",
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "bic": "AGRIFRPP",
    }
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:reauth"))
    assert not BankAccount.objects.exists()
    _reauth(client)
    response = client.post(url, {**data, "iban": "FR76 3000 6000 0112 3456 7890 188"})
    assert "clé de contrôle" in _text(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == sorted([gp.user.email, gs.user.email])
    assert "FR7630006000011234567890189" not in mail.outbox[0].body
    page = _text(client.get(reverse("portal:structure_bank_accounts", args=[structure.pk])))
    assert "FR76 •••• 0189" in page and "FR7630006000011234567890189" not in page
    account = BankAccount.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:bank_account_toggle", args=[structure.pk, account.pk]))
    account.refresh_from_db()
    assert not account.is_active
    assert ManagerAction.objects.filter(action="bank_account.deactivated").exists()


def test_simple_user_sees_masked_bank_details_without_actions(client):
    structure, gp = _managed_structure()
    simple = RattachementFactory(structure=structure)
    client.force_login(gp.user)
    _reauth(client)
    client.post(
        reverse("portal:bank_account_create", args=[structure.pk]),
        {"label": "Compte", "holder": "X", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP"},
    )
    assert BankAccount.objects.filter(structure=structure).count() == 1
    client.force_login(simple.user)
    page = _text(client.get(reverse("portal:structure_bank_accounts", args=[structure.pk])))
    assert "FR76 •••• 0189" in page
    assert "Ajouter des coordonnées bancaires" not in page and "Désactiver" not in page


# ---------------------------------------------------------------------------------------------------
# Lists: pagination, history, export
# ---------------------------------------------------------------------------------------------------


def test_lists_paginate(client):
    user = UserFactory()
    for _ in range(23):
        RattachementFactory(user=user)
    client.force_login(user)
    first = _text(client.get(reverse("portal:structures")))
    second = _text(client.get(reverse("portal:structures"), {"page": 2}))
    assert first.count("<tr>") - 1 == 20 and second.count("<tr>") - 1 == 3
    assert "fr-pagination" in first


def test_pending_requests_paginate(client):
    structure, gp = _managed_structure()
    for _ in range(21):
        RattachementFactory(structure=structure, pending=True)
    client.force_login(gp.user)
    second = _text(client.get(reverse("portal:gestionnaire"), {"page": 2}))
    assert second.count('name="ids"') == 1


def test_history_lists_actions(client):
    structure, gp = _managed_structure()
    services.espace_open(by=gp.user, structure=structure, code=EspaceCode.ENGAGEMENTS)
    client.force_login(gp.user)
    page = _text(client.get(reverse("portal:gestionnaire_history")))
    assert "Ouverture de l'espace « Engagements »" in page


def test_export_is_excel_friendly_csv(client):
    structure, gp = _managed_structure(raison_sociale="=Formule")
    simple = RattachementFactory(structure=structure)
    services.rattachement_rights_set(
        by=gp.user, rattachement=simple, rights={EspaceCode.FACTURES_EMISES: Habilitation.CONSULTATION_UNIQUEMENT}
    )
    client.force_login(gp.user)
    response = client.get(reverse("portal:gestionnaire_export"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Structure", "Type d'identifiant", "Identifiant"]
    assert len(rows) == 3
    by_email = {row[5]: row for row in rows[1:]}
    header = rows[0]
    assert by_email[simple.user.email][header.index("Factures émises")] == "Consultation uniquement"
    assert by_email[gp.user.email][header.index("Factures émises")] == "Modification"
    assert by_email[gp.user.email][header.index("Engagements")] == "Espace fermé"
    # Formula injection neutralised.
    assert by_email[gp.user.email][0] == "'=Formule"


@pytest.mark.parametrize("name", ["gestionnaire_users", "gestionnaire", "gestionnaire_history", "structure_users"])
def test_list_pages_have_a_query_budget(client, django_assert_max_num_queries, name):
    """No query per row: 15 or 30 rows cost the same."""
    structure, gp = _managed_structure()
    counts = []
    for extra in (15, 15):
        for _ in range(extra):
            simple = RattachementFactory(structure=structure)
            RattachementFactory(structure=structure, pending=True)
            services.rattachement_rights_set(
                by=gp.user, rattachement=simple, rights={EspaceCode.FACTURES_EMISES: Habilitation.MODIFICATION}
            )
        client.force_login(gp.user)
        args = [structure.pk] if name == "structure_users" else []
        # Warm-up: the per-session checks (pending rejections, cached a few minutes) are not per-row costs.
        client.get(reverse(f"portal:{name}", args=args))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(f"portal:{name}", args=args)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(25):
        client.get(reverse(f"portal:{name}", args=args))
