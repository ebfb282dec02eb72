"""The pré-contrôle: one test per rule, each checking the field named and the French message."""

import datetime
from decimal import Decimal as D

import pytest
from django.utils import timezone

from choeur.core.files import file_store
from choeur.invoices.checks import invoice_checks, recipient_requirements
from choeur.invoices.enums import Cadre, ModeDepot, PaymentMode, TypeTva
from choeur.invoices.models import InvoiceLine, InvoiceVatLine
from tests.directory.factories import BankAccountFactory, ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


def findings(invoice, **kwargs):
    return invoice_checks(invoice, **kwargs)


def only(invoice, code, **kwargs):
    """The single finding with this code (and no other finding at all)."""
    found = findings(invoice, **kwargs)
    assert [f.code for f in found] == [code], found
    return found[0]


@pytest.fixture
def invoice():
    return InvoiceFactory(with_lines=True)


def test_a_complete_invoice_has_no_finding(invoice):
    assert findings(invoice) == []


# --- Number and date ------------------------------------------------------------------------------------


def test_number_is_mandatory(invoice):
    invoice.number = ""
    finding = only(invoice, "NUMERO_ABSENT")
    assert finding.field == "number"
    assert finding.message.startswith("Numéro de facture : obligatoire")


def test_number_is_at_most_20_characters(invoice):
    invoice.number = "F" * 21
    assert only(invoice, "NUMERO_TROP_LONG").message == "Numéro de facture : 21 caractères, 20 au plus."


@pytest.mark.parametrize("number", ["F 2026", "FACTURE°1", "é-12", "F.2026"])
def test_number_charset(invoice, number):
    invoice.number = number
    assert "seuls les lettres sans accent" in only(invoice, "NUMERO_FORMAT").message


@pytest.mark.parametrize("number", ["F-2026_01/A+B", "123"])
def test_number_allowed_characters(invoice, number):
    invoice.number = number
    assert findings(invoice) == []


def test_number_already_sent_by_the_same_supplier(invoice):
    InvoiceFactory(sent=True, supplier=invoice.supplier, number=invoice.number)
    finding = only(invoice, "NUMERO_DEJA_UTILISE")
    assert finding.field == "number"
    assert f"le numéro {invoice.number} a déjà été envoyé le " in finding.message
    assert "émettez un avoir" in finding.message


def test_number_used_by_a_draft_or_another_supplier_is_free(invoice):
    InvoiceFactory(supplier=invoice.supplier, number=invoice.number)  # a draft
    InvoiceFactory(sent=True, number=invoice.number)  # another supplier
    assert findings(invoice) == []


def test_date_is_mandatory(invoice):
    invoice.invoice_date = None
    assert only(invoice, "DATE_ABSENTE").message == "Date de facture : obligatoire."


def test_date_cannot_be_in_the_future(invoice):
    invoice.invoice_date = timezone.localdate() + datetime.timedelta(days=1)
    finding = only(invoice, "DATE_FUTURE")
    assert finding.field == "invoice_date"
    assert "est dans le futur" in finding.message


def test_currency_must_be_an_iso_code(invoice):
    invoice.currency = "eu"
    assert only(invoice, "DEVISE_INVALIDE").message == "Devise : « eu » n'est pas un code ISO 4217 (ex. EUR)."


# --- Supplier -------------------------------------------------------------------------------------------


def test_inactive_supplier(invoice):
    invoice.supplier.is_active = False
    assert only(invoice, "FOURNISSEUR_INACTIF").field == "supplier"


def test_supplier_vat_number_needed_when_chorus_generates_a_vat_invoice(invoice):
    invoice.supplier.numero_tva = ""
    finding = only(invoice, "TVA_FOURNISSEUR_ABSENTE")
    assert "numéro de TVA intracommunautaire" in finding.message


def test_supplier_vat_number_needed_for_an_exempt_invoice_too():
    invoice = InvoiceFactory(with_lines=True, exoneration=True)
    invoice.supplier.numero_tva = ""
    assert "ou exonérée" in only(invoice, "TVA_FOURNISSEUR_ABSENTE").message


def test_supplier_vat_number_not_needed_outside_vat_or_with_an_uploaded_document(invoice):
    invoice.supplier.numero_tva = ""
    invoice.type_tva = TypeTva.SANS_TVA
    assert "TVA_FOURNISSEUR_ABSENTE" not in {f.code for f in findings(invoice)}
    invoice.type_tva = TypeTva.TVA_SUR_DEBIT
    invoice.main_document = file_store(content=b"%PDF-1.7 facture", mime_type="application/pdf")
    assert "TVA_FOURNISSEUR_ABSENTE" not in {f.code for f in findings(invoice)}


def test_supplier_service_must_be_the_suppliers(invoice):
    invoice.supplier_service = ServiceFactory()
    assert only(invoice, "SERVICE_FOURNISSEUR_INCONNU").field == "supplier_service"


# --- Recipient and service --------------------------------------------------------------------------------


def test_recipient_is_mandatory(invoice):
    invoice.recipient = None
    finding = only(invoice, "DESTINATAIRE_ABSENT")
    assert finding.field == "recipient"
    assert "Recherchez la structure publique destinataire" in finding.message


def test_recipient_must_be_public(invoice):
    invoice.recipient = StructureFactory(raison_sociale="Garage Martin")
    assert only(invoice, "DESTINATAIRE_NON_PUBLIC").message.startswith(
        "Destinataire : Garage Martin n'est pas une structure publique"
    )


def test_recipient_must_be_active(invoice):
    invoice.recipient.is_active = False
    finding = only(invoice, "DESTINATAIRE_INACTIF")
    assert "est inactive et ne peut plus recevoir de factures" in finding.message
    assert invoice.recipient.identifier in finding.message


def test_recipient_cannot_be_the_supplier():
    supplier = StructureFactory(public=True, numero_tva="FR32400000006")
    invoice = InvoiceFactory(with_lines=True, supplier=supplier, recipient=supplier)
    assert "DESTINATAIRE_EST_FOURNISSEUR" in {f.code for f in findings(invoice)}


def test_service_must_belong_to_the_recipient(invoice):
    invoice.recipient_service = ServiceFactory(code="ACHATS")
    finding = only(invoice, "SERVICE_HORS_DESTINATAIRE")
    assert finding.field == "recipient_service"
    assert finding.message.startswith("Service exécutant : le service ACHATS n'appartient pas à")


@pytest.mark.parametrize(
    "changes",
    [
        {"is_active": False},
        {"valid_until": datetime.date(2020, 12, 31)},
        {"valid_from": datetime.date(2999, 1, 1)},
    ],
)
def test_service_must_be_active_today(invoice, changes):
    invoice.recipient_service = ServiceFactory(structure=invoice.recipient, code="VOIRIE", **changes)
    assert "n'est pas actif aujourd'hui" in only(invoice, "SERVICE_INACTIF").message


def test_service_required_by_code_service_obligatoire():
    invoice = InvoiceFactory(with_lines=True, recipient=StructureFactory(commune=True))
    finding = only(invoice, "SERVICE_OBLIGATOIRE")
    assert finding.field == "recipient_service"
    assert "exige un code service" in finding.message
    invoice.recipient_service = ServiceFactory(structure=invoice.recipient)
    assert findings(invoice) == []


def test_service_or_engagement_required():
    invoice = InvoiceFactory(with_lines=True, recipient=StructureFactory(etat=True))
    finding = only(invoice, "SERVICE_OU_ENGAGEMENT_OBLIGATOIRE")
    assert finding.message.startswith("Service exécutant ou numéro d'engagement :")
    invoice.numero_engagement = "EJ-1000234"
    assert findings(invoice) == []
    invoice.numero_engagement = ""
    invoice.recipient_service = ServiceFactory(structure=invoice.recipient)
    assert findings(invoice) == []


def test_engagement_required_by_the_recipient():
    invoice = InvoiceFactory(with_lines=True, recipient=StructureFactory(hopital=True))
    finding = only(invoice, "ENGAGEMENT_OBLIGATOIRE")
    assert finding.field == "numero_engagement"
    assert "exige un numéro d'engagement (bon de commande)" in finding.message
    invoice.numero_engagement = "BC-778"
    assert findings(invoice) == []


def test_engagement_required_by_the_chosen_service(invoice):
    invoice.recipient_service = ServiceFactory(
        structure=invoice.recipient, code="CUISINE", engagement_obligatoire=True
    )
    finding = only(invoice, "ENGAGEMENT_OBLIGATOIRE_SERVICE")
    assert "le service CUISINE" in finding.message


def test_recipient_requirements_for_live_hints():
    hopital = StructureFactory(hopital=True, mise_en_paiement_non_remontee=True)
    service = ServiceFactory(structure=hopital, engagement_obligatoire=True)
    hints = recipient_requirements(hopital, service)
    assert hints["engagement_required"] is True
    assert hints["service_required"] is False
    assert hints["payment_delay_days"] == 50
    assert hints["mise_en_paiement_remontee"] is False
    assert hints["hints"][0].startswith("Ce service exige un numéro d'engagement")
    commune = recipient_requirements(StructureFactory(commune=True))
    assert commune["service_required"] is True and commune["payment_delay_days"] == 30
    etat = recipient_requirements(StructureFactory(etat=True))
    assert etat["engagement_or_service"] is True
    assert "l'un des deux au moins" in etat["hints"][0]
    assert recipient_requirements(None)["known"] is False


# --- Valideurs and cadres ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cadre", [Cadre.A9, Cadre.A12])
def test_valideur_required_for_subcontractors_and_cotraitants(invoice, cadre):
    invoice.cadre = cadre
    finding = only(invoice, "VALIDEUR_OBLIGATOIRE")
    assert finding.field == "valideur"
    assert f"obligatoire pour le cadre {Cadre(cadre).code}" in finding.message


def test_valideur_cannot_be_the_supplier():
    invoice = InvoiceFactory(with_lines=True, a9=True)
    invoice.valideur = invoice.supplier
    assert "ne peut pas valider sa propre facture" in only(invoice, "VALIDEUR_EST_FOURNISSEUR").message


def test_valideur_must_be_active():
    invoice = InvoiceFactory(with_lines=True, a9=True)
    invoice.valideur.is_active = False
    assert only(invoice, "VALIDEUR_INACTIF").field == "valideur"


def test_valideur_service_must_be_the_valideurs():
    invoice = InvoiceFactory(with_lines=True, a12=True)
    invoice.valideur_service = ServiceFactory()
    assert only(invoice, "SERVICE_VALIDEUR_INCONNU").field == "valideur_service"


def test_valideur_not_expected_on_an_a1(invoice):
    invoice.valideur = StructureFactory()
    assert "ne prévoit pas de valideur" in only(invoice, "VALIDEUR_NON_PREVU").message


def test_second_valideur_rules():
    invoice = InvoiceFactory(with_lines=True, a9=True)
    invoice.valideur2 = invoice.valideur
    assert only(invoice, "VALIDEUR2_IDENTIQUE").field == "valideur2"
    invoice.valideur2 = StructureFactory()
    assert findings(invoice) == []
    invoice.valideur = None
    assert {f.code for f in findings(invoice)} == {"VALIDEUR_OBLIGATOIRE", "VALIDEUR2_SANS_VALIDEUR1"}


def test_cadre_reserved_to_the_moe(invoice):
    invoice.cadre = Cadre.A15
    invoice.type_demande_paiement = "FACTURE_TRAVAUX"
    invoice.mode_depot = ModeDepot.SAISIE_API
    finding = only(invoice, "CADRE_NON_AUTORISE")
    assert finding.field == "cadre"
    assert "réservé à la maîtrise d'œuvre" in finding.message


def test_works_cadres_are_not_entered_in_the_portal_saisie(invoice):
    invoice.cadre = Cadre.A4
    invoice.type_demande_paiement = "FACTURE_TRAVAUX"
    assert "dans l'espace « Factures de travaux »" in only(invoice, "CADRE_HORS_SAISIE").message


def test_specialised_cadres_are_not_entered_in_the_portal_saisie(invoice):
    invoice.cadre = Cadre.A3
    assert "par le circuit qui lui est dédié" in only(invoice, "CADRE_HORS_SAISIE").message
    invoice.mode_depot = ModeDepot.SAISIE_API
    assert findings(invoice) == []


def test_type_demande_paiement_follows_the_cadre(invoice):
    invoice.type_demande_paiement = "FACTURE_TRAVAUX"
    assert only(invoice, "TYPE_DP_INCOHERENT").field == "type_demande_paiement"


# --- Credit notes ------------------------------------------------------------------------------------------


@pytest.fixture
def avoir():
    return InvoiceFactory(with_lines=True, avoir=True)


def test_avoir_names_its_origin_invoice(avoir):
    avoir.origin_number = ""
    finding = only(avoir, "AVOIR_SANS_ORIGINE")
    assert finding.field == "origin_number"
    assert finding.message.startswith("Facture d'origine : un avoir indique le numéro")


def test_avoir_origin_unknown_to_choeur_is_accepted(avoir):
    assert findings(avoir) == []


def test_avoir_origin_of_another_supplier(avoir):
    avoir.origin_invoice = InvoiceFactory(sent=True, recipient=avoir.recipient)
    avoir.origin_number = avoir.origin_invoice.number
    assert "qu'une facture émise par votre structure" in only(avoir, "AVOIR_ORIGINE_AUTRE_FOURNISSEUR").message


def test_avoir_origin_found_by_number_must_have_the_same_recipient(avoir):
    origin = InvoiceFactory(sent=True, supplier=avoir.supplier, number="F-ORIG-1")
    avoir.origin_number = "F-ORIG-1"
    finding = only(avoir, "AVOIR_ORIGINE_AUTRE_DESTINATAIRE")
    assert f"({origin.recipient.designation})" in finding.message


def test_avoir_origin_number_must_match_the_linked_invoice(avoir):
    avoir.origin_invoice = InvoiceFactory(sent=True, supplier=avoir.supplier, recipient=avoir.recipient)
    avoir.origin_number = "AUTRE-1"
    assert only(avoir, "AVOIR_ORIGINE_INCOHERENTE").field == "origin_number"


def test_avoir_of_a_matching_sent_invoice_passes(avoir):
    avoir.origin_invoice = InvoiceFactory(sent=True, supplier=avoir.supplier, recipient=avoir.recipient)
    avoir.origin_number = avoir.origin_invoice.number
    assert findings(avoir) == []


def test_avoir_origin_cannot_be_an_avoir(avoir):
    avoir.origin_invoice = InvoiceFactory(sent=True, avoir=True, supplier=avoir.supplier, recipient=avoir.recipient)
    avoir.origin_number = avoir.origin_invoice.number
    assert only(avoir, "AVOIR_ORIGINE_AVOIR").field == "origin_number"


def test_avoir_carries_no_payment_mode(avoir):
    avoir.payment_mode = PaymentMode.VIREMENT
    finding = only(avoir, "AVOIR_AVEC_MODE_PAIEMENT")
    assert finding.message == "Mode de paiement : un avoir n'en comporte pas ; laissez ce champ vide."


# --- Payment and VAT ---------------------------------------------------------------------------------------


def test_invoice_needs_a_payment_mode(invoice):
    invoice.payment_mode = ""
    assert only(invoice, "MODE_PAIEMENT_ABSENT").field == "payment_mode"


def test_bank_account_must_be_the_suppliers(invoice):
    invoice.supplier_bank_account = BankAccountFactory()
    assert only(invoice, "RIB_AUTRE_STRUCTURE").field == "supplier_bank_account"


def test_bank_account_must_be_active(invoice):
    invoice.supplier_bank_account.is_active = False
    assert "est désactivé" in only(invoice, "RIB_INACTIF").message


def test_transfer_needs_bank_details(invoice):
    invoice.supplier_bank_account = None
    assert only(invoice, "RIB_ABSENT").message.startswith(
        "Coordonnées bancaires : obligatoires pour un paiement par virement"
    )
    invoice.payment_mode = PaymentMode.CHEQUE
    assert findings(invoice) == []


def test_exoneration_needs_a_reason():
    invoice = InvoiceFactory(with_lines=True, type_tva=TypeTva.EXONERATION)
    finding = only(invoice, "MOTIF_EXONERATION_ABSENT")
    assert finding.field == "motif_exoneration"
    assert "art. 293 B du CGI" in finding.message


# --- Lines and amounts -------------------------------------------------------------------------------------


def test_at_least_one_line_when_choeur_generates_the_document():
    invoice = InvoiceFactory()
    finding = only(invoice, "LIGNES_ABSENTES")
    assert finding.field == "lines"


def line(**kwargs):
    values = {
        "position": 1,
        "designation": "Prestation",
        "quantity": D("1"),
        "unit_price_ht": D("10"),
        "discount_ht": D("0"),
        "vat_rate": D("20"),
    }
    return InvoiceLine(**{**values, **kwargs})


@pytest.mark.parametrize(
    "changes, code, field, text",
    [
        (
            {"designation": " "},
            "LIGNE_DESIGNATION",
            "lines.0.designation",
            "Ligne 1 : la désignation est obligatoire.",
        ),
        ({"quantity": D("0")}, "LIGNE_QUANTITE", "lines.0.quantity", "Ligne 1 : la quantité ne peut pas être nulle."),
        ({"unit_price_ht": D("-1")}, "LIGNE_PRIX_NEGATIF", "lines.0.unit_price_ht", "ne peut pas être négatif"),
        ({"discount_ht": D("-1")}, "LIGNE_REMISE_NEGATIVE", "lines.0.discount_ht", "ne peut pas être négative"),
        ({"discount_ht": D("11")}, "LIGNE_REMISE_EXCESSIVE", "lines.0.discount_ht", "dépasse le montant de la ligne"),
        ({"vat_rate": D("120")}, "LIGNE_TAUX", "lines.0.vat_rate", "entre 0 et 100 %"),
    ],
)
def test_line_rules(changes, code, field, text):
    invoice = InvoiceFactory()
    found = [f for f in findings(invoice, lines=[line(**changes)]) if f.code == code]
    assert len(found) == 1
    assert found[0].field == field
    assert text in found[0].message


def test_line_rate_must_be_zero_under_exoneration():
    invoice = InvoiceFactory(exoneration=True)
    found = findings(invoice, lines=[line(vat_rate=D("20"))])
    assert [f.code for f in found] == ["LIGNE_TAUX_NON_NUL"]
    assert "Exonération de TVA" in found[0].message


def test_declared_totals_must_match_the_lines():
    invoice = InvoiceFactory(with_lines=True, mode_depot=ModeDepot.SAISIE_API)
    invoice.total_tva = invoice.total_tva + D("1")
    invoice.total_ttc = invoice.total_ttc + D("1")
    found = findings(invoice)
    assert [(f.field, f.code) for f in found] == [("total_tva", "TOTAL_INCOHERENT"), ("total_ttc", "TOTAL_INCOHERENT")]
    assert found[0].message.startswith("Montant total de la TVA : vous avez indiqué 64,22")


def test_global_discount_needs_a_reason_and_cannot_exceed_the_total(invoice):
    invoice.remise_globale_ttc = D("10")
    invoice.montant_a_payer = invoice.total_ttc - D("10")
    assert only(invoice, "MOTIF_REMISE_ABSENT").field == "motif_remise_globale"
    invoice.motif_remise_globale = "Geste commercial"
    assert findings(invoice) == []
    invoice.remise_globale_ttc = invoice.total_ttc + D("1")
    invoice.montant_a_payer = None
    assert "REMISE_EXCESSIVE" in {f.code for f in findings(invoice)}


@pytest.fixture
def pdf_deposit():
    """A PDF deposited with its totals only (no lines)."""
    return InvoiceFactory(
        mode_depot=ModeDepot.DEPOT_PDF_PORTAIL,
        main_document=file_store(content=b"%PDF-1.7 facture du fournisseur", mime_type="application/pdf"),
        total_ht=D("100.00"),
        total_tva=D("20.00"),
        total_ttc=D("120.00"),
        montant_a_payer=D("120.00"),
    )


def test_pdf_deposit_without_lines_needs_its_vat_breakdown(pdf_deposit):
    finding = only(pdf_deposit, "TVA_VENTILATION_ABSENTE")
    assert finding.field == "vat_lines"
    InvoiceVatLine.objects.create(invoice=pdf_deposit, rate=D("20"), base_ht=D("100"), vat_amount=D("20"))
    assert findings(pdf_deposit) == []


def test_pdf_deposit_totals_must_be_consistent(pdf_deposit):
    InvoiceVatLine.objects.create(invoice=pdf_deposit, rate=D("20"), base_ht=D("100"), vat_amount=D("20"))
    pdf_deposit.total_ttc = D("125.00")
    codes = [(f.field, f.code) for f in findings(pdf_deposit)]
    assert ("total_ttc", "TOTAL_INCOHERENT") in codes
    assert ("montant_a_payer", "TOTAL_INCOHERENT") in codes


def test_pdf_deposit_vat_breakdown_must_add_up(pdf_deposit):
    InvoiceVatLine.objects.create(invoice=pdf_deposit, rate=D("20"), base_ht=D("100"), vat_amount=D("25"))
    codes = {f.code for f in findings(pdf_deposit)}
    assert codes == {"TOTAL_INCOHERENT", "TVA_INCOHERENTE"}


def test_pdf_deposit_needs_its_totals():
    invoice = InvoiceFactory(main_document=file_store(content=b"%PDF-1.7 x", mime_type="application/pdf"))
    finding = only(invoice, "TOTAUX_ABSENTS")
    assert "montant HT, montant de TVA, montant TTC, net à payer manquants" in finding.message
