"""« Engagements juridiques » pages: the buyer's list, entry, import and export; the supplier's list; one EJ's
page with its consumption; and nobody reads or acts on an EJ of a structure they do not belong to."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from choeur.core.files import file_store
from choeur.directory.enums import EspaceCode
from choeur.directory.models import EngagementJuridique
from choeur.invoices.enums import InvoiceStatus
from tests.accounts.factories import UserFactory
from tests.directory.factories import EngagementFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def buyer():
    return StructureFactory(public=True, raison_sociale="Commune de Belair")


@pytest.fixture
def supplier():
    return StructureFactory(raison_sociale="Menuiserie Lambert")


@pytest.fixture
def clerk(buyer):
    return member_of(buyer, EspaceCode.FACTURES_RECUES)


@pytest.fixture
def seller(supplier):
    return member_of(supplier, EspaceCode.FACTURES_EMISES)


@pytest.fixture
def ej(buyer, supplier):
    return EngagementFactory(structure=buyer, supplier=supplier, number="BC-42", amount_ttc=Decimal("1000.00"))


def logged(client, user):
    client.force_login(user)
    return client


def test_buyer_list_shows_consumption_and_exports_csv(client, clerk, ej):
    InvoiceFactory(
        supplier=ej.supplier,
        recipient=ej.structure,
        numero_engagement="BC-42",
        status=InvoiceStatus.MISE_EN_PAIEMENT,
        total_ttc=Decimal("400.00"),
    )
    page = logged(client, clerk).get(reverse("portal:engagements")).content.decode()
    assert "BC-42" in page and "Menuiserie Lambert" in page
    assert "400,00\u00a0€" in page and "600,00\u00a0€" in page
    exported = b"".join(client.get(reverse("portal:engagements") + "?export=csv").streaming_content).decode()
    assert "BC-42;Bon de commande;Commune de Belair" in exported and ";400,00;400,00;400,00;600,00;" in exported


def test_manual_entry_form(client, clerk, buyer, supplier):
    response = logged(client, clerk).post(
        reverse("portal:engagement_new"),
        {
            "structure": buyer.pk,
            "number": "BC-7",
            "type": "BON_DE_COMMANDE",
            "supplier": supplier.identifier,
            "service": "",
            "amount_ttc": "2 500,00",
            "currency": "EUR",
            "notified_on": "2026-09-10",
            "state": "COMMANDE",
            "document": SimpleUploadedFile("bc.pdf", PDF, content_type="application/pdf"),
        },
    )
    ej = EngagementJuridique.objects.get(number="BC-7")
    assert response.status_code == 302 and response["Location"] == reverse("portal:engagement_detail", args=[ej.pk])
    assert ej.amount_ttc == Decimal("2500.00") and ej.document_name == "bc.pdf"
    assert client.get(reverse("portal:engagement_document", args=[ej.pk])).content == PDF


def test_manual_entry_shows_french_errors_on_the_fields(client, clerk, buyer):
    response = logged(client, clerk).post(
        reverse("portal:engagement_new"),
        {
            "structure": buyer.pk,
            "number": "BC-8",
            "type": "BON_DE_COMMANDE",
            "supplier": "11111111111111",
            "amount_ttc": "12,5x",
            "currency": "EUR",
            "notified_on": "2026-09-10",
            "state": "COMMANDE",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Le montant TTC « 12,5x » n&#x27;est pas un nombre." in page
    assert "Aucun fournisseur d&#x27;identifiant « 11111111111111 »" in page
    assert not EngagementJuridique.objects.exists()


def test_import_page_lists_the_bad_lines_and_saves_nothing(client, clerk, buyer, supplier):
    content = (
        "numero_engagement;siret_fournisseur;montant_ttc;date_notification\n"
        f"BC-1;{supplier.identifier};100;01/09/2026\n"
        f"BC-2;{supplier.identifier};100;01/09/2026\n"
        f"BC-3;{supplier.identifier};100;01/09/2026\n"
        f"BC-4;{supplier.identifier};100;01/09/2026\n"
        f"BC-5;{supplier.identifier};100;01/09/2026\n"
        f"BC-6;{supplier.identifier};12,5x;01/09/2026\n"
    ).encode()
    response = logged(client, clerk).post(
        reverse("portal:engagement_import"),
        {"structure": buyer.pk, "file": SimpleUploadedFile("ej.csv", content, content_type="text/csv")},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Ligne 7 : le montant TTC « 12,5x » n&#x27;est pas un nombre" in page
    assert "rien n&#x27;a été enregistré" in page
    assert not EngagementJuridique.objects.exists()


def test_import_page_imports_and_says_what_it_did(client, clerk, buyer, supplier):
    content = (
        "numero_engagement;siret_fournisseur;montant_ttc;date_notification\n"
        f"BC-1;{supplier.identifier};10;01/09/2026\n"
    )
    for expected in ("1 créé(s)", "1 inchangé(s)"):
        response = logged(client, clerk).post(
            reverse("portal:engagement_import"),
            {"structure": buyer.pk, "file": SimpleUploadedFile("ej.csv", content.encode())},
            follow=True,
        )
        assert expected in response.content.decode()
    assert EngagementJuridique.objects.count() == 1
    template = client.get(reverse("portal:engagement_import_template")).content.decode()
    assert template.startswith("\ufeffnumero_engagement;type;siret_fournisseur")


def test_supplier_sees_the_ejs_addressed_to_it_without_payments(client, seller, ej):
    EngagementFactory(number="BC-AUTRE")
    page = logged(client, seller).get(reverse("portal:engagements_received")).content.decode()
    assert "BC-42" in page and "Commune de Belair" in page and "BC-AUTRE" not in page
    detail = client.get(reverse("portal:engagement_detail", args=[ej.pk])).content.decode()
    assert 'id="ej-remaining"' in detail and 'id="ej-paid"' not in detail
    assert client.get(reverse("portal:engagement_new")).status_code == 403


def test_buyer_detail_shows_invoiced_validated_paid_and_the_invoices(client, clerk, ej):
    for status, ttc in ((InvoiceStatus.MISE_A_DISPOSITION, "100.00"), (InvoiceStatus.MISE_EN_PAIEMENT, "250.00")):
        InvoiceFactory(
            supplier=ej.supplier,
            recipient=ej.structure,
            numero_engagement="bc-42",
            status=status,
            total_ttc=Decimal(ttc),
            deposited_at="2026-09-20T10:00:00Z",
        )
    page = logged(client, clerk).get(reverse("portal:engagement_detail", args=[ej.pk])).content.decode()
    assert 'id="ej-invoiced">350,00\u00a0€' in page
    assert 'id="ej-validated">250,00\u00a0€' in page
    assert 'id="ej-paid">250,00\u00a0€' in page
    assert 'id="ej-remaining">650,00\u00a0€' in page
    assert "Mise en paiement" in page


def _every_ej_url(ej):
    return [
        ("get", reverse("portal:engagement_detail", args=[ej.pk])),
        ("get", reverse("portal:engagement_document", args=[ej.pk])),
    ]


@pytest.mark.parametrize("who", ["stranger_buyer", "stranger_supplier", "pending", "anonymous"])
def test_nobody_reads_an_ej_of_a_structure_they_do_not_belong_to(client, ej, who):
    EngagementJuridique.objects.filter(pk=ej.pk).update(document=file_store(content=PDF), document_name="bc.pdf")
    if who == "stranger_buyer":
        client.force_login(member_of(StructureFactory(public=True)))
    elif who == "stranger_supplier":
        client.force_login(member_of(StructureFactory()))
    elif who == "pending":
        from tests.directory.factories import RattachementFactory

        user = UserFactory()
        RattachementFactory(user=user, structure=ej.structure, pending=True)
        client.force_login(user)
    for _method, url in _every_ej_url(ej):
        response = client.get(url)
        assert response.status_code in (302, 404), url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("portal:login"))
    for name in ("engagements", "engagements_received"):
        response = client.get(reverse(f"portal:{name}"))
        assert "BC-42" not in response.content.decode()


def test_only_buyers_with_write_access_enter_or_import(client, buyer, supplier):
    reader = member_of(StructureFactory(public=True), EspaceCode.FACTURES_EMISES)
    for url in (reverse("portal:engagement_new"), reverse("portal:engagement_import")):
        assert logged(client, reader).get(url).status_code == 403
        response = client.post(url, {"structure": buyer.pk, "number": "X"})
        assert response.status_code == 403
    assert not EngagementJuridique.objects.exists()


def test_a_buyer_cannot_import_into_another_structure(client, clerk, supplier):
    other = StructureFactory(public=True)
    content = (
        "numero_engagement;siret_fournisseur;montant_ttc;date_notification\n"
        f"BC-1;{supplier.identifier};10;01/09/2026\n"
    )
    response = logged(client, clerk).post(
        reverse("portal:engagement_import"),
        {"structure": other.pk, "file": SimpleUploadedFile("ej.csv", content.encode())},
    )
    assert response.status_code == 400
    assert not EngagementJuridique.objects.exists()


def test_every_ej_page_is_closed_to_strangers(client, ej):
    """Every URL of the EJ pages (a new one is checked as soon as it is added): a person of another public
    structure and one of another supplier neither read the EJ nor act on it."""
    from choeur.portal.engagements_views.urls import urlpatterns

    EngagementJuridique.objects.filter(pk=ej.pk).update(document=file_store(content=PDF), document_name="bc.pdf")
    strangers = [
        member_of(StructureFactory(public=True), EspaceCode.FACTURES_RECUES, EspaceCode.ENGAGEMENTS),
        member_of(StructureFactory(), EspaceCode.FACTURES_EMISES, EspaceCode.ENGAGEMENTS),
    ]
    body = {"structure": ej.structure_id, "number": "BC-42", "supplier": ej.supplier.identifier, "amount_ttc": "1"}
    for stranger in strangers:
        client.force_login(stranger)
        for pattern in urlpatterns:
            kwargs = {"pk": ej.pk} if "<int:pk>" in str(pattern.pattern) else {}
            url = reverse(f"portal:{pattern.name}", kwargs=kwargs)
            for response in (client.get(url), client.post(url, body)):
                page = response.content.decode(errors="replace")
                assert response.status_code in (200, 400, 403, 404, 405), (url, response.status_code)
                assert "BC-42" not in page or pattern.name == "engagement_new", url
                assert response.content != PDF, url
    ej.refresh_from_db()
    assert ej.amount_ttc == Decimal("1000.00")
    assert EngagementJuridique.objects.count() == 1


def test_buyer_attaches_the_pdf_and_a_wrong_file_is_refused(client, clerk, seller, ej):
    url = reverse("portal:engagement_document_upload", args=[ej.pk])
    wrong = logged(client, clerk).post(url, {"document": SimpleUploadedFile("bc.pdf", b"hello")})
    assert wrong.status_code == 400 and "porte l&#x27;extension .pdf mais son contenu est" in wrong.content.decode()
    assert logged(client, clerk).post(url, {"document": SimpleUploadedFile("bc.pdf", PDF)}).status_code == 302
    ej.refresh_from_db()
    assert ej.document_name == "bc.pdf"
    assert logged(client, seller).post(url, {"document": SimpleUploadedFile("x.pdf", PDF)}).status_code == 403
    assert "Joindre le PDF" not in client.get(reverse("portal:engagement_detail", args=[ej.pk])).content.decode()
    ej.refresh_from_db()
    assert ej.document_name == "bc.pdf"
