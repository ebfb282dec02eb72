"""The « pré-contrôle »: every rule a payment request must pass before it is sent (routing, cadre, amounts).

Run by the « Vérifier » button of the saisie, by `invoice_send` and by structured deposits (flows, API).
Each rule returns `Finding`s naming the field at fault and saying, in French, what to fix. Nothing here
writes to the database.

Totals-only deposits: an invoice that comes with its own document (a PDF deposited on the portal or by
API, or a mixed EDI flow) may carry no lines, as Chorus Pro allows; it must then declare its totals and,
when it bears VAT, its VAT breakdown, which are checked for consistency instead of being recomputed. An
invoice whose document Chœur generates (saisie) needs at least one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.utils import timezone

from choeur.invoices.amounts import SAISIE_MODES, TOTAL_RULES, computed_totals, document_totals
from choeur.invoices.cadres import PORTAL_SAISIE_CADRES, WORKS_VALIDEUR_CADRES, cadre_refusal_for, cadre_rule
from choeur.invoices.computations import (
    ZERO,
    compare_totals,
    format_amount,
    round_amount,
    totals_from_vat_lines,
)
from choeur.invoices.enums import (
    ZERO_RATE_TYPES,
    Cadre,
    DepositorRole,
    InvoiceStatus,
    InvoiceType,
    PaymentMode,
    TypeTva,
)
from choeur.invoices.models import NUMBER_MAX_LENGTH, NUMBER_PATTERN, Invoice


@dataclass(frozen=True)
class Finding:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _lines(invoice: Invoice, lines: Sequence | None) -> list:
    if lines is not None:
        return list(lines)
    if invoice.pk is None:
        return []
    return list(invoice.lines.all())


def _vat_lines(invoice: Invoice, vat_lines: Sequence | None) -> list:
    if vat_lines is not None:
        return list(vat_lines)
    if invoice.pk is None:
        return []
    return list(invoice.vat_lines.all())


def _generates_document(invoice: Invoice) -> bool:
    """Chœur renders the document (Factur-X) when nobody uploaded one."""
    return invoice.main_document_id is None


# --- Identification -----------------------------------------------------------------------------------


def check_number(invoice: Invoice) -> list[Finding]:
    number = (invoice.number or "").strip()
    if not number:
        return [
            Finding("number", "NUMERO_ABSENT", "Numéro de facture : obligatoire. Saisissez votre numéro de facture.")
        ]
    if len(number) > NUMBER_MAX_LENGTH:
        return [
            Finding(
                "number",
                "NUMERO_TROP_LONG",
                f"Numéro de facture : {len(number)} caractères, {NUMBER_MAX_LENGTH} au plus.",
            )
        ]
    if not NUMBER_PATTERN.match(number):
        return [
            Finding(
                "number",
                "NUMERO_FORMAT",
                "Numéro de facture : seuls les lettres sans accent, les chiffres et les caractères - _ / + "
                "sont admis (pas d'espace).",
            )
        ]
    return []


def check_number_unused(invoice: Invoice) -> list[Finding]:
    number = (invoice.number or "").strip()
    if not number or invoice.supplier_id is None:
        return []
    clash = (
        Invoice.objects.filter(supplier_id=invoice.supplier_id, number=number)
        .exclude(status=InvoiceStatus.BROUILLON)
        .exclude(pk=invoice.pk)
        .first()
    )
    if clash is None:
        return []
    deposited = f" le {timezone.localtime(clash.deposited_at):%d/%m/%Y}" if clash.deposited_at else ""
    return [
        Finding(
            "number",
            "NUMERO_DEJA_UTILISE",
            f"Numéro de facture : le numéro {number} a déjà été envoyé{deposited} par votre structure. "
            "Chaque facture porte un numéro unique ; pour corriger une facture, émettez un avoir.",
        )
    ]


def check_date(invoice: Invoice) -> list[Finding]:
    if invoice.invoice_date is None:
        return [Finding("invoice_date", "DATE_ABSENTE", "Date de facture : obligatoire.")]
    if invoice.invoice_date > timezone.localdate():
        return [
            Finding(
                "invoice_date",
                "DATE_FUTURE",
                f"Date de facture : le {invoice.invoice_date:%d/%m/%Y} est dans le futur ; une facture est datée "
                "au plus tard du jour de son envoi.",
            )
        ]
    return []


def check_currency(invoice: Invoice) -> list[Finding]:
    currency = invoice.currency or ""
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        return [
            Finding("currency", "DEVISE_INVALIDE", f"Devise : « {currency} » n'est pas un code ISO 4217 (ex. EUR).")
        ]
    return []


def check_supplier(invoice: Invoice) -> list[Finding]:
    supplier = invoice.supplier
    findings = []
    if not supplier.is_active:
        findings.append(
            Finding(
                "supplier", "FOURNISSEUR_INACTIF", f"Fournisseur : la structure {supplier.designation} est inactive."
            )
        )
    # The generated Factur-X must name the seller's VAT number for standard, zero-rated and exempt lines
    # (EN 16931 BR-S-02, BR-Z-02, BR-E-02); only « Sans TVA » (outside the scope of VAT) does without.
    if (
        _generates_document(invoice)
        and invoice.type_tva != TypeTva.SANS_TVA
        and not (supplier.numero_tva or "").strip()
    ):
        findings.append(
            Finding(
                "supplier",
                "TVA_FOURNISSEUR_ABSENTE",
                "Fournisseur : le numéro de TVA intracommunautaire de votre structure est nécessaire pour une "
                "facture soumise à la TVA ou exonérée. Renseignez-le dans la fiche de la structure, ou choisissez "
                "« Sans TVA » si votre structure n'est pas assujettie à la TVA.",
            )
        )
    if invoice.supplier_service_id and invoice.supplier_service.structure_id != supplier.pk:
        findings.append(
            Finding(
                "supplier_service",
                "SERVICE_FOURNISSEUR_INCONNU",
                "Service du fournisseur : ce service n'appartient pas à votre structure.",
            )
        )
    return findings


# --- Routing ------------------------------------------------------------------------------------------


def recipient_requirements(structure, service=None) -> dict:
    """What a recipient requires on invoices addressed to it, for the live hints of the saisie form and the
    directory: `service_required`, `engagement_required`, `engagement_or_service`, plus French `hints`."""
    if structure is None:
        return {
            "known": False,
            "is_public": False,
            "is_active": False,
            "service_required": False,
            "engagement_required": False,
            "engagement_or_service": False,
            "mise_en_paiement_remontee": False,
            "payment_delay_days": None,
            "hints": [],
        }
    engagement_required = bool(structure.engagement_obligatoire or (service and service.engagement_obligatoire))
    hints = []
    if structure.code_service_obligatoire:
        hints.append("Ce destinataire exige un code service : choisissez le service qui a passé la commande.")
    if engagement_required:
        whom = "Ce service" if service is not None and service.engagement_obligatoire else "Ce destinataire"
        hints.append(f"{whom} exige un numéro d'engagement (bon de commande) : il figure sur le bon de commande reçu.")
    if structure.engagement_ou_service and not (structure.code_service_obligatoire or engagement_required):
        hints.append("Ce destinataire exige un code service ou un numéro d'engagement (l'un des deux au moins).")
    if structure.mise_en_paiement_non_remontee:
        hints.append("Ce destinataire ne transmet pas le statut « mise en paiement ».")
    return {
        "known": True,
        "is_public": structure.is_public,
        "is_active": structure.is_active,
        "service_required": bool(structure.code_service_obligatoire),
        "engagement_required": engagement_required,
        "engagement_or_service": bool(structure.engagement_ou_service),
        "mise_en_paiement_remontee": not structure.mise_en_paiement_non_remontee,
        "payment_delay_days": structure.effective_payment_delay_days,
        "hints": hints,
    }


def check_recipient(invoice: Invoice) -> list[Finding]:
    recipient = invoice.recipient
    if recipient is None:
        return [
            Finding(
                "recipient",
                "DESTINATAIRE_ABSENT",
                "Destinataire : obligatoire. Recherchez la structure publique destinataire par son SIRET.",
            )
        ]
    if not recipient.is_public:
        return [
            Finding(
                "recipient",
                "DESTINATAIRE_NON_PUBLIC",
                f"Destinataire : {recipient.designation} n'est pas une structure publique ; seules les entités "
                "publiques reçoivent des factures sur Chœur.",
            )
        ]
    if not recipient.is_active:
        return [
            Finding(
                "recipient",
                "DESTINATAIRE_INACTIF",
                f"Destinataire : la structure {recipient.designation} ({recipient.identifier}) est inactive et ne "
                "peut plus recevoir de factures. Vérifiez son identifiant auprès de votre client.",
            )
        ]
    if recipient.pk == invoice.supplier_id:
        return [
            Finding(
                "recipient",
                "DESTINATAIRE_EST_FOURNISSEUR",
                "Destinataire : une structure ne se facture pas elle-même.",
            )
        ]
    return []


def check_recipient_service(invoice: Invoice) -> list[Finding]:
    recipient = invoice.recipient
    if recipient is None:
        return []
    service = invoice.recipient_service
    findings = []
    if service is not None:
        if service.structure_id != recipient.pk:
            return [
                Finding(
                    "recipient_service",
                    "SERVICE_HORS_DESTINATAIRE",
                    f"Service exécutant : le service {service.code} n'appartient pas à {recipient.designation}.",
                )
            ]
        if not service.is_currently_active():
            findings.append(
                Finding(
                    "recipient_service",
                    "SERVICE_INACTIF",
                    f"Service exécutant : le service {service.code} de {recipient.designation} n'est pas actif "
                    "aujourd'hui. Choisissez un service actif.",
                )
            )
        return findings
    if recipient.code_service_obligatoire:
        return [
            Finding(
                "recipient_service",
                "SERVICE_OBLIGATOIRE",
                f"Service exécutant : {recipient.designation} exige un code service. Choisissez le service qui a "
                "passé la commande.",
            )
        ]
    if recipient.engagement_ou_service and not (invoice.numero_engagement or "").strip():
        return [
            Finding(
                "recipient_service",
                "SERVICE_OU_ENGAGEMENT_OBLIGATOIRE",
                f"Service exécutant ou numéro d'engagement : {recipient.designation} exige l'un des deux. "
                "Renseignez le code service ou le numéro d'engagement.",
            )
        ]
    return []


def check_engagement(invoice: Invoice) -> list[Finding]:
    recipient = invoice.recipient
    if recipient is None:
        return []
    engagement = (invoice.numero_engagement or "").strip()
    if engagement:
        return []
    service = invoice.recipient_service
    if service is not None and service.structure_id == recipient.pk and service.engagement_obligatoire:
        return [
            Finding(
                "numero_engagement",
                "ENGAGEMENT_OBLIGATOIRE_SERVICE",
                f"Numéro d'engagement : le service {service.code} de {recipient.designation} exige un numéro "
                "d'engagement (bon de commande). Il figure sur le bon de commande reçu.",
            )
        ]
    if recipient.engagement_obligatoire:
        return [
            Finding(
                "numero_engagement",
                "ENGAGEMENT_OBLIGATOIRE",
                f"Numéro d'engagement : {recipient.designation} exige un numéro d'engagement (bon de commande). "
                "Il figure sur le bon de commande reçu.",
            )
        ]
    return []


def _check_one_valideur(invoice: Invoice, *, field: str, structure, service, level: str) -> list[Finding]:
    findings = []
    if structure.pk == invoice.supplier_id:
        findings.append(
            Finding(
                field,
                "VALIDEUR_EST_FOURNISSEUR",
                f"Valideur{level} : votre structure ne peut pas valider sa propre facture ; indiquez le titulaire "
                "du marché (ou le mandataire du groupement).",
            )
        )
    if not structure.is_active:
        findings.append(
            Finding(field, "VALIDEUR_INACTIF", f"Valideur{level} : la structure {structure.designation} est inactive.")
        )
    if service is not None:
        if service.structure_id != structure.pk:
            findings.append(
                Finding(
                    f"{field}_service",
                    "SERVICE_VALIDEUR_INCONNU",
                    f"Service du valideur{level} : le service {service.code} n'appartient pas à "
                    f"{structure.designation}.",
                )
            )
        elif not service.is_currently_active():
            findings.append(
                Finding(
                    f"{field}_service",
                    "SERVICE_VALIDEUR_INACTIF",
                    f"Service du valideur{level} : le service {service.code} n'est pas actif.",
                )
            )
    return findings


def check_valideurs(invoice: Invoice) -> list[Finding]:
    try:
        rule = cadre_rule(invoice.cadre)
    except ValueError:
        return []
    findings = []
    if invoice.valideur is None:
        if rule.valideur_required:
            findings.append(
                Finding(
                    "valideur",
                    "VALIDEUR_OBLIGATOIRE",
                    f"Valideur : obligatoire pour le cadre {rule.code} ({rule.label.lower()}). Indiquez le titulaire "
                    "du marché ou le mandataire du groupement, qui validera la facture avant son envoi.",
                )
            )
        if invoice.valideur2 is not None:
            findings.append(
                Finding(
                    "valideur2", "VALIDEUR2_SANS_VALIDEUR1", "Valideur de niveau 2 : indiquez d'abord le valideur."
                )
            )
        return findings
    if not rule.valideur_required and rule.cadre not in WORKS_VALIDEUR_CADRES:
        findings.append(
            Finding(
                "valideur",
                "VALIDEUR_NON_PREVU",
                f"Valideur : le cadre {rule.code} ne prévoit pas de valideur ; choisissez le cadre A9 (sous-traitant) "
                "ou A12 (cotraitant), ou retirez le valideur.",
            )
        )
        return findings
    findings += _check_one_valideur(
        invoice, field="valideur", structure=invoice.valideur, service=invoice.valideur_service, level=""
    )
    if invoice.valideur2 is not None:
        if invoice.valideur2_id == invoice.valideur_id:
            findings.append(
                Finding(
                    "valideur2",
                    "VALIDEUR2_IDENTIQUE",
                    "Valideur de niveau 2 : il doit être différent du valideur de niveau 1.",
                )
            )
        findings += _check_one_valideur(
            invoice,
            field="valideur2",
            structure=invoice.valideur2,
            service=invoice.valideur2_service,
            level=" de niveau 2",
        )
    return findings


def check_cadre(invoice: Invoice) -> list[Finding]:
    try:
        rule = cadre_rule(invoice.cadre)
    except ValueError as exc:
        return [Finding("cadre", "CADRE_INCONNU", f"Cadre de facturation : {exc}")]
    findings = []
    # A works document of the MOE or the MOA names the company as supplier (it is paid) and is deposited by
    # the MOE or MOA named on it: that structure is the one the cadre must be open to.
    depositor = invoice.supplier
    if DepositorRole.MOE in rule.depositor_roles and invoice.moe_id:
        depositor = invoice.moe
    elif DepositorRole.MOA in rule.depositor_roles and invoice.moa_id:
        depositor = invoice.moa
    refusal = cadre_refusal_for(supplier=depositor, cadre=rule.cadre)
    if refusal:
        findings.append(Finding("cadre", "CADRE_NON_AUTORISE", f"Cadre de facturation : {refusal}"))
    if invoice.mode_depot in SAISIE_MODES and Cadre(rule.cadre) not in PORTAL_SAISIE_CADRES:
        where = (
            "dans l'espace « Factures de travaux »"
            if rule.is_works
            else "par le circuit qui lui est dédié (flux ou API)"
        )
        findings.append(
            Finding(
                "cadre",
                "CADRE_HORS_SAISIE",
                f"Cadre de facturation : le cadre {rule.code} ({rule.label.lower()}) ne se saisit pas ici ; "
                f"déposez-le {where}.",
            )
        )
    if invoice.type_demande_paiement != rule.type_demande_paiement:
        findings.append(
            Finding(
                "type_demande_paiement",
                "TYPE_DP_INCOHERENT",
                f"Type de demande de paiement : le cadre {rule.code} correspond au type "
                f"« {rule.type_demande_paiement} », pas « {invoice.type_demande_paiement} ».",
            )
        )
    return findings


# --- Credit notes, payment, VAT -----------------------------------------------------------------------


def check_origin(invoice: Invoice) -> list[Finding]:
    if invoice.invoice_type != InvoiceType.AVOIR:
        return []
    origin_number = (invoice.origin_number or "").strip()
    if not origin_number and invoice.origin_invoice is None:
        return [
            Finding(
                "origin_number",
                "AVOIR_SANS_ORIGINE",
                "Facture d'origine : un avoir indique le numéro de la facture qu'il corrige ou annule.",
            )
        ]
    origin = invoice.origin_invoice
    if origin is None:
        # A number we know (sent by the same supplier) must be coherent; one we do not know (an invoice
        # sent before Chœur, or on paper) is accepted as declared.
        origin = (
            Invoice.objects.filter(supplier_id=invoice.supplier_id, number=origin_number)
            .exclude(status=InvoiceStatus.BROUILLON)
            .first()
        )
        if origin is None:
            return []
    elif origin_number and origin.number != origin_number:
        return [
            Finding(
                "origin_number",
                "AVOIR_ORIGINE_INCOHERENTE",
                f"Facture d'origine : le numéro indiqué ({origin_number}) ne correspond pas à la facture liée "
                f"({origin.number}).",
            )
        ]
    findings = []
    if origin.supplier_id != invoice.supplier_id:
        findings.append(
            Finding(
                "origin_number",
                "AVOIR_ORIGINE_AUTRE_FOURNISSEUR",
                "Facture d'origine : un avoir ne peut corriger qu'une facture émise par votre structure.",
            )
        )
    if invoice.recipient_id is not None and origin.recipient_id not in (None, invoice.recipient_id):
        findings.append(
            Finding(
                "origin_number",
                "AVOIR_ORIGINE_AUTRE_DESTINATAIRE",
                f"Facture d'origine : la facture {origin.number} a été adressée à un autre destinataire "
                f"({origin.recipient.designation}) ; l'avoir doit être adressé au même destinataire.",
            )
        )
    if origin.status == InvoiceStatus.BROUILLON:
        findings.append(
            Finding(
                "origin_number",
                "AVOIR_ORIGINE_BROUILLON",
                f"Facture d'origine : la facture {origin.number} n'a pas été envoyée ; supprimez ou corrigez "
                "le brouillon.",
            )
        )
    if origin.invoice_type == InvoiceType.AVOIR:
        findings.append(
            Finding(
                "origin_number",
                "AVOIR_ORIGINE_AVOIR",
                f"Facture d'origine : {origin.number} est elle-même un avoir ; indiquez la facture corrigée.",
            )
        )
    return findings


def check_payment(invoice: Invoice) -> list[Finding]:
    findings = []
    if invoice.invoice_type == InvoiceType.AVOIR:
        if invoice.payment_mode:
            findings.append(
                Finding(
                    "payment_mode",
                    "AVOIR_AVEC_MODE_PAIEMENT",
                    "Mode de paiement : un avoir n'en comporte pas ; laissez ce champ vide.",
                )
            )
    elif not invoice.payment_mode:
        findings.append(
            Finding("payment_mode", "MODE_PAIEMENT_ABSENT", "Mode de paiement : obligatoire pour une facture.")
        )
    elif invoice.payment_mode not in PaymentMode.values:
        findings.append(
            Finding("payment_mode", "MODE_PAIEMENT_INCONNU", f"Mode de paiement : « {invoice.payment_mode} » inconnu.")
        )
    account = invoice.supplier_bank_account
    if account is not None:
        if account.structure_id != invoice.supplier_id:
            findings.append(
                Finding(
                    "supplier_bank_account",
                    "RIB_AUTRE_STRUCTURE",
                    "Coordonnées bancaires : ce compte n'appartient pas à votre structure.",
                )
            )
        elif not account.is_active:
            findings.append(
                Finding(
                    "supplier_bank_account",
                    "RIB_INACTIF",
                    f"Coordonnées bancaires : le compte « {account.label} » est désactivé ; choisissez un compte "
                    "actif.",
                )
            )
    elif (
        invoice.invoice_type != InvoiceType.AVOIR
        and invoice.payment_mode == PaymentMode.VIREMENT
        and _generates_document(invoice)
    ):
        findings.append(
            Finding(
                "supplier_bank_account",
                "RIB_ABSENT",
                "Coordonnées bancaires : obligatoires pour un paiement par virement. Choisissez le compte à créditer.",
            )
        )
    return findings


def check_vat(invoice: Invoice) -> list[Finding]:
    if invoice.type_tva not in TypeTva.values:
        return [Finding("type_tva", "TYPE_TVA_INCONNU", f"Type de TVA : « {invoice.type_tva} » inconnu.")]
    if invoice.type_tva == TypeTva.EXONERATION and not (invoice.motif_exoneration or "").strip():
        return [
            Finding(
                "motif_exoneration",
                "MOTIF_EXONERATION_ABSENT",
                "Motif d'exonération : obligatoire en cas d'exonération de TVA (ex. « TVA non applicable, "
                "art. 293 B du CGI »).",
            )
        ]
    return []


# --- Lines and amounts --------------------------------------------------------------------------------


def check_lines(invoice: Invoice, lines: Sequence) -> list[Finding]:
    findings = []
    if not lines:
        if _generates_document(invoice):
            findings.append(
                Finding(
                    "lines",
                    "LIGNES_ABSENTES",
                    "Lignes de facture : ajoutez au moins une ligne (désignation, quantité, prix unitaire, "
                    "taux de TVA).",
                )
            )
        return findings
    for index, line in enumerate(lines):
        label = f"Ligne {getattr(line, 'position', None) or index + 1}"
        prefix = f"lines.{index}"
        if not (line.designation or "").strip():
            findings.append(
                Finding(f"{prefix}.designation", "LIGNE_DESIGNATION", f"{label} : la désignation est obligatoire.")
            )
        if invoice.amounts_from_document:
            # The document's lines follow the norm (negative lines, zero quantities, line charges…): the CEN
            # rules judge them, not the saisie's rules.
            continue
        if line.quantity is None or Decimal(line.quantity) == 0:
            findings.append(
                Finding(f"{prefix}.quantity", "LIGNE_QUANTITE", f"{label} : la quantité ne peut pas être nulle.")
            )
        if line.unit_price_ht is None or Decimal(line.unit_price_ht) < 0:
            findings.append(
                Finding(
                    f"{prefix}.unit_price_ht",
                    "LIGNE_PRIX_NEGATIF",
                    f"{label} : le prix unitaire HT ne peut pas être négatif ; un avoir porte des montants positifs.",
                )
            )
        discount = Decimal(line.discount_ht or 0)
        if discount < 0:
            findings.append(
                Finding(
                    f"{prefix}.discount_ht", "LIGNE_REMISE_NEGATIVE", f"{label} : la remise ne peut pas être négative."
                )
            )
        elif line.quantity is not None and line.unit_price_ht is not None:
            gross = round_amount(Decimal(line.quantity) * Decimal(line.unit_price_ht))
            if gross > 0 and discount > gross:
                findings.append(
                    Finding(
                        f"{prefix}.discount_ht",
                        "LIGNE_REMISE_EXCESSIVE",
                        f"{label} : la remise ({format_amount(discount)}) dépasse le montant de la ligne "
                        f"({format_amount(gross)}).",
                    )
                )
        rate = Decimal(line.vat_rate if line.vat_rate is not None else 0)
        if rate < 0 or rate >= 100:
            findings.append(
                Finding(
                    f"{prefix}.vat_rate", "LIGNE_TAUX", f"{label} : le taux de TVA doit être compris entre 0 et 100 %."
                )
            )
        elif invoice.type_tva in ZERO_RATE_TYPES and rate != 0:
            findings.append(
                Finding(
                    f"{prefix}.vat_rate",
                    "LIGNE_TAUX_NON_NUL",
                    f"{label} : en « {TypeTva(invoice.type_tva).label} », le taux de TVA est 0 %.",
                )
            )
    return findings


def _declared(invoice: Invoice) -> dict:
    return {
        "total_ht": invoice.total_ht,
        "total_tva": invoice.total_tva,
        "total_ttc": invoice.total_ttc,
        "montant_a_payer": invoice.montant_a_payer,
        "currency": invoice.currency,
    }


def _declared_all(invoice: Invoice) -> dict:
    return {
        "line_total_ht": invoice.line_total_ht,
        "allowance_total_ht": invoice.allowance_total_ht,
        "charge_total_ht": invoice.charge_total_ht,
        **_declared(invoice),
    }


def check_document_amounts(
    invoice: Invoice, lines: Sequence, vat_lines: Sequence, allowance_charges: Sequence | None
) -> list[Finding]:
    """A document whose amounts are authoritative: only the sums the norm defines exactly, each refusal
    naming its CEN rule (a flow never gets here with such an error: the CEN layer has refused it)."""
    try:
        totals = document_totals(invoice, lines, vat_lines, allowance_charges=allowance_charges)
    except ValueError as exc:
        return [Finding("lines", "LIGNE_MONTANT_INVALIDE", f"Lignes de facture : {exc}")]
    return [
        Finding(
            m.field,
            "TOTAL_INCOHERENT",
            f"{m.message.replace('Corrigez le montant ou les lignes.', '')}(règle {TOTAL_RULES[m.field]} de la "
            "norme EN 16931). Corrigez le document.",
        )
        for m in compare_totals(_declared_all(invoice), totals)
        if m.field in TOTAL_RULES
    ]


def check_amounts(
    invoice: Invoice, lines: Sequence, vat_lines: Sequence, allowance_charges: Sequence | None = None
) -> list[Finding]:
    findings = []
    remise = invoice.remise_globale_ttc or ZERO
    if remise < 0:
        findings.append(
            Finding("remise_globale_ttc", "REMISE_NEGATIVE", "Remise globale TTC : elle ne peut pas être négative.")
        )
    if remise > 0 and not (invoice.motif_remise_globale or "").strip():
        findings.append(
            Finding(
                "motif_remise_globale",
                "MOTIF_REMISE_ABSENT",
                "Motif de la remise globale : indiquez pourquoi la remise est accordée.",
            )
        )
    totals = None
    if lines and invoice.amounts_from_document:
        findings += check_document_amounts(invoice, lines, vat_lines, allowance_charges)
    elif lines:
        try:
            totals = computed_totals(invoice, lines, allowance_charges=allowance_charges)
        except ValueError as exc:
            return findings + [Finding("lines", "LIGNE_MONTANT_INVALIDE", f"Lignes de facture : {exc}")]
        findings += [
            Finding(m.field, "TOTAL_INCOHERENT", m.message) for m in compare_totals(_declared(invoice), totals)
        ]
    else:
        if _generates_document(invoice):
            return findings  # check_lines already asked for lines.
        missing = [
            label
            for name, label in (
                ("total_ht", "montant HT"),
                ("total_tva", "montant de TVA"),
                ("total_ttc", "montant TTC"),
                ("montant_a_payer", "net à payer"),
            )
            if getattr(invoice, name) is None
        ]
        if missing:
            return findings + [
                Finding(
                    "total_ht",
                    "TOTAUX_ABSENTS",
                    f"Montants : une facture déposée sans lignes indique ses totaux ({', '.join(missing)} manquants).",
                )
            ]
        expected_ttc = invoice.total_ht + invoice.total_tva
        if invoice.total_ttc != expected_ttc:
            findings.append(
                Finding(
                    "total_ttc",
                    "TOTAL_INCOHERENT",
                    f"Montant total TTC : {format_amount(invoice.total_ttc, invoice.currency)} n'est pas égal au "
                    f"montant HT plus la TVA ({format_amount(expected_ttc, invoice.currency)}).",
                )
            )
        prepaid = invoice.prepaid_amount or ZERO
        rounding = invoice.rounding_amount or ZERO
        expected_net = invoice.total_ttc - remise - prepaid + rounding
        if invoice.montant_a_payer != expected_net:
            deductions = "la remise globale" + (", le montant déjà payé" if prepaid else "")
            findings.append(
                Finding(
                    "montant_a_payer",
                    "TOTAL_INCOHERENT",
                    f"Net à payer : {format_amount(invoice.montant_a_payer, invoice.currency)} n'est pas égal au "
                    f"montant TTC moins {deductions}{' plus l’arrondi' if rounding else ''} "
                    f"({format_amount(expected_net, invoice.currency)}).",
                )
            )
        if vat_lines:
            try:
                breakdown = totals_from_vat_lines(
                    vat_lines,
                    remise_globale_ttc=remise,
                    prepaid_amount=invoice.prepaid_amount,
                    rounding_amount=invoice.rounding_amount,
                )
            except ValueError as exc:
                return findings + [Finding("vat_lines", "TVA_INVALIDE", f"Ventilation de la TVA : {exc}")]
            declared = {"total_ht": invoice.total_ht, "total_tva": invoice.total_tva, "currency": invoice.currency}
            findings += [
                Finding(
                    m.field,
                    "TOTAL_INCOHERENT",
                    m.message.replace("les lignes de la facture donnent", "la ventilation de la TVA donne"),
                )
                for m in compare_totals(declared, breakdown)
            ]
            for vat in breakdown.vat_breakdown:
                expected = round_amount(vat.base_ht * vat.rate / 100)
                # One cent per rate of tolerance: the depositor may have summed per-line rounded VAT.
                if abs(expected - vat.vat_amount) > Decimal("0.01"):
                    findings.append(
                        Finding(
                            "vat_lines",
                            "TVA_INCOHERENTE",
                            f"Ventilation de la TVA : au taux de {vat.rate.normalize():f} %, une base de "
                            f"{format_amount(vat.base_ht, invoice.currency)} donne "
                            f"{format_amount(expected, invoice.currency)} de TVA, pas "
                            f"{format_amount(vat.vat_amount, invoice.currency)}.",
                        )
                    )
        elif invoice.total_tva not in (None, ZERO):
            findings.append(
                Finding(
                    "vat_lines",
                    "TVA_VENTILATION_ABSENTE",
                    "Ventilation de la TVA : une facture sans lignes soumise à la TVA indique sa TVA par taux "
                    "(base HT et montant de TVA pour chaque taux).",
                )
            )
    total = invoice.total_ttc
    if totals is not None:
        total = totals.total_ttc
    if total is not None and remise > 0 and remise > total:
        findings.append(
            Finding(
                "remise_globale_ttc",
                "REMISE_EXCESSIVE",
                f"Remise globale TTC : {format_amount(remise, invoice.currency)} dépasse le montant TTC "
                f"({format_amount(total, invoice.currency)}).",
            )
        )
    if total is not None and total <= 0 and not any(f.code == "LIGNE_QUANTITE" for f in findings):
        findings.append(
            Finding(
                "lines",
                "MONTANT_NUL",
                "Montants : le montant TTC doit être positif (un avoir porte lui aussi des montants positifs).",
            )
        )
    return findings


RULES = (
    check_number,
    check_number_unused,
    check_date,
    check_currency,
    check_supplier,
    check_recipient,
    check_recipient_service,
    check_engagement,
    check_valideurs,
    check_cadre,
    check_origin,
    check_payment,
    check_vat,
)


def invoice_checks(
    invoice: Invoice,
    *,
    lines: Sequence | None = None,
    vat_lines: Sequence | None = None,
    allowance_charges: Sequence | None = None,
    number_checked: bool = False,
) -> list[Finding]:
    """Every finding on this invoice, in form order. Empty list: the invoice can be sent.

    `lines`/`vat_lines` let a caller check unsaved lines (the saisie form before « Enregistrer »).
    `number_checked`: the caller has just looked this number up among the supplier's sent invoices, in the
    same transaction (a structured deposit), so `check_number_unused` would only repeat its query.
    """
    lines = _lines(invoice, lines)
    vat_lines = _vat_lines(invoice, vat_lines)
    findings: list[Finding] = []
    for rule in RULES:
        if number_checked and rule is check_number_unused:
            continue
        findings += rule(invoice)
    findings += check_lines(invoice, lines)
    if not any(f.code == "LIGNE_MONTANT_INVALIDE" for f in findings):
        findings += check_amounts(invoice, lines, vat_lines, allowance_charges)
    return findings
