"""Sollicitations in the portal: lists and Synthèse, search, CSV export, creation from an invoice, the action
form, attachments, the public contact form, platform requests, and who may see what."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from choeur.directory.enums import EspaceCode
from choeur.directory.models import Structure
from choeur.invoices.enums import InvoiceStatus
from choeur.sollicitations.enums import SollicitationStatus as S
from choeur.sollicitations.models import Sollicitation, SollicitationCategory, SollicitationSubCategory
from choeur.sollicitations.referential import categories_seed
from tests.accounts.factories import UserFactory
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of
from tests.sollicitations.factories import make_sollicitation, subcategory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _referential(db):
    categories_seed(SollicitationCategory, SollicitationSubCategory)


class P:
    def __init__(self, structure, user):
        self.structure, self.user = structure, user


@pytest.fixture
def parties():
    supplier = StructureFactory(raison_sociale="Menuiserie Lambert")
    buyer = StructureFactory(public=True, raison_sociale="Commune de Belair")
    outsider = StructureFactory(public=True, raison_sociale="Commune d'Ailleurs")
    return (
        P(supplier, member_of(supplier, EspaceCode.FACTURES_EMISES)),
        P(buyer, member_of(buyer, EspaceCode.FACTURES_RECUES)),
        P(outsider, member_of(outsider, EspaceCode.FACTURES_RECUES)),
    )


def _post_action(client, sollicitation, action, **data):
    sollicitation.refresh_from_db()
    return client.post(
        reverse("portal:sollicitation_action", args=[sollicitation.pk]),
        {"action": action, "expected_status": sollicitation.status, **data},
    )


def test_from_the_invoice_page_a_question_goes_to_the_buyer_who_processes_it(client, parties):
    supplier, buyer, _ = parties
    invoice = InvoiceFactory(sent=True, supplier=supplier.structure, recipient=buyer.structure, number="F-2026-7")
    invoice.status = InvoiceStatus.SUSPENDUE
    invoice.save(update_fields=["status"])
    client.force_login(supplier.user)
    page = client.get(reverse("portal:invoice_detail", args=[invoice.pk])).content.decode()
    assert f"/sollicitations/nouvelle/?facture={invoice.pk}" in page
    form = client.get(reverse("portal:sollicitation_new"), {"facture": invoice.pk}).content.decode()
    assert "Commune de Belair" in form and 'value="FACTURE.SUSPENSION" selected' in form
    response = client.post(
        reverse("portal:sollicitation_new"),
        {"facture": invoice.pk, "sender_structure": supplier.structure.pk, "subcategory": "FACTURE.SUSPENSION",
         "subject": "Facture F-2026-7 suspendue", "body": "Que manque-t-il ?"},
    )  # fmt: skip
    sollicitation = Sollicitation.objects.get()
    assert response.status_code == 302 and sollicitation.invoice == invoice
    assert sollicitation.recipient_structure == buyer.structure and sollicitation.reference == "F-2026-7"

    client.force_login(buyer.user)
    received = client.get(reverse("portal:sollicitations_received")).content.decode()
    assert 'id="to-process"' in received and sollicitation.numero in received.split('id="to-process"')[1]
    detail = client.get(reverse("portal:sollicitation_detail", args=[sollicitation.pk])).content.decode()
    assert "Demander un complément" in detail and "Que manque-t-il ?" in detail
    assert _post_action(client, sollicitation, "demander_complement", body="Joignez le bon.").status_code == 302

    client.force_login(supplier.user)
    sollicitation.refresh_from_db()
    response = client.post(
        reverse("portal:sollicitation_action", args=[sollicitation.pk]),
        {"action": "completer", "expected_status": sollicitation.status, "body": "Le voici.",
         "attachments": SimpleUploadedFile("bon.pdf", PDF, content_type="application/pdf")},
    )  # fmt: skip
    assert response.status_code == 302
    attachment = sollicitation.messages.get(action="completer").attachments.get()
    download = client.get(reverse("portal:sollicitation_attachment", args=[sollicitation.pk, attachment.pk]))
    assert download.status_code == 200 and download.content == PDF

    client.force_login(buyer.user)
    assert _post_action(client, sollicitation, "repondre", body="Reçu, la facture reprend.").status_code == 302
    assert _post_action(client, sollicitation, "cloturer").status_code == 302
    client.force_login(supplier.user)
    assert _post_action(client, sollicitation, "relancer", body="Toujours pas payée.").status_code == 302
    sollicitation.refresh_from_db()
    assert sollicitation.status == S.RELANCEE
    sent = client.get(reverse("portal:sollicitations_sent")).content.decode()
    assert "Relancée" in sent


def test_bad_actions_are_shown_in_french_and_change_nothing(client, parties):
    supplier, buyer, _ = parties
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    client.force_login(buyer.user)
    response = _post_action(client, sollicitation, "repondre", body="  ")
    assert response.status_code == 400 and "Message : écrivez votre message" in response.content.decode()
    response = _post_action(client, sollicitation, "transferer", body="Pour vous.", transfer_to="12345678901234")
    assert "aucune structure n&#x27;est inscrite avec le SIRET" in response.content.decode()
    response = _post_action(client, sollicitation, "transferer", body="x", transfer_to=buyer.structure.identifier)
    assert "déjà adressée à votre structure" in response.content.decode()
    stale = client.post(
        reverse("portal:sollicitation_action", args=[sollicitation.pk]),
        {"action": "repondre", "expected_status": S.REPONDUE, "body": "x"},
    )
    assert stale.status_code == 400 and "rechargez la page" in stale.content.decode()
    sollicitation.refresh_from_db()
    assert sollicitation.status == S.OUVERTE and sollicitation.messages.count() == 1


def test_the_action_form_shows_the_fields_of_the_chosen_action(client, parties):
    supplier, buyer, _ = parties
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    client.force_login(buyer.user)
    url = reverse("portal:sollicitation_detail", args=[sollicitation.pk])
    fields = client.get(url, {"action": "transferer"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="transfer_to"' in fields and 'name="attachments"' not in fields
    fields = client.get(url, {"action": "repondre"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="attachments"' in fields and 'name="transfer_to"' not in fields


def test_search_filters_and_csv_export_neutralises_formulas(client, parties):
    supplier, buyer, _ = parties
    make_sollicitation(sender=supplier, recipient=buyer, subject='=HYPERLINK("http://x")')
    other = make_sollicitation(sender=supplier, recipient=buyer, subject="Paiement en retard")
    client.force_login(buyer.user)
    url = reverse("portal:sollicitations_received")
    found = client.get(url, {"numero": other.numero}).content.decode().split('id="sollicitation-results"')[1]
    assert "Paiement en retard" in found and "HYPERLINK" not in found
    assert "Aucune sollicitation ne correspond" in client.get(url, {"etat": "CLOTUREE"}).content.decode()
    assert "Menuiserie" in client.get(url, {"emetteur": "menuiserie", "categorie": "FACTURE"}).content.decode()
    bad = client.get(url, {"du": "2026-12-31", "au": "2026-01-01"}).content.decode()
    assert "la date de début est après la date de fin" in bad
    csv = b"".join(client.get(url, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and "\n=HYPERLINK" not in csv and ";=HYPERLINK" not in csv
    assert csv.splitlines()[0].startswith("Numéro;Date de dépôt;Émetteur")


def test_nobody_sees_or_acts_on_a_sollicitation_of_another_structure(client, parties):
    supplier, buyer, outsider = parties
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer, attachments=[("bon.pdf", PDF)])
    attachment = sollicitation.messages.get().attachments.get()
    client.force_login(outsider.user)
    urls = [
        ("get", reverse("portal:sollicitation_detail", args=[sollicitation.pk])),
        ("get", reverse("portal:sollicitation_attachment", args=[sollicitation.pk, attachment.pk])),
        ("post", reverse("portal:sollicitation_action", args=[sollicitation.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url, {"action": "repondre", "body": "x"} if method == "post" else {})
        assert response.status_code == 404, url
    for name in ("portal:sollicitations_sent", "portal:sollicitations_received"):
        assert sollicitation.numero not in client.get(reverse(name)).content.decode()
    csv = b"".join(client.get(reverse("portal:sollicitations_received"), {"format": "csv"}).streaming_content)
    assert sollicitation.numero.encode() not in csv
    invoice = InvoiceFactory(sent=True, supplier=supplier.structure, recipient=buyer.structure)
    assert client.get(reverse("portal:sollicitation_new"), {"facture": invoice.pk}).status_code == 404
    client.logout()
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 302  # to the login page
    assert sollicitation.status_changes.count() == 0


def test_the_public_contact_form_has_a_honeypot_and_a_rate_limit(client):
    url = reverse("portal:support_contact")
    data = {"subcategory": "SUPPORT.UTILISATION", "email": "visiteur@exemple.fr", "subject": "Aide",
            "body": "Comment déposer une facture ?"}  # fmt: skip
    robot = client.post(url, {**data, "website": "http://spam.example"})
    assert robot.status_code == 200 and not Sollicitation.objects.exists()
    assert (
        "Adresse électronique : saisissez une adresse valide"
        in client.post(url, {**data, "email": "pas-une-adresse"}).content.decode()
    )
    for _ in range(5):
        assert "est transmise au support" in client.post(url, data).content.decode()
    assert "déjà envoyé 5 demandes" in client.post(url, data).content.decode()
    assert Sollicitation.objects.filter(sender_email="visiteur@exemple.fr", recipient_kind="SUPPORT").count() == 5
    staff = UserFactory(staff=True)
    client.force_login(staff)
    assert "visiteur@exemple.fr" in client.get(reverse("portal:sollicitations_received")).content.decode()


def test_a_structure_creation_request_is_processed_from_the_same_screens(client, parties):
    supplier, _, _ = parties
    client.force_login(supplier.user)
    form = client.get(reverse("portal:sollicitation_new"), {"sous_categorie": "COMPTE.CREATION_STRUCTURE_PUBLIQUE"})
    assert "La structure publique à créer" in form.content.decode()
    data = {"sender_structure": supplier.structure.pk, "subcategory": "COMPTE.CREATION_STRUCTURE_PUBLIQUE",
            "subject": "Créer la commune", "body": "Notre client n'est pas inscrit.", "siret": "21690123100011",
            "raison_sociale": "Commune de Saint-Exemple", "adresse": "1 place de la Mairie", "code_postal": "69100",
            "ville": ""}  # fmt: skip
    response = client.post(reverse("portal:sollicitation_new"), data)
    assert "Ville : ce champ est obligatoire" in response.content.decode() and not Sollicitation.objects.exists()
    client.post(reverse("portal:sollicitation_new"), {**data, "ville": "Saint-Exemple"})
    sollicitation = Sollicitation.objects.get()
    staff = UserFactory(staff=True)
    client.force_login(staff)
    detail = client.get(reverse("portal:sollicitation_detail", args=[sollicitation.pk])).content.decode()
    assert "Traiter la demande" in detail and "21690123100011" in detail
    assert _post_action(client, sollicitation, "traiter_demande", body="Bienvenue.").status_code == 302
    structure = Structure.objects.get(identifier="21690123100011")
    assert structure.is_public
    assert (
        "Commune de Saint-Exemple" in client.get(reverse("portal:annuaire"), {"q": "Saint-Exemple"}).content.decode()
    )
    sollicitation.refresh_from_db()
    assert sollicitation.status == S.REPONDUE


def test_the_navigation_offers_sollicitations_by_role(client, parties):
    supplier, buyer, _ = parties
    client.force_login(supplier.user)
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:sollicitations_sent") in home and reverse("portal:sollicitations_received") not in home
    client.force_login(buyer.user)
    assert reverse("portal:sollicitations_received") in client.get(reverse("portal:home")).content.decode()
    client.logout()
    assert reverse("portal:support_contact") in client.get(reverse("portal:home")).content.decode()
    _ = subcategory


def test_the_sollicitation_notification_preference_is_set_with_the_others(client, parties):
    from choeur.sollicitations.notifications import sollicitation_preference_get

    supplier, _, _ = parties
    client.force_login(supplier.user)
    url = reverse("portal:notification_preferences")
    key = f"frequence-{supplier.structure.pk}:SOLLICITATIONS"
    assert f'name="{key}"' in client.get(url).content.decode()
    client.post(url, {key: "WEEKLY"})
    assert sollicitation_preference_get(user=supplier.user, structure=supplier.structure) == "WEEKLY"


def test_the_lists_cost_the_same_queries_for_3_or_30_sollicitations(client, parties):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    supplier, buyer, _ = parties
    client.force_login(buyer.user)
    url = reverse("portal:sollicitations_received")
    counts = []
    for total in (3, 30):
        while Sollicitation.objects.count() < total:
            make_sollicitation(sender=supplier, recipient=buyer)
        client.get(url)  # the first page of a session warms its caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
