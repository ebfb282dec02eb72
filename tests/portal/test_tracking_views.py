"""« Factures émises » / « Factures reçues » dashboards, the invoice page, its actions and its downloads."""

import html
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from choeur.core.files import file_store
from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import InvoiceEventAction, InvoiceStatus
from choeur.invoices.lifecycle import invoice_process
from choeur.invoices.models import Invoice, InvoiceAttachment, InvoiceEvent, InvoiceStatusChange
from tests.accounts.factories import UserFactory
from tests.directory.factories import ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of

pytestmark = pytest.mark.django_db

S = InvoiceStatus
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def supplier():
    return StructureFactory(raison_sociale="Menuiserie Lambert")


@pytest.fixture
def buyer():
    return StructureFactory(public=True, raison_sociale="Commune de Belair")


@pytest.fixture
def seller(supplier):
    return member_of(supplier, EspaceCode.FACTURES_EMISES)


@pytest.fixture
def clerk(buyer):
    return member_of(buyer, EspaceCode.FACTURES_RECUES)


@pytest.fixture
def invoice(supplier, buyer):
    invoice = InvoiceFactory(sent=True, with_lines=True, supplier=supplier, recipient=buyer, number="FA-100")
    Invoice.objects.filter(pk=invoice.pk).update(main_document=file_store(content=PDF, mime_type="application/pdf"))
    return Invoice.objects.get(pk=invoice.pk)


def as_user(client, user):
    client.force_login(user)
    return client


def detail(client, invoice):
    return client.get(reverse("portal:invoice_detail", args=[invoice.pk]))


def act(client, invoice, action, expected=None, **fields):
    data = {"action": action, "expected_status": expected or Invoice.objects.get(pk=invoice.pk).status}
    data.update({f"{action}-{key}": value for key, value in fields.items()})
    return client.post(reverse("portal:invoice_action", args=[invoice.pk]), data)


def text(response) -> str:
    return html.unescape(response.content.decode())


def status_of(invoice):
    return Invoice.objects.get(pk=invoice.pk).status


# --- Dashboards -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["portal:invoices_issued", "portal:invoices_received", "portal:invoice_stats"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_without_espace_the_dashboard_explains_what_to_ask(client):
    response = as_user(client, UserFactory()).get(reverse("portal:invoices_received"))
    assert response.status_code == 403
    assert "« Factures reçues »" in text(response)


def test_issued_dashboard_lists_filters_and_counts(client, seller, supplier, buyer, invoice):
    other = InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, number="FA-200", status=S.SUSPENDUE)
    InvoiceFactory(supplier=supplier, recipient=buyer, number="BR-1")
    InvoiceFactory(sent=True, number="NOT-MINE")
    client = as_user(client, seller)
    content = text(client.get(reverse("portal:invoices_issued")))
    assert "FA-100" in content and "FA-200" in content and "BR-1" in content and "NOT-MINE" not in content
    assert "Brouillons : 1" in content and "Suspendues : 1" in content
    assert 'data-status="SUSPENDUE"' in content
    filtered = text(client.get(reverse("portal:invoices_issued"), {"statut": "SUSPENDUE"}))
    assert other.number in filtered and "FA-100" not in filtered
    # Counts stay the facets of the whole list, so one can switch to another status.
    assert "Mise à disposition du destinataire : 1" in filtered


def test_htmx_filtering_returns_the_results_fragment(client, seller, invoice):
    response = as_user(client, seller).get(
        reverse("portal:invoices_issued"), {"numero": "FA-1"}, HTTP_HX_REQUEST="true"
    )
    content = text(response)
    assert response.status_code == 200
    assert "<html" not in content and 'id="invoice-table"' in content and "FA-100" in content


def test_invalid_filters_say_what_to_fix(client, seller, invoice):
    response = as_user(client, seller).get(
        reverse("portal:invoices_issued"), {"montant_min": "500", "montant_max": "10"}
    )
    content = text(response)
    assert "Le montant maximum est inférieur au minimum" in content
    assert "FA-100" not in content.split('id="invoice-table"')[1]


def test_pagination_keeps_the_filters(client, seller, supplier, buyer):
    for index in range(25):
        InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, number=f"PG-{index:02d}")
    client = as_user(client, seller)
    first = text(client.get(reverse("portal:invoices_issued"), {"numero": "PG", "tri": "numero"}))
    assert "25 factures" in first and "PG-00" in first and "PG-24" not in first
    assert "numero=PG" in first and "page=2" in first
    second = client.get(reverse("portal:invoices_issued"), {"numero": "PG", "tri": "numero", "page": 2})
    assert "PG-24" in text(second)


def test_exports_follow_the_filters(client, seller, supplier, buyer, invoice):
    from openpyxl import load_workbook

    InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, number="FA-999", total_ttc=Decimal("5"))
    client = as_user(client, seller)
    response = client.get(reverse("portal:invoices_issued"), {"numero": "FA-100", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    assert "FA-100" in text and "FA-999" not in text
    response = client.get(reverse("portal:invoices_issued"), {"numero": "FA-999", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows] == ["Numéro", "FA-999"]


def test_received_dashboard_and_downloaded_filter(client, clerk, supplier, buyer, invoice):
    InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, number="SEEN", downloaded_by_recipient=True)
    client = as_user(client, clerk)
    content = text(client.get(reverse("portal:invoices_received")))
    assert "FA-100" in content and "SEEN" in content and "Non téléchargées : 1" in content
    table = text(client.get(reverse("portal:invoices_received"), {"telechargee": "non"}))
    table = table.split('id="invoice-table"')[1]
    assert "FA-100" in table and "SEEN" not in table


def test_buyer_not_reporting_payment_hides_it_from_the_supplier(client, seller, clerk, buyer, invoice):
    buyer.mise_en_paiement_non_remontee = True
    buyer.save()
    invoice_process(invoice=invoice, by=clerk, structure=buyer, transition="service_fait")
    invoice_process(invoice=invoice, by=clerk, structure=buyer, transition="mettre_en_paiement")
    supplier_view = text(as_user(client, seller).get(reverse("portal:invoices_issued")))
    assert 'data-status="SERVICE_FAIT"' in supplier_view and 'data-status="MISE_EN_PAIEMENT"' not in supplier_view
    page = text(detail(client, invoice))
    assert 'data-status="SERVICE_FAIT"' in page and 'data-status="MISE_EN_PAIEMENT"' not in page
    assert "ne transmet pas le statut « mise en paiement »" in page
    buyer_view = text(as_user(client, clerk).get(reverse("portal:invoices_received")))
    assert 'data-status="MISE_EN_PAIEMENT"' in buyer_view


# --- The invoice page -----------------------------------------------------------------------------------


def test_invoice_page_shows_data_timeline_next_step_and_clock(client, seller, invoice):
    content = text(detail(as_user(client, seller), invoice))
    assert "FA-100" in content and "Maintenance des ascenseurs" in content  # a line
    assert "Ventilation de la TVA" in content and "<td>5,5\xa0%</td>" in content and "85,5 €" in content
    assert "Prochaine étape" in content and "Traitement par le destinataire" in content
    assert "Paiement attendu au plus tard le" in content
    assert 'id="payment-clock"' in content and "Délai global : 30 jours" in content
    # The supplier may not process its own invoice.
    assert 'name="action" value="service_fait"' not in content


def test_stranger_gets_404_everywhere(client, invoice):
    stranger = member_of(StructureFactory())
    client = as_user(client, stranger)
    assert detail(client, invoice).status_code == 404
    assert client.get(reverse("portal:invoice_download", args=[invoice.pk, "document"])).status_code == 404
    assert act(client, invoice, "service_fait").status_code == 404


def test_buyer_processes_with_motif_and_comment(client, clerk, seller, invoice):
    client = as_user(client, clerk)
    page = text(detail(client, invoice))
    for action in ("service_fait", "mandater", "mettre_en_paiement", "suspendre", "rejeter", "a_recycler"):
        assert f'name="action" value="{action}"' in page
    assert "Pièce justificative manquante" in page  # the coded reasons are offered
    # A suspension without reason or comment is refused, field by field, and nothing changes.
    response = act(client, invoice, "suspendre", motif="", comment="")
    assert response.status_code == 400 and status_of(invoice) == S.MISE_A_DISPOSITION
    assert "Ce champ est obligatoire" in text(response)
    response = act(client, invoice, "suspendre", motif="BON_DE_LIVRAISON_MANQUANT", comment="Joindre le PV.")
    assert response.status_code == 302 and status_of(invoice) == S.SUSPENDUE
    change = InvoiceStatusChange.objects.filter(invoice=invoice).latest("id")
    assert (change.motif, change.comment, change.actor_user) == ("BON_DE_LIVRAISON_MANQUANT", "Joindre le PV.", clerk)
    supplier_page = text(detail(as_user(client, seller), invoice))
    assert (
        "Bon de livraison ou procès-verbal de réception manquant" in supplier_page
        and "Joindre le PV." in supplier_page
    )


@pytest.mark.parametrize("action", ["mettre_en_paiement", "rejeter"])
def test_an_irreversible_action_needs_its_confirmation(client, clerk, invoice, action):
    client = as_user(client, clerk)
    fields = {"motif": "ERREUR_MONTANT", "comment": "Montant faux."} if action == "rejeter" else {}
    page = text(detail(client, invoice))
    amount = f"{invoice.total_ttc:.2f}".replace(".", ",")
    assert f"Je confirme : la facture {invoice.number} ({amount} € TTC) passera au statut" in page.replace("\xa0", " ")
    refused = act(client, invoice, action, **fields)
    assert refused.status_code == 400 and status_of(invoice) == S.MISE_A_DISPOSITION
    assert "Cochez la case de confirmation : cette étape ne peut pas être annulée." in text(refused)
    assert act(client, invoice, action, confirm="on", **fields).status_code == 302
    assert status_of(invoice) in (S.MISE_EN_PAIEMENT, S.REJETEE)


def test_the_supplier_sees_what_the_buyer_asked_beside_completer(client, clerk, seller, invoice):
    act(as_user(client, clerk), invoice, "suspendre", motif="BON_DE_LIVRAISON_MANQUANT", comment="Joindre le PV.")
    page = text(detail(as_user(client, seller), invoice))
    request = page.split('id="action-completer-request"', 1)[1].split("</div>", 1)[0]
    assert "Bon de livraison ou procès-verbal de réception manquant" in request and "« Joindre le PV. »" in request


def test_the_invoice_comes_before_its_actions(client, clerk, invoice):
    page = text(detail(as_user(client, clerk), invoice))
    assert page.index('id="data-title"') < page.index('id="actions-title"') < page.index('id="clock-title"')


def test_mandate_number_is_required_and_kept(client, clerk, invoice):
    client = as_user(client, clerk)
    assert act(client, invoice, "mandater", numero_dp_mandat="").status_code == 400
    assert act(client, invoice, "mandater", numero_dp_mandat="MDT-42").status_code == 302
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.status, stored.numero_dp_mandat) == (S.MANDATEE, "MDT-42")
    assert "Numéro de mandat : MDT-42" in text(detail(client, invoice))


def test_stale_form_gets_409_and_changes_nothing(client, clerk, invoice):
    client = as_user(client, clerk)
    invoice_process(invoice=invoice, by=clerk, structure=invoice.recipient, transition="service_fait")
    response = act(client, invoice, "rejeter", expected=S.MISE_A_DISPOSITION, motif="ERREUR_MONTANT", comment="x")
    assert response.status_code == 409
    assert "depuis l'affichage de la page" in text(response)
    assert status_of(invoice) == S.SERVICE_FAIT
    assert InvoiceStatusChange.objects.filter(invoice=invoice, to_status=S.REJETEE).count() == 0


def test_action_not_open_to_the_user_is_refused(client, seller, invoice):
    response = act(as_user(client, seller), invoice, "service_fait")
    assert response.status_code == 403 and status_of(invoice) == S.MISE_A_DISPOSITION


def test_supplier_completes_a_suspended_invoice_with_a_file(client, seller, clerk, invoice):
    invoice_process(
        invoice=invoice, by=clerk, structure=invoice.recipient, transition="suspendre",
        motif="PIECE_JUSTIFICATIVE_MANQUANTE", comment="Le bon de commande manque.",
    )  # fmt: skip
    client = as_user(client, seller)
    assert 'name="action" value="completer"' in text(detail(client, invoice))
    response = client.post(
        reverse("portal:invoice_action", args=[invoice.pk]),
        {
            "action": "completer",
            "expected_status": S.SUSPENDUE,
            "completer-comment": "Voici le bon de commande.",
            "completer-attachments": [SimpleUploadedFile("bon-commande.pdf", PDF)],
        },
    )
    assert response.status_code == 302 and status_of(invoice) == S.COMPLETEE
    attachment = InvoiceAttachment.objects.get(invoice=invoice)
    assert attachment.name == "bon-commande.pdf"
    # The buyer downloads the new piece through the authorised view.
    file = as_user(client, clerk).get(reverse("portal:invoice_attachment_download", args=[invoice.pk, attachment.pk]))
    assert file.status_code == 200 and file.content == PDF


def test_empty_completion_is_refused(client, seller, clerk, invoice):
    invoice_process(
        invoice=invoice, by=clerk, structure=invoice.recipient, transition="suspendre",
        motif="PIECE_ILLISIBLE", comment="Illisible.",
    )  # fmt: skip
    response = act(as_user(client, seller), invoice, "completer", comment="")
    assert response.status_code == 400 and "Joignez au moins une pièce" in text(response)
    assert status_of(invoice) == S.SUSPENDUE


def test_supplier_recycles_to_another_service(client, seller, clerk, buyer, invoice):
    new_service = ServiceFactory(structure=buyer, code="MEDIATHEQUE")
    invoice_process(
        invoice=invoice, by=clerk, structure=buyer, transition="a_recycler",
        motif="ERREUR_CODE_SERVICE", comment="Service médiathèque.",
    )  # fmt: skip
    client = as_user(client, seller)
    bad = act(client, invoice, "recycler", recipient_siret=buyer.identifier, service_code="NOPE")
    assert bad.status_code == 400 and "n'a pas de service « NOPE »" in text(bad)
    response = act(client, invoice, "recycler", recipient_siret=buyer.identifier, service_code="mediatheque")
    assert response.status_code == 302
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.status, stored.recipient_service, stored.number) == (S.MISE_A_DISPOSITION, new_service, "FA-100")


def test_supplier_acknowledges_a_rejection(client, seller, clerk, invoice):
    invoice_process(
        invoice=invoice, by=clerk, structure=invoice.recipient, transition="rejeter",
        motif="ERREUR_TVA", comment="Taux de TVA erroné.",
    )  # fmt: skip
    client = as_user(client, seller)
    dashboard = text(client.get(reverse("portal:invoices_issued")))
    assert "Rejets et suspensions à traiter" in dashboard and "Rejetées non traitées : 1" in dashboard
    assert act(client, invoice, "traiter_rejet").status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).rejet_traite
    assert InvoiceEvent.objects.filter(invoice=invoice, action=InvoiceEventAction.TRAITEMENT_REJET).exists()
    assert 'value="traiter_rejet"' not in text(detail(client, invoice))


def test_bulk_acknowledgement_from_the_synthesis(client, seller, clerk, supplier, buyer, invoice):
    second = InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, number="FA-101")
    for target in (invoice, second):
        invoice_process(
            invoice=target, by=clerk, structure=buyer, transition="rejeter", motif="DOUBLE_FACTURE", comment="Doublon."
        )
    client = as_user(client, seller)
    response = client.post(reverse("portal:invoice_rejections_acknowledge"), {"invoices": [invoice.pk, second.pk]})
    assert response.status_code == 302
    assert Invoice.objects.filter(pk__in=[invoice.pk, second.pk], rejet_traite=True).count() == 2


# --- Downloads ------------------------------------------------------------------------------------------


def test_recipient_download_marks_the_invoice_downloaded(client, seller, clerk, invoice):
    response = as_user(client, seller).get(reverse("portal:invoice_download", args=[invoice.pk, "document"]))
    assert response.status_code == 200 and response.content == PDF
    assert not Invoice.objects.get(pk=invoice.pk).downloaded_by_recipient  # the supplier's own download
    response = as_user(client, clerk).get(reverse("portal:invoice_download", args=[invoice.pk, "document"]))
    assert response.status_code == 200 and 'filename="' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert Invoice.objects.get(pk=invoice.pk).downloaded_by_recipient
    event = InvoiceEvent.objects.get(invoice=invoice, action=InvoiceEventAction.TELECHARGEMENT_FACTURE)
    assert event.actor_user == clerk and event.actor_structure == invoice.recipient
    assert "Téléchargement de la facture" in text(detail(client, invoice))


def test_missing_document_kinds_and_unknown_kinds_are_404(client, seller, invoice):
    client = as_user(client, seller)
    assert client.get(reverse("portal:invoice_download", args=[invoice.pk, "xml"])).status_code == 404  # none
    assert client.get(reverse("portal:invoice_download", args=[invoice.pk, "autre"])).status_code == 404
    # A sent invoice always has its certificate: rendered from its deposit data if it was not yet.
    assert client.get(reverse("portal:invoice_download", args=[invoice.pk, "certificat"])).status_code == 200


def test_audit_trail_exports(client, clerk, invoice):
    client = as_user(client, clerk)
    invoice_process(invoice=invoice, by=clerk, structure=invoice.recipient, transition="service_fait")
    response = client.get(reverse("portal:invoice_download", args=[invoice.pk, "piste-json"]))
    assert response.status_code == 200
    data = json.loads(response.content)
    assert "FA-100" in json.dumps(data, ensure_ascii=False)
    pdf = client.get(reverse("portal:invoice_download", args=[invoice.pk, "piste-pdf"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_works_party_sees_the_page_but_cannot_download(client, supplier, buyer):
    moe = StructureFactory(moe=True)
    invoice = InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, moe=moe, number="TRX-1")
    client = as_user(client, member_of(moe, EspaceCode.FACTURES_TRAVAUX))
    assert detail(client, invoice).status_code == 200
    assert client.get(reverse("portal:invoice_download", args=[invoice.pk, "piste-json"])).status_code == 404


def test_html_attachment_is_never_served_as_html(client, seller, supplier, buyer):
    invoice = InvoiceFactory(sent=True, supplier=supplier, recipient=buyer)
    stored = file_store(content=b"<html><script>alert(1)</script></html>", mime_type="text/html")
    attachment = InvoiceAttachment.objects.create(invoice=invoice, file=stored, name="page.html")
    response = as_user(client, seller).get(
        reverse("portal:invoice_attachment_download", args=[invoice.pk, attachment.pk])
    )
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


# --- Statistics -----------------------------------------------------------------------------------------


def test_stats_page_shows_the_sides_the_user_has(client, seller, clerk, invoice):
    invoice_process(
        invoice=invoice, by=clerk, structure=invoice.recipient, transition="rejeter",
        motif="ERREUR_MONTANT", comment="Total faux.",
    )  # fmt: skip
    content = text(as_user(client, clerk).get(reverse("portal:invoice_stats"), {"mois": 6}))
    assert "Factures reçues — par fournisseur" in content and "stats-section-emises" not in content
    assert "Montant erroné" in content and "100 %" in content  # 1 rejection out of 1 deposit
    assert "Menuiserie Lambert" in content
    content = text(as_user(client, seller).get(reverse("portal:invoice_stats")))
    assert "Factures émises — par destinataire" in content and "Commune de Belair" in content
    assert as_user(client, UserFactory()).get(reverse("portal:invoice_stats")).status_code == 403


def test_pdfs_of_a_structured_deposit_are_rendered_on_first_download(client, seller, supplier, buyer):
    """A flow's invoice keeps its XML as the document; its PDFs come after the commit, or at first download."""
    from choeur.directory.models import Structure
    from choeur.invoices.services import invoice_create_from_data
    from tests.invoices.factories import fr_vat, issuer_for

    Structure.objects.filter(pk=supplier.pk).update(numero_tva=fr_vat(supplier.identifier))
    supplier.refresh_from_db()
    buyer.services.create(code="SERV-1", libelle="Services techniques")
    sent = invoice_create_from_data(
        supplier=supplier,
        by=issuer_for(supplier),
        data={
            "number": "FLUX-1",
            "invoice_date": "2026-11-02",
            "recipient_identifier": buyer.identifier,
            "recipient_service_code": "SERV-1",
            "payment_mode": "CHEQUE",
            "lines": [{"designation": "Entretien", "quantity": "1", "unit_price_ht": "100", "vat_rate": "20"}],
        },
        structured_xml=b"<Invoice/>",
        mode_depot="EDI_XML_STRUCT",
    )
    assert (sent.main_document_id, sent.certificate_id) == (None, None)
    client = as_user(client, seller)
    page = text(detail(client, sent))
    assert reverse("portal:invoice_download", args=[sent.pk, "certificat"]) in page
    for kind in ("certificat", "document"):
        response = client.get(reverse("portal:invoice_download", args=[sent.pk, kind]))
        assert response.status_code == 200, kind
        assert b"".join(response).startswith(b"%PDF-")
    sent.refresh_from_db()
    assert sent.certificate_id and sent.main_document_id
    assert sent.document_sha256 == sent.structured_xml.sha256  # the XML stays the certified original
