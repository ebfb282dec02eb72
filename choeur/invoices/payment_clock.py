"""The legal payment clock of a public contract (délai global de paiement).

Code de la commande publique, art. R. 2192-10 et seq. (as summarised for users in the help page):
- the clock starts at the reception of the payment request — on the platform, the deposit timestamp, or
  the MOE's reception for works payment requests;
- the délai is 30 days for the State and local authorities, 50 days for public health establishments
  (a structure may configure another value, e.g. a contract that sets a shorter one);
- it may be suspended once, while the invoice is SUSPENDUE (missing documents); it resumes when the
  supplier completes it, and the supplier then has at least 15 days left (R. 2192-29);
- once late, interest accrues at the ECB main refinancing rate in force on the first day of the
  half-year in which interest starts to run, plus 8 points (R. 2192-31), and a fixed €40 indemnity for
  recovery costs is due (R. 2192-35).

Pure functions: no database access, so the portal, the API and the dashboards share the same arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

FIXED_INDEMNITY = Decimal("40.00")
PENALTY_POINTS = Decimal("8")
MINIMUM_DAYS_AFTER_SUSPENSION = 15

# ECB main refinancing operations rate in force on the first day of each half-year (percent).
# Operators update this table (or CHOEUR_ECB_RATES) when the ECB changes its rate; the rate used is
# always shown next to the interest, so anyone can check it.
ECB_RATES: dict[date, Decimal] = {
    date(2022, 1, 1): Decimal("0.00"),
    date(2022, 7, 1): Decimal("0.00"),
    date(2023, 1, 1): Decimal("2.50"),
    date(2023, 7, 1): Decimal("4.00"),
    date(2024, 1, 1): Decimal("4.50"),
    date(2024, 7, 1): Decimal("4.25"),
    date(2025, 1, 1): Decimal("3.15"),
    date(2025, 7, 1): Decimal("2.15"),
    date(2026, 1, 1): Decimal("2.15"),
    date(2026, 7, 1): Decimal("2.15"),
}


@dataclass(frozen=True)
class Suspension:
    start: datetime
    end: datetime | None = None  # None: still suspended


@dataclass
class PaymentClock:
    started_at: datetime
    delay_days: int
    deadline: date | None  # None while suspended (the deadline is not known yet)
    suspended: bool
    paid_on: date | None
    days_left: int | None  # negative when late
    days_late: int
    interest_rate: Decimal | None  # percent per year
    interest: Decimal
    indemnity: Decimal
    suspensions: list[Suspension] = field(default_factory=list)

    @property
    def is_late(self) -> bool:
        return self.days_late > 0

    @property
    def total_due_for_lateness(self) -> Decimal:
        return self.interest + self.indemnity


def half_year_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def ecb_rate_for(day: date, rates: dict[date, Decimal] | None = None) -> Decimal:
    rates = rates or ECB_RATES
    start = half_year_start(day)
    known = [d for d in rates if d <= start]
    if not known:
        return Decimal("0")
    return rates[max(known)]


def compute_payment_clock(
    *,
    started_at: datetime,
    delay_days: int,
    amount: Decimal,
    today: date,
    suspensions: list[Suspension] | None = None,
    paid_on: date | None = None,
    rates: dict[date, Decimal] | None = None,
) -> PaymentClock:
    """Deadline, days left or late, and late-payment interest and indemnity on `today` (or at payment)."""
    suspensions = sorted(suspensions or [], key=lambda s: s.start)
    start_day = started_at.date()
    deadline = start_day + timedelta(days=delay_days)
    suspended = False
    for suspension in suspensions:
        if suspension.start.date() >= deadline:
            continue  # A suspension after the deadline does not stop a clock that already ran out.
        remaining = (deadline - suspension.start.date()).days
        if suspension.end is None:
            suspended = True
            break
        remaining = max(remaining, MINIMUM_DAYS_AFTER_SUSPENSION)
        deadline = suspension.end.date() + timedelta(days=remaining)

    reference_day = paid_on or today
    if suspended:
        return PaymentClock(
            started_at=started_at,
            delay_days=delay_days,
            deadline=None,
            suspended=True,
            paid_on=paid_on,
            days_left=None,
            days_late=0,
            interest_rate=None,
            interest=Decimal("0.00"),
            indemnity=Decimal("0.00"),
            suspensions=suspensions,
        )
    days_left = (deadline - reference_day).days
    days_late = max(0, -days_left)
    interest = Decimal("0.00")
    rate = None
    indemnity = Decimal("0.00")
    if days_late:
        first_late_day = deadline + timedelta(days=1)
        rate = ecb_rate_for(first_late_day, rates) + PENALTY_POINTS
        interest = (amount * rate / Decimal(100) * days_late / Decimal(365)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        indemnity = FIXED_INDEMNITY
    return PaymentClock(
        started_at=started_at,
        delay_days=delay_days,
        deadline=deadline,
        suspended=False,
        paid_on=paid_on,
        days_left=days_left,
        days_late=days_late,
        interest_rate=rate,
        interest=interest,
        indemnity=indemnity,
        suspensions=suspensions,
    )
