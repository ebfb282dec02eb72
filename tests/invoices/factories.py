"""Invoices for tests. A draft A1 invoice by default, from a VAT-registered supplier to a public recipient.

Traits: `draft` (the default), `sent` (MISE_A_DISPOSITION, deposited now), `avoir`, `a9` (sous-traitant,
with a valideur), `a12` (cotraitant), `with_lines` (two lines at 20 % and 5.5 %, totals computed),
`exoneration`, `sans_tva`.

Lines, VAT lines and totals are written with bulk_create / update: a `sent` invoice refuses changes through
save(), which is the point of the model, so test data is laid down below it. To exercise the real
sending, build a draft and call `invoice_send`.
"""

from decimal import Decimal

import factory
from django.utils import timezone

from choeur.directory.enums import EspaceCode, Role
from choeur.directory.models import Rattachement, StructureEspace
from choeur.invoices.computations import compute_totals
from choeur.invoices.enums import Cadre, InvoiceStatus, InvoiceType, ModeDepot, PaymentMode, TypeTva
from choeur.invoices.models import Invoice, InvoiceLine, InvoiceVatLine
from tests.directory.factories import BankAccountFactory, RattachementFactory, StructureFactory

DEFAULT_LINES = [
    {
        "reference": "PREST-01",
        "designation": "Maintenance des ascenseurs — mars",
        "quantity": Decimal("3"),
        "unit": "HUR",
        "unit_price_ht": Decimal("85.50"),
        "discount_ht": Decimal("0"),
        "vat_rate": Decimal("20"),
    },
    {
        "reference": "LIV-02",
        "designation": "Ouvrages pour la médiathèque",
        "quantity": Decimal("12"),
        "unit": "H87",
        "unit_price_ht": Decimal("18.90"),
        "discount_ht": Decimal("10.00"),
        "vat_rate": Decimal("5.5"),
    },
]


def fr_vat(siret: str) -> str:
    """The French intra-community VAT number of a SIRET's SIREN (key = (12 + 3 × (SIREN mod 97)) mod 97)."""
    siren = siret[:9]
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def open_espace(structure, code=EspaceCode.FACTURES_EMISES):
    return StructureEspace.objects.get_or_create(structure=structure, code=code, defaults={"is_open": True})[0]


def issuer_for(structure, **kwargs):
    """A person who may issue invoices for `structure`: its gestionnaire principal (the existing one, if
    any), with the espace « Factures émises » opened."""
    open_espace(structure, EspaceCode.FACTURES_EMISES)
    existing = (
        Rattachement.objects.gestionnaires().filter(structure=structure, role=Role.GESTIONNAIRE_PRINCIPAL).first()
    )
    if existing is not None and not kwargs:
        return existing.user
    return RattachementFactory(structure=structure, role=Role.GESTIONNAIRE_PRINCIPAL, **kwargs).user


def member_of(structure, *espaces):
    """A gestionnaire secondaire of `structure` with these espaces opened (all of them by default)."""
    for code in espaces or EspaceCode.values:
        open_espace(structure, code)
    return RattachementFactory(structure=structure, role=Role.GESTIONNAIRE_SECONDAIRE).user


def add_lines(invoice, lines=None, *, update_totals=True):
    """Lay down lines (and, for a sent invoice, its VAT lines) without going through save()."""
    specs = DEFAULT_LINES if lines in (None, True) else lines
    if isinstance(specs, int):
        specs = (DEFAULT_LINES * specs)[:specs]
    totals = compute_totals(specs, type_tva=invoice.type_tva, remise_globale_ttc=invoice.remise_globale_ttc)
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=index + 1,
            line_net_ht=amounts.net_ht,
            line_vat=amounts.vat,
            **{**spec, "vat_rate": amounts.rate},
        )
        for index, (spec, amounts) in enumerate(zip(specs, totals.lines, strict=True))
    )
    if update_totals:
        values = totals.as_dict()
        Invoice.objects.filter(pk=invoice.pk).update(**values)
        for name, value in values.items():
            setattr(invoice, name, value)
    if invoice.status != InvoiceStatus.BROUILLON:
        InvoiceVatLine.objects.bulk_create(
            InvoiceVatLine(
                invoice=invoice, rate=v.rate, category=v.category, base_ht=v.base_ht, vat_amount=v.vat_amount
            )
            for v in totals.vat_breakdown
        )
    return invoice


def _lines_hook(obj, create, extracted, **kwargs):
    if create:
        add_lines(obj, extracted)


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice
        skip_postgeneration_save = True

    supplier = factory.SubFactory(StructureFactory, numero_tva=factory.LazyAttribute(lambda o: fr_vat(o.identifier)))
    recipient = factory.SubFactory(StructureFactory, public=True)
    supplier_bank_account = factory.SubFactory(BankAccountFactory, structure=factory.SelfAttribute("..supplier"))
    number = factory.Sequence(lambda n: f"F2026-{n:05d}")
    invoice_date = factory.LazyFunction(timezone.localdate)
    invoice_type = InvoiceType.FACTURE
    cadre = Cadre.A1
    type_tva = TypeTva.TVA_SUR_DEBIT
    payment_mode = PaymentMode.VIREMENT
    numero_marche = "M-2025-014"
    mode_depot = ModeDepot.SAISIE_WEB
    status = InvoiceStatus.BROUILLON

    @factory.post_generation
    def lines(obj, create, extracted, **kwargs):
        if create and extracted:
            add_lines(obj, extracted)

    class Params:
        draft = factory.Trait(status=InvoiceStatus.BROUILLON)
        sent = factory.Trait(
            status=InvoiceStatus.MISE_A_DISPOSITION,
            status_changed_at=factory.LazyFunction(timezone.now),
            deposited_at=factory.LazyFunction(timezone.now),
            document_sha256=factory.Sequence(lambda n: f"{n:064x}"),
        )
        with_lines = factory.Trait(lines=factory.PostGeneration(_lines_hook))
        avoir = factory.Trait(
            invoice_type=InvoiceType.AVOIR,
            payment_mode="",
            supplier_bank_account=None,
            number=factory.Sequence(lambda n: f"AV2026-{n:05d}"),
            origin_number="F2025-00001",
        )
        a9 = factory.Trait(cadre=Cadre.A9, valideur=factory.SubFactory(StructureFactory))
        a12 = factory.Trait(cadre=Cadre.A12, valideur=factory.SubFactory(StructureFactory))
        exoneration = factory.Trait(
            type_tva=TypeTva.EXONERATION, motif_exoneration="TVA non applicable, art. 293 B du CGI"
        )
        sans_tva = factory.Trait(type_tva=TypeTva.SANS_TVA)
