import pytest

from choeur.sollicitations.models import SollicitationCategory
from tests.accounts.factories import UserFactory
from tests.sollicitations.factories import make_sollicitation, personas

pytestmark = pytest.mark.django_db


def test_the_referential_is_administrable_and_sollicitations_are_read_only(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    category = SollicitationCategory.objects.get(code="FACTURE")
    page = client.get(f"/admin/sollicitations/sollicitationcategory/{category.pk}/change/")
    assert page.status_code == 200 and "Facture suspendue ou rejetée" in page.text
    supplier, buyer, _ = personas()
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    listing = client.get("/admin/sollicitations/sollicitation/")
    assert sollicitation.numero in listing.text
    assert client.get("/admin/sollicitations/sollicitation/add/").status_code == 403
