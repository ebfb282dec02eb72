"""« Factures à valider » in the portal: the queue by deadline, the three answers, the documents, and the
supplier's correction of the valideur."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from choeur.directory.enums import EspaceCode, Habilitation, Role, SubscriptionStatus
from choeur.directory.models import EspaceSubscription
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.services import invoice_send
from choeur.invoices.validation_circuit import invoice_validate
from tests.directory.factories import RattachementFactory, ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of, open_espace

pytestmark = pytest.mark.django_db

S = InvoiceStatus
SENT_AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def sent_a9(*, at=SENT_AT, **kwargs):
    draft = InvoiceFactory(with_lines=True, a9=True, invoice_date=at.date(), **kwargs)
    with time_machine.travel(at, tick=False):
        return invoice_send(invoice=draft, by=issuer_for(draft.supplier))


@pytest.fixture
def titulaire_structure():
    return StructureFactory(raison_sociale="Bâtir Ensemble")


@pytest.fixture
def invoice(titulaire_structure):
    return sent_a9(valideur=titulaire_structure)


@pytest.fixture
def titulaire(titulaire_structure):
    return member_of(titulaire_structure, EspaceCode.FACTURES_A_VALIDER)


@pytest.fixture
def titulaire_client(client, titulaire):
    client.force_login(titulaire)
    return client


def _post(client, invoice, prefix, **fields):
    data = {f"{prefix}-{name}": value for name, value in fields.items()}
    data.setdefault(f"{prefix}-expected_status", invoice.status)
    decision = {"valider": "VALIDATION", "refuser": "REFUS", "erreur": "ERREUR_VALIDEUR"}[prefix]
    data.setdefault(f"{prefix}-decision", decision)
    return client.post(reverse("portal:invoice_to_validate", args=[invoice.pk]), data)


@pytest.mark.parametrize("name", ["portal:invoices_to_validate"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_queue_is_sorted_by_deadline_and_shows_it(titulaire_client, titulaire_structure):
    older = sent_a9(valideur=titulaire_structure, at=SENT_AT - datetime.timedelta(days=13), number="F-ANCIENNE")
    newer = sent_a9(valideur=titulaire_structure, number="F-RECENTE")
    foreign = sent_a9(number="F-AUTRE")  # another valideur's
    with time_machine.travel(SENT_AT + datetime.timedelta(hours=1), tick=False):
        response = titulaire_client.get(reverse("portal:invoices_to_validate"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("F-ANCIENNE") < html.index("F-RECENTE")
    assert "F-AUTRE" not in html
    assert "2 factures à valider, par échéance" in html
    # Older: reached on 17 Feb, deadline 4 March, 2 days left → shown as close.
    assert "04/03/2026" in html and "2 jours" in html and "fr-badge--warning" in html
    assert "17/03/2026" in html and "15 jours" in html
    assert older.supplier.designation in html and newer.recipient.designation in html
    assert foreign.pk


def test_a_user_without_the_espace_is_told_how_to_get_it(client, titulaire_structure, invoice):
    member = RattachementFactory(structure=titulaire_structure, role=Role.UTILISATEUR_SIMPLE).user
    client.force_login(member)
    html = client.get(reverse("portal:invoices_to_validate")).content.decode()
    assert "abonné à l'espace « Factures à valider »" in html
    assert invoice.number not in html
    assert client.get(reverse("portal:invoice_to_validate", args=[invoice.pk])).status_code == 404


def test_detail_shows_summary_deadline_documents_and_the_three_answers(titulaire_client, titulaire, invoice):
    with time_machine.travel(SENT_AT + datetime.timedelta(days=5), tick=False):
        response = titulaire_client.get(reverse("portal:invoice_to_validate", args=[invoice.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Répondez au plus tard le 17/03/2026 à 10:00 (10 jours restants)" in html
    assert invoice.supplier.designation in html and invoice.recipient.designation in html
    assert "A9 — Dépôt par un sous-traitant d&#x27;une facture" in html
    assert reverse("portal:invoice_to_validate_document", args=[invoice.pk]) in html
    assert "Prestations hors du périmètre de l&#x27;acte spécial de sous-traitance" in html
    assert "Part du cotraitant" not in html and "part du cotraitant" not in html
    for button in ("Valider", "Refuser", "Je ne suis pas le bon valideur"):
        assert f"{button}</button>" in html

    # The session was saved under the travelled clock (and so expired back in the present): log in again.
    titulaire_client.force_login(titulaire)
    document = titulaire_client.get(reverse("portal:invoice_to_validate_document", args=[invoice.pk]))
    assert document.status_code == 200
    assert document["Content-Type"] == "application/pdf"
    assert document.content.startswith(b"%PDF-")


def test_validation_needs_the_titulaire_tick(titulaire_client, invoice):
    response = _post(titulaire_client, invoice, "valider", comment="OK")
    assert response.status_code == 400
    assert "Cochez la case pour confirmer que vous êtes le titulaire" in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == S.A_VALIDER_1


def test_validation_sends_the_invoice_to_the_buyer(titulaire_client, invoice, titulaire):
    response = _post(titulaire_client, invoice, "valider", certified="on", comment="Travaux réceptionnés.")
    assert response.status_code == 302 and response["Location"] == reverse("portal:invoices_to_validate")
    invoice.refresh_from_db()
    assert invoice.status == S.MISE_A_DISPOSITION
    change = InvoiceStatusChange.objects.get(invoice=invoice, transition="valider_1")
    assert change.actor_user == titulaire and change.comment == "Travaux réceptionnés."
    assert change.data["titulaire_certifie"] is True
    html = titulaire_client.get(response["Location"]).content.decode()
    assert f"Facture {invoice.number} validée : elle est mise à disposition de {invoice.recipient.designation}" in html
    assert "Aucune facture n'attend votre validation." in html


def test_refusal_with_a_motif(titulaire_client, invoice):
    missing = _post(titulaire_client, invoice, "refuser", motif="")
    assert missing.status_code == 400 and "Choisissez le motif du refus." in missing.content.decode()
    other = _post(titulaire_client, invoice, "refuser", motif="AUTRE")
    assert other.status_code == 400
    assert "précisez la raison du refus en commentaire" in other.content.decode()

    response = _post(titulaire_client, invoice, "refuser", motif="PRESTATIONS_NON_REALISEES", comment="Lot inachevé.")
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == S.REFUSEE_1
    assert (
        InvoiceStatusChange.objects.get(invoice=invoice, transition="refuser_1").motif == "PRESTATIONS_NON_REALISEES"
    )


def test_stale_page_changes_nothing(titulaire_client, invoice):
    invoice_validate(invoice=invoice, by=None, structure=invoice.valideur, decision="VALIDATION", channel="API")
    # The invoice left the queue: the page is gone for the valideur.
    response = _post(titulaire_client, invoice, "refuser", motif="DOUBLON", expected_status=S.A_VALIDER_1)
    assert response.status_code == 404


def test_conflict_when_the_status_moved_between_display_and_post(titulaire_client, invoice):
    response = _post(titulaire_client, invoice, "valider", certified="on", expected_status=S.A_VALIDER_2)
    assert response.status_code == 302
    html = titulaire_client.get(response["Location"]).content.decode()
    assert "entre-temps" in html and "Aucune modification n&#x27;a été faite." in html
    assert Invoice.objects.get(pk=invoice.pk).status == S.A_VALIDER_1


def test_a_reader_cannot_answer(client, invoice, titulaire_structure):
    open_espace(titulaire_structure, EspaceCode.FACTURES_A_VALIDER)
    reader = RattachementFactory(structure=titulaire_structure, role=Role.UTILISATEUR_SIMPLE)
    EspaceSubscription.objects.create(
        rattachement=reader,
        espace=titulaire_structure.espaces.get(code=EspaceCode.FACTURES_A_VALIDER),
        habilitation=Habilitation.CONSULTATION_UNIQUEMENT,
        status=SubscriptionStatus.VALIDEE,
    )
    client.force_login(reader.user)
    assert invoice.number in client.get(reverse("portal:invoices_to_validate")).content.decode()
    response = _post(client, invoice, "valider", certified="on")
    assert response.status_code == 403
    assert "habilitation « modification »" in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == S.A_VALIDER_1


def test_wrong_valideur_then_the_supplier_corrects_it_in_the_portal(client, titulaire_client, invoice):
    response = _post(titulaire_client, invoice, "erreur", comment="Le titulaire est Bâtiments Réunis.")
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == S.ERREUR_FOURNISSEUR_SUR_VALIDEUR

    supplier_user = issuer_for(invoice.supplier)
    client.force_login(supplier_user)
    queue = client.get(reverse("portal:invoices_to_validate")).content.decode()
    correct_url = reverse("portal:invoice_valideur_correct", args=[invoice.pk])
    assert correct_url in queue and "Vos factures dont le valideur est à corriger" in queue

    page = client.get(correct_url).content.decode()
    assert "Bâtir Ensemble, désigné comme valideur, a indiqué ne pas être le bon valideur" in page
    assert "« Le titulaire est Bâtiments Réunis. »" in page

    right = StructureFactory(raison_sociale="Bâtiments Réunis")
    service = ServiceFactory(structure=right, code="CHANTIERS", libelle="Chantiers")
    too_short = client.get(correct_url, {"q": "12"}).content.decode()
    assert "au moins 3 chiffres" in too_short
    by_name = client.get(correct_url, {"q": "bâtiments réunis"}, headers={"HX-Request": "true"})
    html = by_name.content.decode()
    assert "<html" not in html  # the HTMX partial only
    assert right.identifier in html and "CHANTIERS — Chantiers" in html
    by_siret = client.get(correct_url, {"q": right.identifier[:9]}).content.decode()
    assert f"Désigner {right.designation}" in by_siret

    # The structure that declined is refused with a French reason.
    refused = client.post(
        correct_url, {"valideur": invoice.valideur_id, "service": "", "expected_status": invoice.status}
    )
    assert refused.status_code == 400 and "a indiqué ne pas être le valideur" in refused.content.decode()

    done = client.post(correct_url, {"valideur": right.pk, "service": service.pk, "expected_status": invoice.status})
    assert done.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == S.A_VALIDER_1
    assert (invoice.valideur, invoice.valideur_service) == (right, service)
    assert "qui a 15 jours pour la valider" in client.get(done["Location"]).content.decode()
    # Once corrected, the page is gone.
    assert client.get(correct_url).status_code == 404


def test_only_the_supplier_reaches_the_correction_page(client, invoice, titulaire):
    invoice_validate(invoice=invoice, by=None, structure=invoice.valideur, decision="ERREUR_VALIDEUR", channel="API")
    client.force_login(titulaire)
    assert client.get(reverse("portal:invoice_valideur_correct", args=[invoice.pk])).status_code == 404
