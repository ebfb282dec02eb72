from datetime import UTC, date, datetime
from decimal import Decimal

from choeur.invoices.payment_clock import Suspension, compute_payment_clock, ecb_rate_for

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def clock(**kwargs):
    params = {"started_at": START, "delay_days": 30, "amount": Decimal("12000.00"), "today": date(2026, 3, 10)}
    params.update(kwargs)
    return compute_payment_clock(**params)


def test_deadline_and_days_left():
    c = clock()
    assert c.deadline == date(2026, 4, 1)
    assert c.days_left == 22
    assert not c.is_late
    assert c.interest == Decimal("0.00") and c.indemnity == Decimal("0.00")


def test_fifty_days_for_health_establishments():
    assert clock(delay_days=50).deadline == date(2026, 4, 21)


def test_late_payment_interest_and_fixed_indemnity():
    c = clock(today=date(2026, 4, 11))
    assert c.days_late == 10
    # ECB rate of the half-year the interest starts in (1 Jan 2026) + 8 points.
    assert c.interest_rate == Decimal("10.15")
    assert c.interest == (Decimal("12000") * Decimal("10.15") / 100 * 10 / 365).quantize(Decimal("0.01"))
    assert c.indemnity == Decimal("40.00")


def test_payment_stops_the_clock():
    c = clock(today=date(2026, 6, 1), paid_on=date(2026, 3, 31))
    assert c.days_left == 1 and not c.is_late


def test_suspension_stops_the_clock_while_it_lasts():
    c = clock(suspensions=[Suspension(start=datetime(2026, 3, 5, tzinfo=UTC))], today=date(2026, 6, 1))
    assert c.suspended and c.deadline is None and not c.is_late


def test_after_a_suspension_the_remaining_delay_resumes_with_at_least_15_days():
    # Suspended on day 25 (5 days left): the supplier completes on 2026-04-20 → 15 days, not 5.
    c = clock(
        suspensions=[Suspension(start=datetime(2026, 3, 27, tzinfo=UTC), end=datetime(2026, 4, 20, tzinfo=UTC))],
        today=date(2026, 4, 21),
    )
    assert c.deadline == date(2026, 5, 5)
    # Suspended early (25 days left): the 25 days resume.
    c = clock(suspensions=[Suspension(start=datetime(2026, 3, 7, tzinfo=UTC), end=datetime(2026, 3, 17, tzinfo=UTC))])
    assert c.deadline == date(2026, 4, 11)


def test_ecb_rate_lookup_uses_the_half_year_start():
    assert ecb_rate_for(date(2024, 8, 15)) == Decimal("4.25")
    assert ecb_rate_for(date(2021, 1, 5)) == Decimal("0")
