import pytest

from choeur.sollicitations.models import SollicitationCategory, SollicitationSubCategory
from choeur.sollicitations.referential import categories_seed


@pytest.fixture(autouse=True)
def _referential(db):
    """Tests run without migrations: lay down the seeded referential the data migration writes."""
    categories_seed(SollicitationCategory, SollicitationSubCategory)
