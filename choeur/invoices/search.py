"""Searching the « Factures émises » and « Factures reçues » dashboards: filters, sort, counts by status,
the synthèse block, and CSV / XLSX exports of a filtered list.

Every function takes a queryset the caller already bounded to the user's structures (see `dashboard_queryset`,
built on selectors.py); nothing here widens it. Two sides, because the same invoice reads differently to
its supplier and to its recipient:

- the supplier's side (ISSUED) searches by recipient, and does not see MISE_EN_PAIEMENT when the recipient
  (structure setting `mise_en_paiement_non_remontee`, Chorus Pro's `statutMiseEnPaiementNestPasRemonte`) or
  its service (`Service.mise_en_paiement` off) does not report it: the supplier keeps seeing the status the
  invoice had before (`shown_status`);
- the recipient's side (RECEIVED) searches by supplier and may filter on « téléchargée / non téléchargée ».
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone

from choeur.core.errors import ApplicationError
from choeur.core.spreadsheets import csv_text, xlsx_cell
from choeur.directory.enums import EspaceCode
from choeur.directory.models import Service, Structure
from choeur.invoices.enums import Cadre, InvoiceStatus, InvoiceType
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.search_keys import SearchKey, prefix_bounds, upper_like_database
from choeur.invoices.selectors import structures_of, user_can

ISSUED = "emises"
RECEIVED = "recues"
SIDES = (ISSUED, RECEIVED)
SIDE_ESPACES = {ISSUED: EspaceCode.FACTURES_EMISES, RECEIVED: EspaceCode.FACTURES_RECUES}

S = InvoiceStatus
# The recipient still has to act on these (« à traiter »).
TO_PROCESS_STATUSES = (S.MISE_A_DISPOSITION, S.COMPLETEE)

_RELATED = ("supplier", "recipient", "recipient_service", "valideur")
# What « Recherche » finds by prefix (each has an expression index, Invoice.Meta.indexes).
IDENTIFIER_FIELDS = ("number", "numero_engagement", "numero_marche", "numero_flux_depot")
# Counterparts whose ids are passed as a list; more matches (a very common word) are joined instead.
COUNTERPART_IDS_MAX = 500

# Public sort keys (in the URL) → model fields. The counterpart depends on the side.
SORT_FIELDS = {
    "numero": "number",
    "date_facture": "invoice_date",
    "date_depot": "deposited_at",
    "montant": "total_ttc",
    "statut": "status",
    "date_statut": "status_changed_at",
    "contrepartie": None,
}
SORT_LABELS = {
    "numero": "Numéro",
    "date_facture": "Date de facture",
    "date_depot": "Date de dépôt",
    "montant": "Montant TTC",
    "statut": "Statut",
    "date_statut": "Date du statut",
    "contrepartie": "Contrepartie",
}
DEFAULT_SORT = {ISSUED: "-date_creation", RECEIVED: "-date_depot"}


@dataclass(frozen=True)
class InvoiceFilters:
    """What a person can filter a dashboard on. Empty values filter nothing."""

    statuses: tuple[str, ...] = ()
    date_field: str = "depot"  # "depot" (deposit timestamp, Paris days) or "facture" (invoice date)
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    counterpart: str = ""
    service: str = ""
    cadre: str = ""
    number: str = ""
    flow_number: str = ""
    q: str = ""
    downloaded: bool | None = None
    structure_id: int | None = None
    sort: str = ""
    extra: dict = field(default_factory=dict)


# --- Scope ----------------------------------------------------------------------------------------------


def dashboard_structures(*, user, side: str) -> list[Structure]:
    """The user's structures whose espace « Factures émises » (or « reçues ») the user may read."""
    espace = SIDE_ESPACES[side]
    return [s for s in structures_of(user).order_by("raison_sociale", "pk") if user_can(user, s, espace)]


def dashboard_queryset(*, user, side: str, structures: Iterable[Structure] | None = None) -> QuerySet[Invoice]:
    """Every invoice of the dashboard before filtering: issued by (or received by) the user's structures
    that have the espace open to the user. Received lists leave out what has not reached the recipient.

    Plain rows, on purpose: joins and the `shown_status` annotation cost on every row of a 40,000-invoice
    list; `InvoicePage` adds them to the 20 rows shown (`with_shown_status`, `select_related`)."""
    if side not in SIDES:
        raise ValueError(side)
    allowed = dashboard_structures(user=user, side=side)
    if structures is not None:
        wanted = {s.pk for s in structures}
        allowed = [s for s in allowed if s.pk in wanted]
    ids = [s.pk for s in allowed]
    if side == ISSUED:
        queryset = Invoice.objects.issued_by(ids)
    else:
        queryset = Invoice.objects.received_by(ids)
    return queryset


def mep_hidden_q(prefix: str = "") -> Q:
    """Invoices whose recipient does not report MISE_EN_PAIEMENT to suppliers (structure or service setting)."""
    return Q(**{f"{prefix}recipient__mise_en_paiement_non_remontee": True}) | Q(
        **{f"{prefix}recipient_service__mise_en_paiement": False}
    )


def _status_before_payment() -> Subquery:
    return Subquery(
        InvoiceStatusChange.objects.filter(invoice=OuterRef("pk"), to_status=S.MISE_EN_PAIEMENT)
        .order_by("-created_at", "-id")
        .values("from_status")[:1]
    )


def with_shown_status(queryset: QuerySet[Invoice], *, side: str) -> QuerySet[Invoice]:
    """Annotate `shown_status`: the status as this side sees it (see the module docstring)."""
    if side == RECEIVED:
        return queryset.annotate(shown_status=F("status"))
    previous = _status_before_payment()
    return queryset.annotate(
        shown_status=Case(
            When(Q(status=S.MISE_EN_PAIEMENT) & mep_hidden_q(), then=previous),
            default=F("status"),
            output_field=CharField(),
        )
    )


# --- Filters --------------------------------------------------------------------------------------------


def _paris_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _matching_structures(text: str) -> QuerySet[Structure]:
    """Structures whose name contains `text`, or whose identifier starts with it (spaces ignored)."""
    compact = "".join(text.split())
    query = Q(raison_sociale__icontains=text) | Q(libelle__icontains=text)
    if compact:
        query |= Q(identifier__startswith=compact.upper())
    return Structure.objects.filter(query).values("pk")


def _free_text_filter(queryset: QuerySet[Invoice], text: str, *, counterpart: str) -> QuerySet[Invoice]:
    """« Recherche »: an identifier (invoice, engagement, marché or flow number) that STARTS WITH `text`,
    case ignored, or a counterpart whose name contains it (or whose SIRET starts with it).

    Prefixes, not substrings: each identifier term is a range on an expression index (search_keys.py), so
    the database reads the few matching rows instead of testing four LIKE '%…%' on every invoice of the
    list (367 ms at 100,000 invoices on PostgreSQL). The matching counterparts are looked up first, in the
    directory, and their ids passed to the invoice query. A substring of a number is still found with the
    « Numéro de facture » filter."""
    key = upper_like_database(text, connection.vendor)
    low, high = prefix_bounds(key)
    terms = []
    for name in IDENTIFIER_FIELDS:
        if high is None:
            terms.append(Q(**{f"{name}_key__startswith": low}))
        else:
            terms.append(Q(**{f"{name}_key__gte": low, f"{name}_key__lt": high}))
    # The identifier matches are found on their own (an index range per term), then the list is narrowed to
    # them: left inline, the planner may read the whole list by its (structure, status) index and test
    # every row.
    matches = (
        Invoice.objects.alias(**{f"{name}_key": SearchKey(name) for name in IDENTIFIER_FIELDS})
        .filter(functools.reduce(operator.or_, terms))
        .values("pk")
    )
    found = Q(pk__in=matches)
    structures = _matching_structures(text)
    ids = list(structures.values_list("pk", flat=True)[: COUNTERPART_IDS_MAX + 1])
    if len(ids) > COUNTERPART_IDS_MAX:
        found |= Q(**{f"{counterpart}_id__in": structures})  # too many to list: let the database join
    elif ids:
        found |= Q(**{f"{counterpart}_id__in": ids})  # read from the (recipient, supplier) index
    return queryset.filter(found)


def _cadre_value(code: str) -> str:
    try:
        return Cadre.from_code(code).value
    except ValueError as exc:
        raise ApplicationError(str(exc), field="cadre", code="filtre_invalide") from None


def _statuses_q(statuses: list[str], *, side: str) -> Q:
    """Invoices this side sees in one of `statuses`. On the supplier's side a hidden payment counts as the
    status before it. Written so that the database tests the plain status first, and looks up the status
    before payment only for hidden payments (a CASE in the WHERE clause would run on every row)."""
    if side == RECEIVED:
        return Q(status__in=statuses)
    hidden = Q(status=S.MISE_EN_PAIEMENT) & mep_hidden_q()
    others = [s for s in statuses if s != S.MISE_EN_PAIEMENT]
    parts = []
    if others:
        before = InvoiceStatusChange.objects.filter(
            to_status=S.MISE_EN_PAIEMENT, from_status__in=others, invoice=OuterRef("pk")
        )
        parts += [Q(status__in=others), hidden & Exists(before)]
    if S.MISE_EN_PAIEMENT in statuses:
        parts.append(Q(status=S.MISE_EN_PAIEMENT) & ~mep_hidden_q())
    return functools.reduce(operator.or_, parts)


def invoices_filter(queryset: QuerySet[Invoice], *, side: str, filters: InvoiceFilters) -> QuerySet[Invoice]:
    """Apply `filters` to a dashboard queryset (from `dashboard_queryset`)."""
    counterpart = "recipient" if side == ISSUED else "supplier"
    if filters.structure_id:
        own = "supplier_id" if side == ISSUED else "recipient_id"
        queryset = queryset.filter(**{own: filters.structure_id})
    if filters.statuses:
        queryset = queryset.filter(_statuses_q(list(filters.statuses), side=side))
    if filters.date_from or filters.date_to:
        if filters.date_field == "facture":
            if filters.date_from:
                queryset = queryset.filter(invoice_date__gte=filters.date_from)
            if filters.date_to:
                queryset = queryset.filter(invoice_date__lte=filters.date_to)
        else:
            if filters.date_from:
                queryset = queryset.filter(deposited_at__gte=_paris_start(filters.date_from))
            if filters.date_to:
                queryset = queryset.filter(deposited_at__lt=_paris_start(filters.date_to + datetime.timedelta(days=1)))
    if filters.amount_min is not None:
        queryset = queryset.filter(total_ttc__gte=filters.amount_min)
    if filters.amount_max is not None:
        queryset = queryset.filter(total_ttc__lte=filters.amount_max)
    if filters.counterpart.strip():
        queryset = queryset.filter(**{f"{counterpart}_id__in": _matching_structures(filters.counterpart.strip())})
    if filters.service.strip():
        text = filters.service.strip()
        services = Service.objects.filter(Q(code__iexact=text) | Q(libelle__icontains=text)).values("pk")
        queryset = queryset.filter(recipient_service_id__in=services)
    if filters.cadre:
        queryset = queryset.filter(cadre=_cadre_value(filters.cadre))
    if filters.number.strip():
        queryset = queryset.filter(number__icontains=filters.number.strip())
    if filters.flow_number.strip():
        queryset = queryset.filter(numero_flux_depot__icontains=filters.flow_number.strip())
    if filters.q.strip():
        queryset = _free_text_filter(queryset, filters.q.strip(), counterpart=counterpart)
    if filters.downloaded is not None and side == RECEIVED:
        queryset = queryset.filter(downloaded_by_recipient=filters.downloaded)
    return queryset


def invoices_sort(queryset: QuerySet[Invoice], *, side: str, sort: str = "") -> QuerySet[Invoice]:
    """Order by a public sort key (`montant`, `-date_depot`…); unknown keys fall back to the default."""
    key = sort or DEFAULT_SORT[side]
    descending = key.startswith("-")
    name = key.lstrip("-")
    if name == "date_creation":
        column = "created_at"
    elif name == "contrepartie":
        column = "recipient__raison_sociale" if side == ISSUED else "supplier__raison_sociale"
    elif name == "statut":
        queryset, column = with_shown_status(queryset, side=side), "shown_status"
    elif name in SORT_FIELDS:
        column = SORT_FIELDS[name]
    else:
        return invoices_sort(queryset, side=side)
    expression = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    return queryset.order_by(expression, "-id" if descending else "id")


def invoices_search(*, user, side: str, filters: InvoiceFilters) -> QuerySet[Invoice]:
    """The dashboard's list: scope, filters and sort, rows ready to show (`shown_status`, parties)."""
    queryset = dashboard_queryset(user=user, side=side)
    queryset = invoices_sort(invoices_filter(queryset, side=side, filters=filters), side=side, sort=filters.sort)
    return for_display(queryset, side=side)


def for_display(queryset: QuerySet[Invoice], *, side: str) -> QuerySet[Invoice]:
    queryset = queryset.select_related(*_RELATED)
    if "shown_status" in queryset.query.annotations:
        return queryset
    return with_shown_status(queryset, side=side)


class InvoicePage:
    """A filtered, sorted list for Django's Paginator that fetches a page in two steps: the ids of the page
    (a narrow query the database sorts cheaply, from an index for the default orders), then those rows with
    their parties and `shown_status`. Sorting 40,000 full rows with their joins is what this avoids."""

    def __init__(self, queryset: QuerySet[Invoice], *, side: str, total: int | None = None):
        self.queryset = queryset
        self.side = side
        # The caller may already know the total (the sum of the counts by status of the same set): one scan
        # of the filtered rows saved on every page.
        self.total = total

    def count(self) -> int:
        return self.queryset.count() if self.total is None else self.total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        ids = list(self.queryset.values_list("pk", flat=True)[key])
        rows = {invoice.pk: invoice for invoice in for_display(Invoice.objects.filter(pk__in=ids), side=self.side)}
        return [rows[pk] for pk in ids if pk in rows]


# --- Counts and synthèse --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def status_counts(queryset: QuerySet[Invoice], *, side: str) -> list[StatusCount]:
    """Invoices per status (the status the side sees), in the order of Chorus Pro's status list.

    One GROUP BY on the plain status (read from the (structure, status) indexes); on the supplier's side, the
    few hidden payments are then moved to the status they had before."""
    base = queryset.order_by()
    found = {row["status"]: row["n"] for row in base.values("status").annotate(n=Count("id"))}
    if side == ISSUED and found.get(S.MISE_EN_PAIEMENT):
        hidden = (
            base.filter(Q(status=S.MISE_EN_PAIEMENT) & mep_hidden_q())
            .annotate(before=_status_before_payment())
            .values("before")
            .annotate(n=Count("id"))
        )
        for row in hidden:
            found[S.MISE_EN_PAIEMENT] -= row["n"]
            before = row["before"] or S.MISE_EN_PAIEMENT
            found[before] = found.get(before, 0) + row["n"]
    return [StatusCount(s.value, s.label, found[s.value]) for s in InvoiceStatus if found.get(s.value)]


@dataclass
class Synthesis:
    drafts: list[Invoice]
    drafts_count: int
    to_recycle: int
    suspended: int
    rejected_unacknowledged: int
    to_process: int = 0
    not_downloaded: int = 0


def issued_synthesis(queryset: QuerySet[Invoice], *, drafts_shown: int = 5) -> Synthesis:
    """« Factures émises » synthèse: drafts to resume, and what waits for the supplier."""
    base = queryset.order_by()
    counts = base.aggregate(
        drafts=Count("id", filter=Q(status=S.BROUILLON)),
        to_recycle=Count("id", filter=Q(status=S.A_RECYCLER)),
        suspended=Count("id", filter=Q(status=S.SUSPENDUE)),
        rejected=Count("id", filter=Q(status=S.REJETEE, rejet_traite=False)),
    )
    return Synthesis(
        drafts=list(base.filter(status=S.BROUILLON).order_by("-updated_at", "-id")[:drafts_shown]),
        drafts_count=counts["drafts"],
        to_recycle=counts["to_recycle"],
        suspended=counts["suspended"],
        rejected_unacknowledged=counts["rejected"],
    )


def received_synthesis(queryset: QuerySet[Invoice]) -> Synthesis:
    """« Factures reçues » synthèse: what the recipient has to process or has not opened yet."""
    counts = queryset.order_by().aggregate(
        to_process=Count("id", filter=Q(status__in=TO_PROCESS_STATUSES)),
        not_downloaded=Count("id", filter=Q(downloaded_by_recipient=False)),
        suspended=Count("id", filter=Q(status=S.SUSPENDUE)),
    )
    return Synthesis(
        drafts=[],
        drafts_count=0,
        to_recycle=0,
        suspended=counts["suspended"],
        rejected_unacknowledged=0,
        to_process=counts["to_process"],
        not_downloaded=counts["not_downloaded"],
    )


# --- Exports --------------------------------------------------------------------------------------------

EXPORT_HEADERS = (
    "Numéro",
    "Type",
    "Cadre",
    "Date de facture",
    "Date de dépôt",
    "Fournisseur",
    "SIRET fournisseur",
    "Destinataire",
    "SIRET destinataire",
    "Service exécutant",
    "Numéro d'engagement",
    "Numéro de marché",
    "Montant HT",
    "Montant TVA",
    "Montant TTC",
    "Net à payer",
    "Remises sur la facture HT",
    "Charges sur la facture HT",
    "Montant déjà payé",
    "Remise globale TTC",
    "Statut",
    "Code statut",
    "Date du statut",
    "Numéro de flux",
    "Téléchargée par le destinataire",
)


def _local_date(value: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(value).date() if value else None


def export_rows(queryset: QuerySet[Invoice], *, side: str) -> Iterator[list]:
    """One row per invoice, typed (dates, Decimals), in EXPORT_HEADERS order."""
    for invoice in for_display(queryset, side=side).iterator(chunk_size=2000):
        status = getattr(invoice, "shown_status", None) or invoice.status
        hidden = status != invoice.status
        yield [
            invoice.number,
            InvoiceType(invoice.invoice_type).label if invoice.invoice_type in InvoiceType.values else "",
            Cadre(invoice.cadre).code if invoice.cadre in Cadre.values else invoice.cadre,
            invoice.invoice_date,
            _local_date(invoice.deposited_at),
            invoice.supplier.designation,
            invoice.supplier.identifier,
            invoice.recipient.designation if invoice.recipient_id else "",
            invoice.recipient.identifier if invoice.recipient_id else "",
            invoice.recipient_service.code if invoice.recipient_service_id else "",
            invoice.numero_engagement,
            invoice.numero_marche,
            invoice.total_ht,
            invoice.total_tva,
            invoice.total_ttc,
            invoice.montant_a_payer,
            invoice.allowance_total_ht,
            invoice.charge_total_ht,
            invoice.prepaid_amount,
            invoice.remise_globale_ttc,
            S(status).label if status in S.values else status,
            status,
            # The date of a hidden MISE_EN_PAIEMENT would reveal it: the supplier gets no date then.
            None if hidden else _local_date(invoice.status_changed_at),
            invoice.numero_flux_depot,
            ("oui" if invoice.downloaded_by_recipient else "non") if side == RECEIVED else "",
        ]


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return csv_text(str(value))


def export_csv(queryset: QuerySet[Invoice], *, side: str) -> Iterator[str]:
    """CSV as French spreadsheets read it: UTF-8 with BOM, `;` separator, decimal comma, dd/mm/yyyy."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_HEADERS)
    yield "\ufeff" + flush()
    for row in export_rows(queryset, side=side):
        writer.writerow([_csv_cell(v) for v in row])
        yield flush()


def export_xlsx(queryset: QuerySet[Invoice], *, side: str) -> bytes:
    """An XLSX workbook (openpyxl write-only mode, so memory stays flat on long lists)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Factures émises" if side == ISSUED else "Factures reçues")
    bold = Font(bold=True)
    header = []
    for title in EXPORT_HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in export_rows(queryset, side=side):
        cells = []
        for value in row:
            cell = xlsx_cell(WriteOnlyCell(sheet), value)
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
            cells.append(cell)
        sheet.append(cells)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def filters_from_params(params: Mapping) -> InvoiceFilters:
    """Filters from already-cleaned values (a form's cleaned_data, or a bench's dict)."""
    known = {f for f in InvoiceFilters.__dataclass_fields__ if f != "extra"}
    values = {k: v for k, v in params.items() if k in known and v not in (None, "", [], ())}
    if "statuses" in values:
        values["statuses"] = tuple(values["statuses"])
    return InvoiceFilters(**values)
