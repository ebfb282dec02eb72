"""Demo invoices between the demo structures (choeur/directory/demo.py), so that « Factures émises »,
« Factures reçues », the invoice pages and the statistics show something real after `choeur seed_demo`.

Every invoice is made the way a person would make it: a draft (`invoice_draft_create`), sent
(`invoice_send`: checks, Factur-X, deposit certificate), then processed by the buyer and answered by the
supplier through the lifecycle services — so the history, the audit log and the payment clock are those the
platform itself writes. Idempotent: an invoice whose number the supplier already has is left alone.
Sending renders PDFs: count about a second per invoice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from choeur.directory.demo import demo_structure
from choeur.directory.enums import IdentifierType
from choeur.directory.models import Structure
from choeur.directory.services import structure_update
from choeur.invoices.enums import Cadre, Channel, InvoiceStatus, PaymentMode
from choeur.invoices.lifecycle import invoice_complete, invoice_process, invoice_recycle, invoice_rejection_acknowledge
from choeur.invoices.models import Invoice
from choeur.invoices.services import invoice_draft_create, invoice_send
from choeur.invoices.validation_circuit import invoice_validate

S = InvoiceStatus

# The recipient's processing steps, in order; a target status is reached by running its prefix.
PROCESSING = ("service_fait", "mandater", "mettre_a_disposition_comptable", "comptabiliser", "mettre_en_paiement")
PROCESSED_TO = {
    S.SERVICE_FAIT: 1,
    S.MANDATEE: 2,
    S.MISE_A_DISPOSITION_COMPTABLE: 3,
    S.COMPTABILISEE: 4,
    S.MISE_EN_PAIEMENT: 5,
}


@dataclass(frozen=True)
class DemoInvoice:
    supplier: str  # keys of choeur.directory.demo
    buyer: str
    number: str
    service: str
    lines: tuple[tuple[str, str, Decimal, str, Decimal, Decimal], ...]  # ref, designation, qty, unit, price, vat
    target: str = S.MISE_A_DISPOSITION
    engagement: str = ""
    marche: str = ""
    motif: str = ""
    comment: str = ""
    # Answers of the supplier: « complete » a suspension, « recycle » to this service, « acknowledge » a rejection.
    answer: str = ""
    recycle_service: str = ""
    # Validator circuit (A9 sous-traitant, A12 cotraitant): the valideur's key and its answer, if any
    # (« VALIDATION », « REFUS » with `motif`, « ERREUR_VALIDEUR »); without one it waits (A_VALIDER_1).
    cadre: str = Cadre.A1
    valideur: str = ""
    decision: str = ""


@dataclass
class DemoInvoicesReport:
    created: int = 0
    kept: int = 0
    numbers: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.created:
            return f"Factures de démonstration déjà présentes ({self.kept}) : rien n'a changé."
        return f"Factures de démonstration : {self.created} créée(s), {self.kept} déjà présente(s)."


def _d(value: str) -> Decimal:
    return Decimal(value)


SUPPLIES = (("FB-001", "Ramettes de papier A4 recyclé (carton de 5)", _d("40"), "SET", _d("21.90"), _d("20")),)
TONER = (
    ("TN-220", "Cartouches de toner noir", _d("12"), "H87", _d("64.50"), _d("20")),
    ("LIV-01", "Livraison sur site", _d("1"), "C62", _d("35.00"), _d("20")),
)
PHARMA = (
    ("PH-310", "Compresses stériles 10 × 10 (boîte de 100)", _d("60"), "SET", _d("8.40"), _d("20")),
    ("PH-505", "Solution hydroalcoolique 500 ml", _d("120"), "H87", _d("3.15"), _d("5.5")),
)
WORKS = (
    ("TR-01", "Reprise des menuiseries du préau", _d("1"), "LS", _d("4800.00"), _d("20")),
    ("TR-02", "Main-d'œuvre — pose", _d("24"), "HUR", _d("52.00"), _d("20")),
)
ELEC = (("EL-07", "Mise aux normes du tableau électrique", _d("1"), "LS", _d("2350.00"), _d("20")),)
BOOKS = (("LIV-12", "Albums jeunesse pour la médiathèque", _d("35"), "H87", _d("14.20"), _d("5.5")),)

EJ_ETAT = "1300045871"
EJ_HOPITAL = "EJ-2026-00917"
_ETAT = {"buyer": "etat", "service": "SG_ACHATS", "engagement": EJ_ETAT, "marche": "2026-FCS-003"}
_HOPITAL = {"buyer": "hopital", "service": "PHARMACIE", "engagement": EJ_HOPITAL, "marche": "2026-HOS-021"}
_COMMUNE = {"buyer": "commune", "service": "SERV_TECHNIQUES", "marche": "2026-TRX-014"}

DEMO_INVOICES: tuple[DemoInvoice, ...] = (
    # Fournitures Marchand → the State (engagement juridique required, or a service).
    DemoInvoice("marchand", number="FM-2026-0101", lines=SUPPLIES, target=S.MISE_EN_PAIEMENT, **_ETAT),
    DemoInvoice("marchand", number="FM-2026-0102", lines=TONER, target=S.MISE_EN_PAIEMENT, **_ETAT),
    DemoInvoice("marchand", number="FM-2026-0103", lines=SUPPLIES, target=S.COMPTABILISEE, **_ETAT),
    DemoInvoice("marchand", number="FM-2026-0104", lines=TONER, target=S.MANDATEE, **_ETAT),
    DemoInvoice("marchand", number="FM-2026-0105", lines=SUPPLIES, target=S.SERVICE_FAIT, **_ETAT),
    DemoInvoice("marchand", number="FM-2026-0106", lines=TONER, **_ETAT),
    DemoInvoice(
        "marchand", number="FM-2026-0107", lines=TONER, target=S.SUSPENDUE, motif="BON_DE_LIVRAISON_MANQUANT",
        comment="Merci de joindre le bon de livraison signé par le service.", **_ETAT,
    ),
    DemoInvoice(
        "marchand", number="FM-2026-0108", lines=SUPPLIES, target=S.REJETEE, motif="DOUBLE_FACTURE",
        comment="Cette livraison a déjà été facturée (FM-2026-0101).", **_ETAT,
    ),
    # Fournitures Marchand → the hospital (does not report « mise en paiement » to suppliers).
    DemoInvoice("marchand", number="FM-2026-0201", lines=PHARMA, target=S.MISE_EN_PAIEMENT, **_HOPITAL),
    DemoInvoice("marchand", number="FM-2026-0202", lines=PHARMA, target=S.MISE_EN_PAIEMENT, **_HOPITAL),
    DemoInvoice("marchand", number="FM-2026-0203", lines=PHARMA, target=S.MISE_A_DISPOSITION_COMPTABLE, **_HOPITAL),
    DemoInvoice(
        "marchand", number="FM-2026-0204", lines=PHARMA, target=S.SUSPENDUE, motif="PIECE_JUSTIFICATIVE_MANQUANTE",
        comment="Joindre le certificat de conformité des lots.", answer="complete", **_HOPITAL,
    ),
    DemoInvoice(
        "marchand", number="FM-2026-0205", lines=PHARMA, target=S.A_RECYCLER, motif="ERREUR_CODE_SERVICE",
        comment="Ces achats relèvent de la direction des achats (SERVICES_ECONOMIQUES).", **_HOPITAL,
    ),
    DemoInvoice(
        "marchand", number="FM-2026-0206", lines=PHARMA, target=S.A_RECYCLER, motif="ERREUR_CODE_SERVICE",
        comment="À adresser à la direction des achats.", answer="recycle", recycle_service="SERVICES_ECONOMIQUES",
        **_HOPITAL,
    ),
    # Constructions Garnier-Lefèvre → the commune (code service required).
    DemoInvoice("garnier", number="CGL-2026-031", lines=WORKS, target=S.MISE_EN_PAIEMENT, **_COMMUNE),
    DemoInvoice("garnier", number="CGL-2026-032", lines=WORKS, target=S.MISE_A_DISPOSITION_COMPTABLE, **_COMMUNE),
    DemoInvoice("garnier", number="CGL-2026-033", lines=WORKS, target=S.SERVICE_FAIT, **_COMMUNE),
    DemoInvoice("garnier", number="CGL-2026-034", lines=WORKS, **_COMMUNE),
    DemoInvoice(
        "garnier", number="CGL-2026-035", lines=WORKS, target=S.REJETEE, motif="ERREUR_TVA",
        comment="Travaux d'amélioration d'un bâtiment scolaire : TVA à 10 %, pas 20 %.", answer="acknowledge",
        **_COMMUNE,
    ),
    DemoInvoice(
        "garnier", number="CGL-2026-036", lines=WORKS, target=S.SUSPENDUE, motif="BON_DE_LIVRAISON_MANQUANT",
        comment="Joindre le procès-verbal de réception des travaux.", **_COMMUNE,
    ),
    # Menuiseries Aubert & Cie and Électricité Picard → the commune.
    DemoInvoice("aubert", "commune", "MA-2026-0007", "AFFAIRES_SCOLAIRES", WORKS, target=S.MISE_EN_PAIEMENT),
    DemoInvoice("aubert", "commune", "MA-2026-0008", "AFFAIRES_SCOLAIRES", WORKS, target=S.MANDATEE),
    DemoInvoice(
        "aubert", "commune", "MA-2026-0009", "MEDIATHEQUE", WORKS, target=S.A_RECYCLER, motif="ERREUR_CODE_SERVICE",
        comment="Le chantier relève des affaires scolaires.",
    ),
    DemoInvoice("picard", "commune", "EP-2026-112", "SERV_TECHNIQUES", ELEC, target=S.MISE_EN_PAIEMENT),
    DemoInvoice("picard", "commune", "EP-2026-113", "SERV_TECHNIQUES", ELEC),
    DemoInvoice("marchand", "commune", "FM-2026-0301", "MEDIATHEQUE", BOOKS, target=S.COMPTABILISEE),
)  # fmt: skip

# The valideurs' circuit (chorus-pro.md §6.3): a sous-traitant's A9 and a cotraitant's A12 for the commune, named
# after the titulaire / mandataire Constructions Garnier-Lefèvre, at each of its steps.
_A9 = {"buyer": "commune", "service": "SERV_TECHNIQUES", "marche": "2026-TRX-014", "valideur": "garnier"}
DEMO_VALIDATIONS: tuple[DemoInvoice, ...] = (
    DemoInvoice("delmas", number="PD-2026-0041", lines=WORKS, cadre=Cadre.A9, target=S.A_VALIDER_1, **_A9),
    DemoInvoice("aubert", number="MA-2026-0011", lines=WORKS, cadre=Cadre.A12, target=S.A_VALIDER_1, **_A9),
    DemoInvoice(
        "delmas", number="PD-2026-0042", lines=WORKS, cadre=Cadre.A9, target=S.REFUSEE_1, decision="REFUS",
        motif="MONTANT_SUPERIEUR_ACTE_SOUS_TRAITANCE", comment="Les quantités dépassent l'acte spécial.", **_A9,
    ),
    DemoInvoice(
        "picard", number="EP-2026-120", lines=ELEC, cadre=Cadre.A12, target=S.ERREUR_FOURNISSEUR_SUR_VALIDEUR,
        decision="ERREUR_VALIDEUR", comment="Nous ne sommes pas le mandataire de ce lot.", **_A9,
    ),
    DemoInvoice(
        "aubert", number="MA-2026-0012", lines=WORKS, cadre=Cadre.A12, target=S.MISE_A_DISPOSITION,
        decision="VALIDATION", comment="Conforme à la répartition du groupement.", **_A9,
    ),
)  # fmt: skip

# Drafts left in « Factures émises » to show the synthèse's « reprendre la saisie ».
DEMO_DRAFTS: tuple[DemoInvoice, ...] = (
    DemoInvoice("marchand", number="FM-2026-0109", lines=TONER, target=S.BROUILLON, **_ETAT),
    DemoInvoice("garnier", number="CGL-2026-037", lines=WORKS, target=S.BROUILLON, **_COMMUNE),
)


def _structure(key: str) -> Structure:
    return Structure.objects.get(identifier_type=IdentifierType.SIRET, identifier=demo_structure(key).siret)


def _person(key: str):
    """The demo structure's gestionnaire principal (first person of its list): allowed everywhere it acts."""
    return get_user_model().objects.get(email=demo_structure(key).people[0].email)


def _lines(spec: DemoInvoice) -> list[dict]:
    return [
        {
            "reference": ref,
            "designation": designation,
            "quantity": quantity,
            "unit": unit,
            "unit_price_ht": price,
            "discount_ht": Decimal("0"),
            "vat_rate": rate,
        }
        for ref, designation, quantity, unit, price, rate in spec.lines
    ]


def _create(spec: DemoInvoice) -> Invoice:
    supplier, buyer = _structure(spec.supplier), _structure(spec.buyer)
    seller, clerk = _person(spec.supplier), _person(spec.buyer)
    invoice = invoice_draft_create(
        supplier=supplier,
        by=seller,
        lines=_lines(spec),
        number=spec.number,
        invoice_date=timezone.localdate(),
        cadre=spec.cadre,
        recipient=buyer,
        recipient_service=buyer.services.get(code=spec.service),
        supplier_bank_account=supplier.bank_accounts.filter(is_active=True).first(),
        payment_mode=PaymentMode.VIREMENT,
        numero_engagement=spec.engagement,
        numero_marche=spec.marche,
        **({"valideur": _structure(spec.valideur)} if spec.valideur else {}),
    )
    if spec.target == S.BROUILLON:
        return invoice
    invoice = invoice_send(invoice=invoice, by=seller, channel=Channel.PORTAIL)
    if spec.decision:
        valideur = _structure(spec.valideur)
        invoice = invoice_validate(
            invoice=invoice, by=_person(spec.valideur), structure=valideur, decision=spec.decision,
            motif=spec.motif, comment=spec.comment, channel=Channel.PORTAIL, certified=True,
        )  # fmt: skip
        return invoice

    def process(transition: str, **kwargs) -> None:
        nonlocal invoice
        invoice = invoice_process(invoice=invoice, by=clerk, structure=buyer, transition=transition, **kwargs)

    for transition in PROCESSING[: PROCESSED_TO.get(spec.target, 0)]:
        extra = {"numero_dp_mandat": f"MDT-{spec.number}"} if transition == "mandater" else {}
        process(transition, **extra)
    returns = {S.SUSPENDUE: "suspendre", S.A_RECYCLER: "a_recycler", S.REJETEE: "rejeter"}
    if spec.target in returns:
        process(returns[spec.target], motif=spec.motif, comment=spec.comment)
    if spec.answer == "complete":
        invoice = invoice_complete(
            invoice=invoice,
            by=seller,
            structure=supplier,
            comment="Certificat de conformité envoyé par courrier électronique au service ; le voici en pièce jointe.",
            attachments=[
                ("certificat-conformite.txt", "Certificat de conformité des lots 2026-14 à 2026-18.".encode())
            ],
            channel=Channel.PORTAIL,
        )
    elif spec.answer == "recycle":
        invoice = invoice_recycle(
            invoice=invoice,
            by=seller,
            structure=supplier,
            recipient=buyer,
            recipient_service=buyer.services.get(code=spec.recycle_service),
            numero_engagement=spec.engagement,
            channel=Channel.PORTAIL,
        )
    elif spec.answer == "acknowledge":
        invoice_rejection_acknowledge(invoices=[invoice], by=seller, structure=supplier, channel=Channel.PORTAIL)
    return invoice


def _french_vat(siret: str) -> str:
    """The intra-community VAT number of a French SIREN (key = (12 + 3 × (SIREN mod 97)) mod 97)."""
    siren = siret[:9]
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def _vat_numbers_ensure() -> None:
    """Invoices subject to VAT need the supplier's VAT number; the demo directory does not set one, so its
    gestionnaire fills it in, as a real one would before a first invoice."""
    for key in {spec.supplier for spec in (*DEMO_INVOICES, *DEMO_VALIDATIONS, *DEMO_DRAFTS)}:
        supplier = _structure(key)
        if not supplier.numero_tva:
            structure_update(by=_person(key), structure=supplier, numero_tva=_french_vat(supplier.identifier))


def demo_invoices_seed() -> DemoInvoicesReport:
    """Create the demo invoices that are missing (the demo structures must exist: `demo_seed` first)."""
    report = DemoInvoicesReport()
    _vat_numbers_ensure()
    for spec in (*DEMO_INVOICES, *DEMO_VALIDATIONS, *DEMO_DRAFTS):
        supplier = _structure(spec.supplier)
        if Invoice.objects.filter(supplier=supplier, number=spec.number).exists():
            report.kept += 1
            continue
        # One transaction per invoice: a failure leaves the ones before it, and a rerun picks up the rest.
        with transaction.atomic():
            _create(spec)
        report.created += 1
        report.numbers.append(spec.number)
    return report
