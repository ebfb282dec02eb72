"""Figures for the « Statistiques » page: volume per month, time from deposit to payment, rejection rates by
reason — for a supplier (its issued invoices, broken down by buyer) and for a buyer (its received invoices,
broken down by supplier).

Court experts and suppliers asked for exactly these (platform-notes.md §6, pain point 3: « published rates of
rejection by reason and of time from deposit to payment »). Inputs are dashboard querysets (search.py), so
the figures are bounded to the user's structures like the lists, and a supplier never learns a payment date
its buyer does not report (search.mep_hidden_q).
"""

from __future__ import annotations

import datetime
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from choeur.directory.enums import PublicCategory
from choeur.directory.models import Structure
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.search import ISSUED, mep_hidden_q

S = InvoiceStatus
MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
# Upper bounds (days, inclusive) of the payment-time buckets; the last bucket is open.
DELAY_BUCKETS = (10, 20, 30, 50, 60)
RETURN_TRANSITIONS = {"rejeter": "Rejet", "suspendre": "Suspension", "a_recycler": "Mise à recycler"}
TOP_COUNTERPARTS = 10


@dataclass(frozen=True)
class MonthVolume:
    month: datetime.date
    label: str
    count: int
    total_ttc: Decimal
    percent: float = 0.0  # of the busiest month, for drawing (0–100)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    display: str
    percent: float  # of the largest bar, for drawing (0–100)


@dataclass
class PaymentTimes:
    count: int
    median_days: float | None
    mean_days: float | None
    within_delay: int  # paid within the recipient's délai global de paiement
    buckets: list[Bar] = field(default_factory=list)
    by_counterpart: list[dict] = field(default_factory=list)

    @property
    def within_delay_percent(self) -> float | None:
        return round(100 * self.within_delay / self.count, 1) if self.count else None


@dataclass
class ReturnReasons:
    deposited: int
    rows: list[dict] = field(default_factory=list)  # transition, label, motif, motif_label, count, rate
    by_counterpart: list[dict] = field(default_factory=list)


def _scale(values: list[tuple[str, float, str]]) -> list[Bar]:
    top = max((v for _, v, _ in values), default=0) or 1
    return [Bar(label, value, display, round(100 * value / top, 1)) for label, value, display in values]


def _months_back(today: datetime.date, months: int) -> list[datetime.date]:
    first = today.replace(day=1)
    result = []
    for _ in range(months):
        result.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return list(reversed(result))


def volume_per_month(
    queryset: QuerySet[Invoice], *, months: int = 12, today: datetime.date | None = None
) -> list[MonthVolume]:
    """Invoices deposited per month (Paris time) over the last `months` months, empty months included."""
    today = today or timezone.localdate()
    wanted = _months_back(today, months)
    start = timezone.make_aware(datetime.datetime.combine(wanted[0], datetime.time.min))
    rows = (
        queryset.order_by()
        .filter(deposited_at__gte=start)
        .annotate(month=TruncMonth("deposited_at", tzinfo=timezone.get_current_timezone()))
        .values("month")
        .annotate(n=Count("id"), total=Sum("total_ttc"))
    )
    found = {}
    for row in rows:
        month = row["month"]
        month = month.date() if isinstance(month, datetime.datetime) else month
        found[month] = (row["n"], row["total"] or Decimal("0"))
    top = max((n for n, _ in found.values()), default=0) or 1
    result = []
    for month in wanted:
        count, total = found.get(month, (0, Decimal("0.00")))
        result.append(
            MonthVolume(month, f"{MONTHS_FR[month.month - 1]} {month.year}", count, total, round(100 * count / top, 1))
        )
    return result


def _delay_days(category: str, configured: int | None) -> int:
    if configured:
        return configured
    return 50 if category == PublicCategory.ETABLISSEMENT_SANTE else 30


def _bucket_label(index: int) -> str:
    if index == 0:
        return f"≤ {DELAY_BUCKETS[0]} j"
    if index == len(DELAY_BUCKETS):
        return f"> {DELAY_BUCKETS[-1]} j"
    return f"{DELAY_BUCKETS[index - 1] + 1}–{DELAY_BUCKETS[index]} j"


def payment_times(queryset: QuerySet[Invoice], *, side: str) -> PaymentTimes:
    """Days from deposit to the first MISE_EN_PAIEMENT, for the invoices of `queryset` that reached it."""
    counterpart = "invoice__recipient__raison_sociale" if side == ISSUED else "invoice__supplier__raison_sociale"
    changes = InvoiceStatusChange.objects.filter(
        invoice__in=queryset.order_by().values("pk"), to_status=S.MISE_EN_PAIEMENT
    )
    if side == ISSUED:
        changes = changes.exclude(mep_hidden_q("invoice__"))
    rows = changes.order_by("invoice_id", "created_at").values_list(
        "invoice_id",
        "created_at",
        "invoice__deposited_at",
        counterpart,
        "invoice__recipient__public_category",
        "invoice__recipient__payment_delay_days",
    )
    days_by_invoice: dict[int, tuple[float, str, bool]] = {}
    for invoice_id, paid_at, deposited_at, name, category, configured in rows:
        if invoice_id in days_by_invoice or deposited_at is None:
            continue  # the first payment counts
        days = (timezone.localdate(paid_at) - timezone.localdate(deposited_at)).days
        days_by_invoice[invoice_id] = (days, name or "", days <= _delay_days(category, configured))
    values = [d for d, _, _ in days_by_invoice.values()]
    if not values:
        return PaymentTimes(0, None, None, 0)
    counts = Counter()
    for days in values:
        index = next((i for i, bound in enumerate(DELAY_BUCKETS) if days <= bound), len(DELAY_BUCKETS))
        counts[index] += 1
    buckets = _scale([(_bucket_label(i), float(counts[i]), str(counts[i])) for i in range(len(DELAY_BUCKETS) + 1)])
    per_name: dict[str, list[float]] = defaultdict(list)
    for days, name, _ in days_by_invoice.values():
        per_name[name].append(days)
    ranked = sorted(per_name.items(), key=lambda item: (-len(item[1]), item[0]))[:TOP_COUNTERPARTS]
    top = max((statistics.median(v) for _, v in ranked), default=0) or 1
    by_counterpart = [
        {
            "name": name,
            "count": len(days),
            "median_days": statistics.median(days),
            "percent": round(100 * statistics.median(days) / top, 1),
        }
        for name, days in ranked
    ]
    return PaymentTimes(
        count=len(values),
        median_days=statistics.median(values),
        mean_days=round(statistics.fmean(values), 1),
        within_delay=sum(1 for _, _, ok in days_by_invoice.values() if ok),
        buckets=buckets,
        by_counterpart=by_counterpart,
    )


def _motif_labels() -> dict[tuple[str, str], str]:
    """Coded reasons' labels, from the lifecycle module when it is there (the codes are shown otherwise)."""
    try:
        from choeur.invoices.lifecycle import MOTIFS
    except ImportError:
        return {}
    return {(transition, code): label for transition, motifs in MOTIFS.items() for code, label in motifs}


def return_reasons(queryset: QuerySet[Invoice], *, side: str) -> ReturnReasons:
    """Rejections, suspensions and recyclings by coded reason, as a share of the invoices deposited."""
    scope = queryset.order_by().filter(deposited_at__isnull=False)
    deposited = scope.count()
    changes = (
        InvoiceStatusChange.objects.filter(invoice__in=scope.values("pk"), transition__in=list(RETURN_TRANSITIONS))
        .order_by()
        .values("transition", "motif")
        .annotate(n=Count("id"))
    )
    labels = _motif_labels()
    rows = []
    for row in sorted(changes, key=lambda r: (-r["n"], r["transition"], r["motif"])):
        rows.append(
            {
                "transition": row["transition"],
                "label": RETURN_TRANSITIONS[row["transition"]],
                "motif": row["motif"],
                "motif_label": labels.get((row["transition"], row["motif"]), row["motif"] or "Sans motif codé"),
                "count": row["n"],
                "rate": round(100 * row["n"] / deposited, 1) if deposited else 0.0,
            }
        )
    top = max((r["count"] for r in rows), default=0) or 1
    for r in rows:
        r["percent"] = round(100 * r["count"] / top, 1)
    # Per counterpart, as three GROUP BYs (invoices; returns; names) rather than one over the invoices joined
    # to their status changes with DISTINCT counts, which cost ~0.2–0.9 s at 40,000 invoices.
    counterpart = "recipient_id" if side == ISSUED else "supplier_id"
    per = {
        row[counterpart]: row
        for row in scope.values(counterpart).annotate(
            deposited=Count("id"), rejected=Count("id", filter=Q(status=S.REJETEE))
        )
    }
    names = dict(
        Structure.objects.filter(pk__in=[pk for pk in per if pk is not None]).values_list("pk", "raison_sociale")
    )
    ranked = sorted(per, key=lambda pk: (-per[pk]["deposited"], names.get(pk, "")))[:TOP_COUNTERPARTS]
    returned = dict(
        InvoiceStatusChange.objects.filter(
            invoice__in=scope.filter(**{f"{counterpart}__in": ranked}).values("pk"),
            transition__in=list(RETURN_TRANSITIONS),
        )
        .order_by()
        .values_list(f"invoice__{counterpart}")
        .annotate(n=Count("invoice_id", distinct=True))
    )
    by_counterpart = [
        {
            "name": names.get(pk, ""),
            "deposited": per[pk]["deposited"],
            "rejected": per[pk]["rejected"],
            "returned": returned.get(pk, 0),
            "rejection_rate": round(100 * per[pk]["rejected"] / per[pk]["deposited"], 1)
            if per[pk]["deposited"]
            else 0.0,
        }
        for pk in ranked
    ]
    return ReturnReasons(deposited=deposited, rows=rows, by_counterpart=by_counterpart)


@dataclass
class SideStats:
    side: str
    volumes: list[MonthVolume]
    payment: PaymentTimes
    returns: ReturnReasons

    @property
    def total_deposited(self) -> int:
        return self.returns.deposited


def side_stats(queryset: QuerySet[Invoice], *, side: str, months: int = 12) -> SideStats:
    return SideStats(
        side=side,
        volumes=volume_per_month(queryset, months=months),
        payment=payment_times(queryset, side=side),
        returns=return_reasons(queryset, side=side),
    )
