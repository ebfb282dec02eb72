"""Demo engagements juridiques: entered through the service by each buyer's gestionnaire, consumed by the demo
invoices (invoiced, validated, paid), idempotent."""

import pytest

from choeur.directory import demo as directory_demo
from choeur.directory.models import EngagementJuridique
from choeur.invoices import engagement_selectors as selectors
from choeur.invoices.demo import EJ_ETAT, EJ_HOPITAL, demo_invoices_seed
from choeur.invoices.demo_engagements import DEMO_ENGAGEMENTS, demo_engagements_seed

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_ejs_are_consumed_by_the_demo_invoices_and_seed_once():
    directory_demo.demo_seed()
    assert len(demo_engagements_seed().created) == len(DEMO_ENGAGEMENTS)
    demo_invoices_seed()
    rows = {
        row.engagement.number: row
        for row in selectors.engagements_with_consumption(EngagementJuridique.objects.select_related("structure"))
    }
    for number in (EJ_ETAT, EJ_HOPITAL):
        row = rows[number]
        assert 0 < row.paid < row.validated < row.invoiced < row.engagement.amount_ttc, number
    assert rows["BC-2026-0314"].invoiced == 0
    again = demo_engagements_seed()
    assert (again.created, again.kept) == ([], len(DEMO_ENGAGEMENTS))
