from functools import cached_property

from django.conf import settings
from django.db.models import Q

from choeur.directory.enums import EspaceCode, StructureKind
from choeur.directory.selectors import espaces_for_user, structures_managed_by, structures_of_user


class NavigationRights:
    """What the main navigation may offer the user: the espaces open to them on any of their structures,
    and whether they manage one. A supplier is not shown « Factures reçues » only to meet a 403 there.

    Computed on first use in a template only (pages without the menu, API errors, pay nothing)."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def espaces(self) -> frozenset[str]:
        if not getattr(self.user, "is_authenticated", False):
            return frozenset()
        structures = structures_of_user(user=self.user)
        return frozenset(access.code for structure in structures for access in espaces_for_user(self.user, structure))

    @cached_property
    def is_manager(self) -> bool:
        return getattr(self.user, "is_authenticated", False) and structures_managed_by(user=self.user).exists()

    @property
    def issued(self) -> bool:
        return EspaceCode.FACTURES_EMISES in self.espaces

    @property
    def received(self) -> bool:
        return EspaceCode.FACTURES_RECUES in self.espaces

    @property
    def to_validate(self) -> bool:
        return EspaceCode.FACTURES_A_VALIDER in self.espaces

    @property
    def works(self) -> bool:
        return EspaceCode.FACTURES_TRAVAUX in self.espaces

    @cached_property
    def sollicitations_received(self) -> bool:
        """« Sollicitations reçues »: public structures, maîtres d'œuvre, and the platform's support."""
        if not getattr(self.user, "is_authenticated", False):
            return False
        if self.user.is_staff:
            return True
        return structures_of_user(user=self.user).filter(Q(kind=StructureKind.PUBLIQUE) | Q(is_moe=True)).exists()

    @property
    def invoices(self) -> bool:
        return self.issued or self.received or self.to_validate


def portal(request):
    """Values every portal page needs (site name, what the navigation offers this user)."""
    return {
        "site_name": "Chœur",
        "nav": NavigationRights(getattr(request, "user", None)),
        "demo_mode": settings.CHOEUR_DEMO_MODE,
    }
