"""Demo sollicitations (sollicitations/demo.py): one in each state between the demo personas, idempotent."""

import pytest
from django.contrib.auth import get_user_model

from choeur.directory import demo as directory_demo
from choeur.invoices.demo import demo_invoices_seed
from choeur.sollicitations import selectors
from choeur.sollicitations.demo import DEMO_SOLLICITATIONS, _person, demo_sollicitations_seed
from choeur.sollicitations.enums import SollicitationStatus as S
from choeur.sollicitations.models import Sollicitation

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_sollicitations_cover_every_state_and_seed_once():
    directory_demo.demo_seed()
    demo_invoices_seed()
    report = demo_sollicitations_seed()
    assert report.created == len(DEMO_SOLLICITATIONS) and not report.skipped
    assert set(Sollicitation.objects.values_list("status", flat=True)) == set(S.values)
    commune = _person("commune")
    to_process = {s.subject for s in selectors.sollicitations_to_process(user=commune)}
    assert "Code service pour la médiathèque" in to_process  # COMPLEMENT_RECU
    staff = get_user_model().objects.get(email=directory_demo.DEMO_PLATFORM_ADMIN.email)
    assert selectors.sollicitations_to_process(user=staff).filter(request_data__kind="CREATION_STRUCTURE_PUBLIQUE")
    again = demo_sollicitations_seed()
    assert again.created == 0 and again.kept == len(DEMO_SOLLICITATIONS)
