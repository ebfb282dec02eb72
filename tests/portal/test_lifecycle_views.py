"""Portal pages of the lifecycle: notification centre, preferences, rejections to acknowledge, and the
middleware that blocks a supplier who left a rejection unacknowledged for more than 7 days."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import InvoiceStatus, NotificationFrequency
from choeur.invoices.lifecycle import invoice_process
from choeur.invoices.models import Invoice, Notification, NotificationPreference
from tests.accounts.factories import UserFactory
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of

pytestmark = pytest.mark.django_db

S = InvoiceStatus
MIDDLEWARE = "choeur.portal.lifecycle_views.middleware.RejectionAcknowledgementMiddleware"


@pytest.fixture
def invoice():
    return InvoiceFactory(sent=True, with_lines=True, number="F-PORTAIL-7")


@pytest.fixture
def buyer(invoice):
    return member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)


@pytest.fixture
def seller(invoice):
    return issuer_for(invoice.supplier)


@pytest.fixture
def with_middleware(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


def act(invoice, buyer, transition, capture, **kwargs):
    with capture(execute=True):
        invoice_process(invoice=invoice, by=buyer, structure=invoice.recipient, transition=transition, **kwargs)


def reject(invoice, buyer, capture):
    act(invoice, buyer, "rejeter", capture, motif="DOUBLE_FACTURE", comment="Déjà reçue le 2 mars.")


@pytest.mark.parametrize(
    "name", ["portal:notifications", "portal:notification_preferences", "portal:rejections_pending"]
)
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/connexion/" in response["Location"]


# --- Notification centre ---------------------------------------------------------------------------------------


def test_notification_centre_lists_and_marks_read(client, invoice, buyer, seller, django_capture_on_commit_callbacks):
    act(invoice, buyer, "service_fait", django_capture_on_commit_callbacks)
    act(invoice, buyer, "mandater", django_capture_on_commit_callbacks, numero_dp_mandat="M-1")
    client.force_login(seller)
    page = client.get(reverse("portal:notifications")).content.decode()
    assert "2 non lues" in page
    assert "Facture F-PORTAIL-7 : service fait" in page and "Facture F-PORTAIL-7 : mandatée" in page
    first = Notification.objects.filter(user=seller).order_by("id").first()
    # HTMX: one row marked read, the partial comes back.
    response = client.post(reverse("portal:notifications_mark_read"), {"ids": [first.pk]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "1 non lue" in response.content.decode() and "<h1>" not in response.content.decode()
    assert Notification.objects.get(pk=first.pk).read_at is not None
    unread = client.get(reverse("portal:notifications") + "?filtre=non-lues").content.decode()
    assert "mandatée" in unread and "service fait" not in unread
    response = client.post(reverse("portal:notifications_mark_read"), {"tout": "1"})
    assert response.status_code == 302
    assert not Notification.objects.filter(user=seller, read_at__isnull=True).exists()
    assert "Tout est lu" in client.get(reverse("portal:notifications")).content.decode()


def test_opening_a_notification_marks_it_read(client, invoice, buyer, seller, django_capture_on_commit_callbacks):
    act(invoice, buyer, "service_fait", django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=seller)
    client.force_login(seller)
    response = client.get(reverse("portal:notification_open", args=[notification.pk]))
    assert response.status_code == 302
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_another_persons_notification_is_not_found(client, invoice, buyer, seller, django_capture_on_commit_callbacks):
    act(invoice, buyer, "service_fait", django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=seller)
    client.force_login(buyer)
    response = client.get(reverse("portal:notification_open", args=[notification.pk]), follow=True)
    assert "Notification introuvable." in response.content.decode()
    assert client.post(reverse("portal:notifications_mark_read"), {"ids": [notification.pk]}).status_code == 302
    assert Notification.objects.get(pk=notification.pk).read_at is None
    assert "F-PORTAIL-7" not in client.get(reverse("portal:notifications")).content.decode()


# --- Preferences -------------------------------------------------------------------------------------------------


def test_preferences_page_saves_each_choice(client, invoice, seller):
    client.force_login(seller)
    page = client.get(reverse("portal:notification_preferences")).content.decode()
    key = f"{invoice.supplier.pk}:{EspaceCode.FACTURES_EMISES}"
    assert invoice.supplier.designation in page and f'name="frequence-{key}"' in page
    response = client.post(reverse("portal:notification_preferences"), {f"frequence-{key}": "WEEKLY"}, follow=True)
    assert "Préférences enregistrées (1 modification(s))." in response.content.decode()
    preference = NotificationPreference.objects.get(user=seller)
    assert (preference.structure, preference.espace, preference.frequency) == (
        invoice.supplier,
        EspaceCode.FACTURES_EMISES,
        NotificationFrequency.WEEKLY,
    )
    response = client.post(reverse("portal:notification_preferences"), {f"frequence-{key}": "PARFOIS"}, follow=True)
    assert "Fréquence « PARFOIS » inconnue" in response.content.decode()
    assert NotificationPreference.objects.get(user=seller).frequency == NotificationFrequency.WEEKLY


def test_preferences_without_any_espace(client):
    client.force_login(UserFactory())
    assert "Vous ne suivez aucun espace" in client.get(reverse("portal:notification_preferences")).content.decode()


# --- Rejections to acknowledge -----------------------------------------------------------------------------------


def test_rejections_page_lists_and_acknowledges(client, invoice, buyer, seller, django_capture_on_commit_callbacks):
    reject(invoice, buyer, django_capture_on_commit_callbacks)
    client.force_login(seller)
    page = client.get(reverse("portal:rejections_pending")).content.decode()
    assert "F-PORTAIL-7" in page and "Facture déjà reçue (doublon)" in page and "Déjà reçue le 2 mars." in page
    assert "Prise de connaissance obligatoire" not in page
    response = client.post(reverse("portal:rejections_pending"), {}, follow=True)
    assert "Cochez au moins une facture" in response.content.decode()
    assert not Invoice.objects.get(pk=invoice.pk).rejet_traite
    response = client.post(reverse("portal:rejections_pending"), {"factures": [invoice.pk]}, follow=True)
    assert "Prise de connaissance enregistrée pour 1 facture(s)." in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).rejet_traite
    assert "Aucune facture rejetée ou suspendue" in client.get(reverse("portal:rejections_pending")).content.decode()


def test_an_invoice_of_another_structure_cannot_be_acknowledged(
    client, invoice, buyer, django_capture_on_commit_callbacks
):
    reject(invoice, buyer, django_capture_on_commit_callbacks)
    outsider = issuer_for(InvoiceFactory(sent=True).supplier)
    client.force_login(outsider)
    response = client.post(reverse("portal:rejections_pending"), {"factures": [invoice.pk]}, follow=True)
    assert "Cochez au moins une facture" in response.content.decode()
    assert not Invoice.objects.get(pk=invoice.pk).rejet_traite


# --- Blocking after 7 days ---------------------------------------------------------------------------------------


def age(invoice, days):
    Invoice.objects.filter(pk=invoice.pk).update(status_changed_at=timezone.now() - timedelta(days=days))


def test_a_supplier_is_blocked_after_seven_days_until_acknowledgement(
    client, with_middleware, invoice, buyer, seller, django_capture_on_commit_callbacks
):
    reject(invoice, buyer, django_capture_on_commit_callbacks)
    client.force_login(seller)
    assert client.get(reverse("portal:notifications")).status_code == 200  # Not yet 7 days.
    age(invoice, 8)
    session = client.session
    session.pop("choeur_rejets_bloquants", None)
    session.save()
    response = client.get(reverse("portal:notifications"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:rejections_pending") + "?next=%2Fnotifications%2F"
    # HTMX requests are redirected the HTMX way.
    response = client.get(reverse("portal:notification_preferences"), HTTP_HX_REQUEST="true")
    assert response.headers.get("HX-Redirect") == reverse("portal:rejections_pending")
    # The acknowledgement page and the way out stay open.
    page = client.get(response.headers["HX-Redirect"] + "?next=/notifications/")
    assert page.status_code == 200 and "Prise de connaissance obligatoire" in page.content.decode()
    response = client.post(reverse("portal:rejections_pending"), {"factures": [invoice.pk], "next": "/notifications/"})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert client.get(reverse("portal:notifications")).status_code == 200
    # The recipient's people are never blocked by it.
    client.force_login(buyer)
    assert client.get(reverse("portal:notifications")).status_code == 200


def test_next_must_stay_on_the_site(
    client, with_middleware, invoice, buyer, seller, django_capture_on_commit_callbacks
):
    reject(invoice, buyer, django_capture_on_commit_callbacks)
    age(invoice, 8)
    client.force_login(seller)
    response = client.post(
        reverse("portal:rejections_pending"), {"factures": [invoice.pk], "next": "https://hameconnage.example/"}
    )
    assert response["Location"] == reverse("portal:rejections_pending")
