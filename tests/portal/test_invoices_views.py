"""« Saisir une facture » and « Déposer une facture » in the portal: every step of the wizard, the live
HTMX parts, the pré-contrôle messages, sending, tenancy and the dépôt of PDF and structured files."""

import datetime
import html
from decimal import Decimal as D

import factory
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from choeur.directory.enums import EspaceCode, Habilitation
from choeur.invoices import facturx
from choeur.invoices.enums import Cadre, InvoiceStatus, InvoiceType, ModeDepot, PaymentMode
from choeur.invoices.models import Invoice, InvoiceTemplate
from tests.accounts.factories import UserFactory
from tests.conftest import corpus_path
from tests.directory.factories import BankAccountFactory, ServiceFactory, StructureFactory
from tests.flows.factories import subscribe
from tests.flows.fixtures import invoice_xml
from tests.invoices.factories import InvoiceFactory, add_lines, fr_vat, issuer_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def supplier():
    return StructureFactory(
        raison_sociale="Menuiserie Lambert", numero_tva=factory.LazyAttribute(lambda o: fr_vat(o.identifier))
    )


@pytest.fixture
def bank(supplier):
    return BankAccountFactory(structure=supplier)


@pytest.fixture
def commune():
    structure = StructureFactory(commune=True, raison_sociale="Commune de Valfleurie-sur-Loire")
    ServiceFactory(structure=structure, code="SERV_TECHNIQUES", libelle="Services techniques")
    ServiceFactory(
        structure=structure, code="COMMANDE_PUBLIQUE", libelle="Commande publique", engagement_obligatoire=True
    )
    return structure


@pytest.fixture
def user(supplier):
    return issuer_for(supplier)


@pytest.fixture
def logged(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def draft(supplier, user):
    return Invoice.objects.create(supplier=supplier, created_by=user, mode_depot=ModeDepot.SAISIE_WEB)


@pytest.fixture
def complete(supplier, bank, commune, user):
    """A draft that passes the pré-contrôle: A1 to the commune's technical services, two lines."""
    invoice = InvoiceFactory(
        supplier=supplier,
        supplier_bank_account=bank,
        recipient=commune,
        recipient_service=commune.services.get(code="SERV_TECHNIQUES"),
        number="F2026-0100",
        invoice_date=TODAY() - datetime.timedelta(days=1),
        created_by=user,
    )
    return add_lines(invoice)


def step(invoice, number, **params):
    url = reverse("portal:invoice_draft_step", kwargs={"pk": invoice.pk, "step": number})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def text(response) -> str:
    return html.unescape(response.content.decode())


def lines_post(rows, action="next", **extra):
    data = {"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": "0", "action": action, **extra}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{index}-{key}"] = value
    return data


def line(designation="Pose de fenêtres", quantity="2", price="150", rate="20", unit="C62", **kwargs):
    return {
        "reference": kwargs.get("reference", ""),
        "designation": designation,
        "quantity": quantity,
        "unit": unit,
        "unit_price_ht": price,
        "discount_ht": kwargs.get("discount", ""),
        "vat_rate": rate,
    }


# --- Access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["portal:invoice_new", "portal:invoice_upload"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_user_who_may_not_issue_is_refused_with_the_reason(client, supplier):
    reader = UserFactory()
    subscribe(reader, supplier, habilitation=Habilitation.CONSULTATION_UNIQUEMENT)
    client.force_login(reader)
    for name in ("portal:invoice_new", "portal:invoice_upload"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert "« Factures émises »" in text(response)


def test_consultation_only_user_cannot_open_a_draft_step(client, supplier, draft):
    reader = UserFactory()
    subscribe(reader, supplier, habilitation=Habilitation.CONSULTATION_UNIQUEMENT)
    client.force_login(reader)
    assert client.get(step(draft, 1)).status_code == 403
    response = client.post(reverse("portal:invoice_draft_send", args=[draft.pk]), {"confirm": "on"})
    assert response.status_code == 403
    assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.BROUILLON


def test_another_structures_draft_is_not_found(logged):
    stranger = InvoiceFactory(with_lines=True)
    for url in (
        step(stranger, 1),
        step(stranger, 3),
        step(stranger, 5),
        reverse("portal:invoice_party_search", args=[stranger.pk]) + "?target=recipient&recipient_q=abc",
        reverse("portal:invoice_party_pick", args=[stranger.pk]) + "?target=recipient",
        reverse("portal:invoice_draft_delete", args=[stranger.pk]),
    ):
        assert logged.get(url).status_code == 404, url
    for name in (
        "portal:invoice_draft_send",
        "portal:invoice_duplicate",
        "portal:invoice_template_save",
        "portal:invoice_draft_totals",
    ):
        assert logged.post(reverse(name, args=[stranger.pk]), {"confirm": "on", "name": "x"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == InvoiceStatus.BROUILLON
    assert not InvoiceTemplate.objects.exists()
    assert Invoice.objects.count() == 1


# --- New draft, step 1 ----------------------------------------------------------------------------------


def test_new_invoice_creates_a_draft_and_opens_step_1(logged, supplier):
    page = logged.get(reverse("portal:invoice_new"))
    assert page.status_code == 200 and "Menuiserie Lambert" in text(page)
    response = logged.post(reverse("portal:invoice_new"), {"supplier": supplier.pk})
    invoice = Invoice.objects.get()
    assert invoice.status == InvoiceStatus.BROUILLON and invoice.supplier == supplier
    assert invoice.mode_depot == ModeDepot.SAISIE_WEB
    assert response["Location"] == step(invoice, 1)
    assert "Parties" in text(logged.get(step(invoice, 1)))


def test_new_invoice_refuses_a_structure_the_user_may_not_issue_for(logged):
    other = StructureFactory()
    response = logged.post(reverse("portal:invoice_new"), {"supplier": other.pk})
    assert response.status_code == 400
    assert not Invoice.objects.exists()


def test_recipient_search_lists_public_structures_only(logged, draft, commune):
    private = StructureFactory(raison_sociale="Valfleurie Services SARL")
    url = reverse("portal:invoice_party_search", args=[draft.pk])
    response = logged.get(url, {"target": "recipient", "recipient_q": "valfleurie"})
    assert "Choisir Commune de Valfleurie-sur-Loire" in text(response)
    assert private.raison_sociale not in text(response)
    by_siret = logged.get(url, {"target": "recipient", "recipient_q": commune.identifier[:9]})
    assert "Choisir Commune de Valfleurie-sur-Loire" in text(by_siret)
    assert "au moins 3 caractères" in text(logged.get(url, {"target": "recipient", "recipient_q": "va"}))
    # The valideur (a titulaire, a mandataire) is a company: private structures are found, the supplier is not.
    valideur = logged.get(url, {"target": "valideur", "valideur_q": "valfleurie"})
    assert "Choisir Valfleurie Services SARL" in text(valideur)
    assert "Menuiserie Lambert" not in text(logged.get(url, {"target": "valideur", "valideur_q": "lambert"}))


def test_choosing_the_recipient_shows_its_requirements_live(logged, draft, commune):
    url = reverse("portal:invoice_party_pick", args=[draft.pk])
    response = logged.get(url, {"target": "recipient", "structure": commune.pk})
    body = text(response)
    assert f'name="recipient" value="{commune.pk}"' in body
    assert "Code service obligatoire" in body
    assert "Numéro d'engagement facultatif" in body
    assert "SERV_TECHNIQUES — Services techniques" in body
    # Choosing the service that requires an engagement number says so at once.
    service = commune.services.get(code="COMMANDE_PUBLIQUE")
    body = text(logged.get(url, {"target": "recipient", "structure": commune.pk, "recipient_service": service.pk}))
    assert "Numéro d'engagement obligatoire" in body
    assert "Ce service exige un numéro d'engagement" in body


def test_step_1_saves_the_parties(logged, draft, commune, bank):
    service = commune.services.get(code="SERV_TECHNIQUES")
    response = logged.post(
        step(draft, 1),
        {
            "supplier_bank_account": bank.pk,
            "cadre": Cadre.A1,
            "recipient": commune.pk,
            "recipient_service": service.pk,
            "action": "next",
        },
    )
    assert response.status_code == 302 and response["Location"] == step(draft, 2)
    draft.refresh_from_db()
    assert (draft.recipient, draft.recipient_service, draft.supplier_bank_account) == (commune, service, bank)
    assert draft.draft_step == 2


def test_step_1_stops_on_a_missing_required_service_and_keeps_the_choice(logged, draft, commune):
    response = logged.post(step(draft, 1), {"cadre": Cadre.A1, "recipient": commune.pk, "action": "next"})
    assert response.status_code == 400
    body = text(response)
    assert "Service exécutant : Commune de Valfleurie-sur-Loire exige un code service" in body
    assert f'name="recipient" value="{commune.pk}"' in body
    draft.refresh_from_db()
    assert draft.recipient == commune  # saved all the same: nothing typed is lost


def test_step_1_save_only_stays_on_the_step(logged, draft, commune):
    response = logged.post(step(draft, 1), {"cadre": Cadre.A1, "recipient": commune.pk, "action": "save"})
    assert response["Location"] == step(draft, 1)
    assert "Brouillon enregistré" in text(logged.get(step(draft, 1)))


def test_a9_requires_a_valideur_then_accepts_the_titulaire(logged, draft, commune):
    service = commune.services.get(code="SERV_TECHNIQUES")
    base = {"cadre": Cadre.A9, "recipient": commune.pk, "recipient_service": service.pk, "action": "next"}
    response = logged.post(step(draft, 1), base)
    assert response.status_code == 400
    assert "Valideur : obligatoire pour le cadre A9" in text(response)
    titulaire = StructureFactory(raison_sociale="Constructions Garnier")
    response = logged.post(step(draft, 1), {**base, "valideur": titulaire.pk})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.cadre, draft.valideur) == (Cadre.A9, titulaire)


# --- Step 2 ---------------------------------------------------------------------------------------------


def references(**overrides):
    data = {
        "number": "F2026-0007",
        "invoice_date": (TODAY() - datetime.timedelta(days=2)).isoformat(),
        "invoice_type": InvoiceType.FACTURE,
        "currency": "EUR",
        "type_tva": "TVA_SUR_DEBIT",
        "numero_marche": "M-2026-01",
        "payment_mode": PaymentMode.VIREMENT,
        "comment": "Chantier de la médiathèque",
        "action": "next",
    }
    return {**data, **overrides}


def test_step_2_saves_the_references(logged, draft):
    response = logged.post(step(draft, 2), references())
    assert response["Location"] == step(draft, 3)
    draft.refresh_from_db()
    assert (draft.number, draft.payment_mode, draft.comment) == (
        "F2026-0007",
        "VIREMENT",
        "Chantier de la médiathèque",
    )
    assert draft.invoice_date == TODAY() - datetime.timedelta(days=2)


def test_step_2_errors_are_shown_by_field_and_keep_what_was_typed(logged, draft):
    response = logged.post(step(draft, 2), references(number="F 2026/7", invoice_date="2026-13-45"))
    assert response.status_code == 400
    body = text(response)
    assert "Saisissez une date valide" in body
    assert 'value="F 2026/7"' in body and 'value="M-2026-01"' in body and "Chantier de la médiathèque" in body
    # The date fixed, the number's format is refused by the domain, on its field.
    response = logged.post(step(draft, 2), references(number="F 2026/7"))
    assert response.status_code == 400
    assert "Numéro de facture : seuls les lettres sans accent" in text(response)
    assert 'value="M-2026-01"' in text(response)


def test_avoir_without_origin_is_stopped_with_its_message(logged, draft):
    response = logged.post(step(draft, 2), references(invoice_type=InvoiceType.AVOIR, payment_mode=""))
    assert response.status_code == 400
    assert "Facture d'origine : un avoir indique le numéro de la facture" in text(response)
    draft.refresh_from_db()
    assert draft.invoice_type == InvoiceType.AVOIR  # saved as typed
    response = logged.post(
        step(draft, 2), references(invoice_type=InvoiceType.AVOIR, payment_mode="", origin_number="F2025-0099")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.origin_number == "F2025-0099"


def test_avoir_may_point_at_a_sent_invoice(logged, complete, draft):
    sent = InvoiceFactory(supplier=complete.supplier, recipient=complete.recipient, sent=True, number="F2026-0001")
    page = logged.get(step(draft, 2))
    assert "F2026-0001 du" in text(page)
    logged.post(
        step(draft, 2), references(invoice_type=InvoiceType.AVOIR, payment_mode="", origin_invoice=str(sent.pk))
    )
    draft.refresh_from_db()
    assert (draft.origin_invoice, draft.origin_number) == (sent, "F2026-0001")


# --- Step 3 ---------------------------------------------------------------------------------------------


def test_step_3_saves_lines_and_computes_totals_on_the_server(logged, draft):
    rows = [line(price="150", rate="20"), line("Quincaillerie", quantity="3", price="10,50", rate="5,5"), line("")]
    rows[2].update(designation="", quantity="", unit_price_ht="", vat_rate="")
    response = logged.post(step(draft, 3), lines_post(rows, remise_globale_ttc="", motif_remise_globale=""))
    assert response["Location"] == step(draft, 4)
    draft.refresh_from_db()
    assert [(li.designation, li.line_net_ht) for li in draft.lines.order_by("position")] == [
        ("Pose de fenêtres", D("300.00")),
        ("Quincaillerie", D("31.50")),
    ]
    assert (draft.total_ht, draft.total_tva, draft.total_ttc, draft.montant_a_payer) == (
        D("331.50"),
        D("61.73"),
        D("393.23"),
        D("393.23"),
    )
    page = text(logged.get(step(draft, 3)))
    assert 'value="10,5"' in page and "393,23" in page


def test_live_totals_follow_what_is_typed(logged, draft):
    rows = [line(quantity="3", price="100", rate="20"), line("Livres", quantity="2", price="25", rate="5.5")]
    response = logged.post(
        reverse("portal:invoice_draft_totals", args=[draft.pk]),
        lines_post(rows, remise_globale_ttc="10", motif_remise_globale="Fidélité"),
        HTTP_HX_REQUEST="true",
    )
    body = text(response)
    assert response.status_code == 200
    assert "350,00\u00a0€" in body  # HT: 300 + 50
    assert "62,75\u00a0€" in body  # TVA: 60 + 2.75
    assert "412,75\u00a0€" in body and "402,75\u00a0€" in body  # TTC, then net after the 10 € discount
    assert 'id="line-net-1" hx-swap-oob="true">50,00' in body
    assert not draft.lines.exists()  # nothing saved by the live computation


def test_step_3_errors_keep_every_row(logged, draft):
    rows = [line(price="abc"), line("Quincaillerie", price="12")]
    response = logged.post(step(draft, 3), lines_post(rows))
    assert response.status_code == 400
    body = text(response)
    assert "Prix unitaire HT : « abc » n'est pas un nombre (exemple : 12,50)." in body
    assert 'value="abc"' in body and 'value="Quincaillerie"' in body
    assert not draft.lines.exists()


def test_add_and_remove_rows_keep_the_typed_values(logged, draft):
    rows = [line("Première"), line("Deuxième")]
    added = text(logged.post(step(draft, 3), lines_post(rows, action="add_line")))
    assert 'name="lines-TOTAL_FORMS" value="3"' in added and 'value="Deuxième"' in added
    removed = text(logged.post(step(draft, 3), lines_post(rows, action="remove_line:0")))
    assert 'name="lines-TOTAL_FORMS" value="1"' in removed
    assert 'value="Première"' not in removed and 'value="Deuxième"' in removed


def test_step_3_next_shows_line_findings_on_the_row(logged, draft):
    response = logged.post(step(draft, 3), lines_post([line(designation="", price="10")]))
    assert response.status_code == 400
    assert "Ligne 1 : la désignation est obligatoire." in text(response)


# --- Step 4 ---------------------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n%%EOF"


def test_attachments_are_added_checked_and_removed(logged, draft):
    response = logged.post(
        step(draft, 4),
        {"action": "attachment", "type_code": "BON_DE_COMMANDE", "fichier": SimpleUploadedFile("bon.pdf", PDF)},
    )
    assert response["Location"] == step(draft, 4)
    attachment = draft.attachments.get()
    assert (attachment.name, attachment.type_code) == ("bon.pdf", "BON_DE_COMMANDE")
    refused = logged.post(
        step(draft, 4), {"action": "attachment", "type_code": "AUTRE", "fichier": SimpleUploadedFile("x.exe", b"MZ")}
    )
    assert refused.status_code == 400
    assert "l'extension .exe n'est pas acceptée" in text(refused)
    disguised = logged.post(
        step(draft, 4),
        {"action": "attachment", "type_code": "AUTRE", "fichier": SimpleUploadedFile("devis.pdf", b"plain text")},
    )
    assert "porte l'extension .pdf mais son contenu est un fichier texte" in text(disguised)
    logged.post(step(draft, 4), {"action": f"remove:{attachment.pk}"})
    assert not draft.attachments.exists()


def test_main_document_makes_a_pdf_deposit(logged, draft):
    logged.post(step(draft, 4), {"action": "document", "document": SimpleUploadedFile("facture.pdf", PDF)})
    draft.refresh_from_db()
    assert draft.main_document_name == "facture.pdf"
    assert draft.mode_depot == ModeDepot.DEPOT_PDF_PORTAIL
    assert "Document déposé : <strong>facture.pdf</strong>" in text(logged.get(step(draft, 4)))


# --- Summary, pré-contrôle, sending ---------------------------------------------------------------------


def test_summary_of_a_complete_draft_says_it_can_be_sent(logged, complete):
    body = text(logged.get(step(complete, 5)))
    assert "Pré-contrôle réussi" in body
    assert "F2026-0100" in body and "536,52" in body
    assert "Valider et envoyer" in body


def _inactive_recipient(invoice):
    invoice.recipient.is_active = False
    invoice.recipient.save()


def _no_service(invoice):
    invoice.recipient_service = None


def _inactive_service(invoice):
    invoice.recipient_service.is_active = False
    invoice.recipient_service.save()


def _engagement_structure(invoice):
    invoice.recipient.engagement_obligatoire = True
    invoice.recipient.save()


def _engagement_service(invoice):
    invoice.recipient_service = invoice.recipient.services.get(code="COMMANDE_PUBLIQUE")


def _a9_without_valideur(invoice):
    invoice.cadre = Cadre.A9


def _number_used(invoice):
    InvoiceFactory(supplier=invoice.supplier, recipient=invoice.recipient, sent=True, number=invoice.number)


def _avoir_without_origin(invoice):
    invoice.invoice_type = InvoiceType.AVOIR
    invoice.payment_mode = ""


def _works_cadre(invoice):
    invoice.cadre = Cadre.A4
    invoice.type_demande_paiement = "FACTURE_TRAVAUX"


def _moe_cadre(invoice):
    invoice.cadre = Cadre.A15
    invoice.type_demande_paiement = "FACTURE_TRAVAUX"


def _unknown_recipient(invoice):
    invoice.recipient = None
    invoice.recipient_service = None


ROUTING_FAILURES = [
    ("destinataire absent", _unknown_recipient, "Destinataire : obligatoire. Recherchez la structure publique"),
    ("destinataire inactif", _inactive_recipient, "est inactive et ne peut plus recevoir de factures"),
    ("service obligatoire", _no_service, "exige un code service. Choisissez le service qui a passé la commande"),
    ("service inactif", _inactive_service, "Service exécutant : le service SERV_TECHNIQUES"),
    ("engagement (structure)", _engagement_structure, "exige un numéro d'engagement (bon de commande)"),
    ("engagement (service)", _engagement_service, "le service COMMANDE_PUBLIQUE de Commune de Valfleurie"),
    ("valideur A9", _a9_without_valideur, "Valideur : obligatoire pour le cadre A9"),
    ("numéro déjà utilisé", _number_used, "le numéro F2026-0100 a déjà été envoyé"),
    ("avoir sans origine", _avoir_without_origin, "un avoir indique le numéro de la facture qu'il corrige"),
    ("cadre de travaux", _works_cadre, "Cadre de facturation : le cadre A4"),
    ("cadre réservé à la MOE", _moe_cadre, "Le cadre A15 est réservé à la maîtrise d'œuvre"),
]


@pytest.mark.parametrize(("label", "breaks", "message"), ROUTING_FAILURES, ids=[r[0] for r in ROUTING_FAILURES])
def test_each_routing_failure_is_shown_in_french_and_stops_the_sending(logged, complete, label, breaks, message):
    breaks(complete)
    complete.save()
    summary = logged.get(step(complete, 5))
    assert message in text(summary), label
    assert "Pré-contrôle réussi" not in text(summary)
    response = logged.post(reverse("portal:invoice_draft_send", args=[complete.pk]), {"confirm": "on"})
    assert response.status_code == 400
    assert "La facture ne peut pas être envoyée" in text(response) and message in text(response)
    complete.refresh_from_db()
    assert complete.status == InvoiceStatus.BROUILLON and complete.deposited_at is None


def test_sending_needs_the_confirmation(logged, complete):
    response = logged.post(reverse("portal:invoice_draft_send", args=[complete.pk]), {})
    assert response.status_code == 400
    assert "Cochez la case de confirmation" in text(response)
    assert Invoice.objects.get(pk=complete.pk).status == InvoiceStatus.BROUILLON


def test_sending_deposits_and_certifies(logged, complete):
    response = logged.post(reverse("portal:invoice_draft_send", args=[complete.pk]), {"confirm": "on"}, follow=True)
    complete.refresh_from_db()
    assert complete.status == InvoiceStatus.MISE_A_DISPOSITION
    assert complete.certificate_number and complete.main_document.read().startswith(b"%PDF-")
    body = text(response)
    assert f"Facture F2026-0100 envoyée le {timezone.localtime(complete.deposited_at):%d/%m/%Y}" in body
    assert complete.certificate_number in body
    # A sent invoice's wizard steps lead to its page; it cannot be sent twice.
    assert logged.get(step(complete, 2)).status_code == 302
    again = logged.post(reverse("portal:invoice_draft_send", args=[complete.pk]), {"confirm": "on"})
    assert again.status_code == 302


def test_document_generation_failure_keeps_the_draft(logged, complete, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("WeasyPrint indisponible")

    monkeypatch.setattr(facturx, "generate_facturx", broken)
    response = logged.post(reverse("portal:invoice_draft_send", args=[complete.pk]), {"confirm": "on"})
    assert response.status_code == 400
    assert "La génération du document de facture (PDF Factur-X) a échoué" in text(response)
    complete.refresh_from_db()
    assert complete.status == InvoiceStatus.BROUILLON
    assert complete.main_document_id is None and complete.certificate_number == ""
    assert complete.lines.count() == 2


def test_a9_is_sent_to_the_valideur(logged, complete):
    titulaire = StructureFactory(raison_sociale="Constructions Garnier")
    complete.cadre, complete.valideur = Cadre.A9, titulaire
    complete.save()
    response = logged.post(reverse("portal:invoice_draft_send", args=[complete.pk]), {"confirm": "on"}, follow=True)
    complete.refresh_from_db()
    assert complete.status == InvoiceStatus.A_VALIDER_1
    assert "en attente de validation par Constructions Garnier" in text(response)


# --- Duplicate, templates, delete -----------------------------------------------------------------------


def test_duplicate_a_sent_invoice_into_a_new_draft(logged, complete):
    sent = InvoiceFactory(supplier=complete.supplier, recipient=complete.recipient, sent=True, with_lines=True)
    response = logged.post(reverse("portal:invoice_duplicate", args=[sent.pk]))
    copy = Invoice.objects.exclude(pk__in=[sent.pk, complete.pk]).get()
    assert response["Location"] == step(copy, 1)
    assert copy.status == InvoiceStatus.BROUILLON and copy.number == "" and copy.lines.count() == 2
    assert copy.recipient == sent.recipient


def test_template_saved_then_used_for_a_new_invoice(logged, complete):
    logged.post(reverse("portal:invoice_template_save", args=[complete.pk]), {"name": "Entretien mensuel"})
    template = InvoiceTemplate.objects.get()
    assert template.name == "Entretien mensuel"
    assert "Utiliser le modèle « Entretien mensuel »" in text(logged.get(reverse("portal:invoice_new")))
    response = logged.post(reverse("portal:invoice_template_apply", args=[template.pk]))
    new = Invoice.objects.exclude(pk=complete.pk).get()
    assert response["Location"] == step(new, 1)
    assert new.recipient == complete.recipient and new.lines.count() == 2
    logged.post(reverse("portal:invoice_template_delete", args=[template.pk]))
    assert not InvoiceTemplate.objects.exists()


def test_delete_a_draft_after_confirmation(logged, draft):
    assert "Supprimer définitivement" in text(logged.get(reverse("portal:invoice_draft_delete", args=[draft.pk])))
    response = logged.post(reverse("portal:invoice_draft_delete", args=[draft.pk]))
    assert response["Location"] == reverse("portal:invoice_new")
    assert not Invoice.objects.filter(pk=draft.pk).exists()


def test_drafts_are_listed_to_resume(logged, draft):
    draft.number, draft.draft_step = "F2026-0077", 3
    draft.save()
    body = text(logged.get(reverse("portal:invoice_new")))
    assert "Reprendre le brouillon F2026-0077" in body and step(draft, 3) in body


# --- Dépôt ----------------------------------------------------------------------------------------------


def upload(client, supplier, name, content):
    return client.post(
        reverse("portal:invoice_upload"), {"supplier": supplier.pk, "fichier": SimpleUploadedFile(name, content)}
    )


def test_upload_a_ubl_invoice_prefills_a_draft(logged, supplier, commune):
    service = commune.services.get(code="SERV_TECHNIQUES")
    xml = invoice_xml(
        supplier_siret=supplier.identifier,
        buyer_siret=commune.identifier,
        number="UBL-2026-01",
        code_service="SERV_TECHNIQUES",
        lines=2,
        issue_date=TODAY(),
    )
    response = upload(logged, supplier, "facture.xml", xml)
    invoice = Invoice.objects.get()
    assert response["Location"] == step(invoice, 5)
    assert invoice.status == InvoiceStatus.BROUILLON and invoice.mode_depot == ModeDepot.UPLOAD_PORTAIL
    assert (invoice.number, invoice.recipient, invoice.recipient_service) == ("UBL-2026-01", commune, service)
    assert invoice.numero_engagement == "EJ-2026-0001"
    assert invoice.lines.count() == 2 and invoice.total_ht == D("200.00") and invoice.total_ttc == D("240.00")
    assert invoice.structured_xml.read() == xml and invoice.main_document_id is None
    assert 'value="UBL-2026-01"' in text(logged.get(step(invoice, 2)))


def test_upload_a_facturx_from_the_corpus_prefills_and_keeps_the_pdf(logged, supplier):
    path = corpus_path("zugferd", "ZUGFeRDv2", "correct", "intarsys", "BASIC", "zugferd_2p0_BASIC_Einfach.pdf")
    content = path.read_bytes()
    response = upload(logged, supplier, path.name, content)
    invoice = Invoice.objects.get()
    assert response["Location"] == step(invoice, 5)
    assert invoice.number == "471102" and invoice.invoice_date == datetime.date(2018, 3, 5)
    assert invoice.lines.get().unit_price_ht == D("9.90")
    assert invoice.main_document.read() == content and invoice.structured_xml_id is not None
    assert invoice.total_ttc == D("235.62")
    summary = text(logged.get(step(invoice, 5), follow=True))
    # The German buyer has no SIRET: the user is told to pick the recipient in the annuaire.
    assert "choisissez-le dans l'annuaire" in summary
    assert "Destinataire : obligatoire" in summary


def test_upload_a_plain_pdf_becomes_the_document_of_a_draft(logged, supplier):
    path = corpus_path("zugferd", "unstructured", "RE-E-974-Hetzner_2016-01-19_R0005532486.pdf")
    response = upload(logged, supplier, path.name, path.read_bytes())
    invoice = Invoice.objects.get()
    assert response["Location"] == step(invoice, 1)
    assert invoice.mode_depot == ModeDepot.DEPOT_PDF_PORTAIL
    assert invoice.main_document.read() == path.read_bytes()
    assert len(invoice.main_document_name) <= 50 and invoice.main_document_name.endswith(".pdf")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("facture.pdf", b"%PDF-1.4\n garbage without objects", "Le PDF n'a pas pu être lu"),
        ("commande.xml", b"<?xml version='1.0'?><Order xmlns='urn:x'/>", "Ce fichier XML n'est pas une facture"),
        ("facture.xml", b"<?xml version='1.0'?><Invoice", "n'est pas un XML bien formé"),
        ("photo.png", b"\x89PNG\r\n\x1a\n0000", "Ce fichier n'est ni un PDF ni un XML"),
    ],
)
def test_unreadable_uploads_are_refused_and_nothing_is_stored(logged, supplier, name, content, message):
    response = upload(logged, supplier, name, content)
    assert response.status_code == 400
    assert message in text(response)
    assert not Invoice.objects.exists()


def test_upload_from_another_supplier_is_said(logged, supplier, commune):
    xml = invoice_xml(supplier_siret=commune.identifier, buyer_siret=commune.identifier, issue_date=TODAY())
    response = upload(logged, supplier, "f.xml", xml)
    assert response.status_code == 302
    assert "le fichier est émis par le SIRET" in text(logged.get(response["Location"]))


def test_upload_needs_the_issuing_right(client, supplier):
    reader = UserFactory()
    subscribe(reader, supplier, code=EspaceCode.FACTURES_EMISES, habilitation=Habilitation.CONSULTATION_UNIQUEMENT)
    client.force_login(reader)
    assert upload(client, supplier, "f.pdf", PDF).status_code == 403
