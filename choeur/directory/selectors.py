"""Reads about structures, services, rattachements, espaces and rights.

Tenancy: every read of private data (bank details, users, rights, manager history) starts from the
reader's structures — `Structure.objects.of_user(user)` (validated rattachement) or `managed_by(user)`
(validated gestionnaire). A structure outside that scope is reported as *not found*, never as
*forbidden*, so that its existence and its data do not leak. Only public data (identity of a structure,
found by the search that precedes a creation or a rattachement request) is readable by anyone logged in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from choeur.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from choeur.directory.enums import (
    GESTIONNAIRE_ROLES,
    EspaceCode,
    Habilitation,
    IdentifierType,
    RattachementStatus,
    Role,
    SubscriptionStatus,
)
from choeur.directory.identifiers import clean_identifier
from choeur.directory.models import (
    BankAccount,
    EspaceSubscription,
    ManagerAction,
    Rattachement,
    Service,
    Structure,
    StructureEspace,
)

SEARCH_MIN_DIGITS = 3
_ESPACE_ORDER = {code: index for index, code in enumerate(EspaceCode.values)}


# ---------------------------------------------------------------------------------------------------
# Structures in the reader's scope
# ---------------------------------------------------------------------------------------------------


def structures_of_user(*, user) -> QuerySet[Structure]:
    """The structures `user` is validly attached to (any role)."""
    if not getattr(user, "is_authenticated", False):
        return Structure.objects.none()
    return Structure.objects.of_user(user)


def structures_managed_by(*, user) -> QuerySet[Structure]:
    """The structures `user` manages (validated gestionnaire principal or secondaire)."""
    if not getattr(user, "is_authenticated", False):
        return Structure.objects.none()
    return Structure.objects.managed_by(user)


def _not_found() -> NotFoundError:
    return NotFoundError(
        "Structure introuvable : elle n'existe pas ou votre compte n'y est pas rattaché.", code="structure_introuvable"
    )


def structure_get_for_member(*, user, structure_id: int) -> Structure:
    """A structure the user is validly attached to; `NotFoundError` otherwise (even if it exists)."""
    structure = structures_of_user(user=user).filter(pk=structure_id).first()
    if structure is None:
        raise _not_found()
    return structure


def structure_get_for_manager(*, user, structure_id: int) -> Structure:
    """A structure the user manages. Outside their scope: `NotFoundError`; a member who is not
    gestionnaire: `PermissionDeniedError` (they know the structure, they just may not manage it)."""
    structure = structure_get_for_member(user=user, structure_id=structure_id)
    if not is_gestionnaire(user=user, structure=structure):
        raise PermissionDeniedError(
            f"Seuls les gestionnaires de la structure « {structure.designation} » ont accès à cette page. "
            "Demandez à son gestionnaire principal de vous nommer gestionnaire si vous en avez besoin."
        )
    return structure


def structure_get_public_or_member(*, user, structure_id: int) -> tuple[Structure, bool]:
    """A structure whose page the user may see: one of theirs (True) or a public structure (False),
    whose public data only is then shown."""
    structure = structures_of_user(user=user).filter(pk=structure_id).first()
    if structure is not None:
        return structure, True
    structure = Structure.objects.public().filter(pk=structure_id).first()
    if structure is None:
        raise _not_found()
    return structure, False


def structure_get_for_request(*, structure_id: int) -> Structure:
    """The structure a rattachement is requested to. Its identity is public (the search shows it)."""
    structure = Structure.objects.filter(pk=structure_id).first()
    if structure is None:
        raise NotFoundError(
            "Aucune structure ne correspond à cette demande. Recherchez-la par son SIRET ou sa raison sociale.",
            code="structure_introuvable",
        )
    return structure


def structure_get_by_identifier(*, identifier_type: str, identifier: str) -> Structure:
    """The structure registered with this identifier, or a French explanation of why there is none."""
    value = clean_identifier(identifier_type, identifier)
    structure = Structure.objects.filter(identifier_type=identifier_type, identifier=value).first()
    if structure is None:
        label = IdentifierType(identifier_type).label
        raise NotFoundError(
            f"Aucune structure n'est inscrite avec l'identifiant {label} « {value} ». Vérifiez-le, ou créez la "
            "structure si elle n'existe pas encore sur la plateforme.",
            field="identifier",
            code="structure_introuvable",
        )
    return structure


def structure_search(*, query: str) -> QuerySet[Structure]:
    """Chorus Pro's search before creation: a SIRET (or other identifier) prefix of at least 3 digits, or
    the exact raison sociale (case-insensitive). Deliberately not a fuzzy search: the private
    structures' list must not be browsable."""
    text = " ".join((query or "").split())
    if not text:
        raise ApplicationError(
            "Saisissez un SIRET (au moins 3 chiffres) ou la raison sociale exacte de la structure.", field="q"
        )
    compact = text.replace(" ", "").replace(".", "")
    if compact.isdigit():
        if len(compact) < SEARCH_MIN_DIGITS:
            raise ApplicationError(
                f"Saisissez au moins {SEARCH_MIN_DIGITS} chiffres du SIRET pour lancer la recherche.", field="q"
            )
        found = Structure.objects.filter(identifier__startswith=compact)
    else:
        found = Structure.objects.filter(Q(raison_sociale__iexact=text) | Q(identifier__iexact=compact.upper()))
    return found.order_by("raison_sociale", "pk")


# ---------------------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------------------


def rattachement_of(*, user, structure: Structure) -> Rattachement | None:
    """The user's rattachement to the structure, whatever its status."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Rattachement.objects.filter(user=user, structure=structure).first()


def is_gestionnaire(*, user, structure: Structure) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Rattachement.objects.gestionnaires().filter(user=user, structure=structure).exists()


def is_gestionnaire_principal(*, user, structure: Structure) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        Rattachement.objects.validated()
        .filter(user=user, structure=structure, role=Role.GESTIONNAIRE_PRINCIPAL)
        .exists()
    )


def structure_gestionnaires(*, structure: Structure) -> QuerySet[Rattachement]:
    """Validated gestionnaires (principal first): who is told about bank-detail changes and requests."""
    return (
        Rattachement.objects.gestionnaires()
        .filter(structure=structure, user__is_active=True)
        .select_related("user")
        .order_by("role", "user__last_name", "pk")
    )


def rattachements_of_user(*, user) -> QuerySet[Rattachement]:
    """All the user's rattachements, whatever their status (« Mes structures »)."""
    return (
        Rattachement.objects.filter(user=user)
        .select_related("structure")
        .prefetch_related("services")
        .order_by("structure__raison_sociale", "pk")
    )


def structure_members(*, user, structure: Structure) -> QuerySet[Rattachement]:
    """The people of a structure, for its members only (any role). Gestionnaires also see requests."""
    structure_get_for_member(user=user, structure_id=structure.pk)
    rattachements = Rattachement.objects.filter(structure=structure)
    if not is_gestionnaire(user=user, structure=structure):
        rattachements = rattachements.filter(status=RattachementStatus.VALIDEE)
    return rattachements.select_related("user").prefetch_related("services").order_by("role", "user__last_name", "pk")


def structure_services(*, user, structure: Structure) -> QuerySet[Service]:
    """Every service of the structure (inactive ones too) for its members; active ones for others
    when the structure is public (its services are public data, as in the annuaire)."""
    if structures_of_user(user=user).filter(pk=structure.pk).exists():
        return structure.services.order_by("code")
    if structure.is_public:
        return structure.services.active().order_by("code")
    raise _not_found()


def structure_bank_accounts(*, user, structure: Structure) -> QuerySet[BankAccount]:
    """Bank details: private data of the structure, for its members only."""
    structure_get_for_member(user=user, structure_id=structure.pk)
    return structure.bank_accounts.order_by("-is_active", "label", "pk")


def bank_account_get_for_manager(*, user, bank_account_id: int) -> BankAccount:
    account = (
        BankAccount.objects.filter(pk=bank_account_id, structure__in=structures_managed_by(user=user))
        .select_related("structure")
        .first()
    )
    if account is None:
        raise NotFoundError("Coordonnées bancaires introuvables.", code="coordonnees_introuvables")
    return account


def service_get_for_manager(*, user, service_id: int) -> Service:
    service = (
        Service.objects.filter(pk=service_id, structure__in=structures_managed_by(user=user))
        .select_related("structure")
        .first()
    )
    if service is None:
        raise NotFoundError("Service introuvable.", code="service_introuvable")
    return service


def rattachement_get_for_manager(*, user, rattachement_id: int) -> Rattachement:
    rattachement = (
        Rattachement.objects.filter(pk=rattachement_id, structure__in=structures_managed_by(user=user))
        .select_related("user", "structure")
        .first()
    )
    if rattachement is None:
        raise NotFoundError("Rattachement introuvable.", code="rattachement_introuvable")
    return rattachement


# ---------------------------------------------------------------------------------------------------
# Espaces and rights
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EspaceAccess:
    """What a user may do in one open espace of a structure."""

    espace: StructureEspace
    habilitation: str
    # True when the right comes from the gestionnaire role rather than from an abonnement.
    as_gestionnaire: bool = False

    @property
    def code(self) -> str:
        return self.espace.code

    @property
    def label(self) -> str:
        return self.espace.get_code_display()

    @property
    def can_write(self) -> bool:
        return self.habilitation == Habilitation.MODIFICATION

    @property
    def habilitation_label(self) -> str:
        return Habilitation(self.habilitation).label


def structure_espaces(*, structure: Structure) -> list[StructureEspace]:
    """The espaces ever opened on the structure (open or closed), in the reference order."""
    return sorted(structure.espaces.all(), key=lambda e: _ESPACE_ORDER.get(e.code, 99))


def espaces_for_user(user, structure: Structure) -> list[EspaceAccess]:
    """The open espaces the user can use on the structure, with their habilitation.

    Gestionnaires have every open espace in MODIFICATION; other validated users have the espaces of
    their validated abonnements. Anyone else has none.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    rattachement = Rattachement.objects.validated().filter(user=user, structure=structure).first()
    if rattachement is None:
        return []
    open_espaces = StructureEspace.objects.filter(structure=structure, is_open=True)
    if rattachement.role in GESTIONNAIRE_ROLES:
        accesses = [EspaceAccess(e, Habilitation.MODIFICATION, as_gestionnaire=True) for e in open_espaces]
    else:
        subscriptions = EspaceSubscription.objects.filter(
            rattachement=rattachement, status=SubscriptionStatus.VALIDEE, espace__in=open_espaces
        ).select_related("espace")
        accesses = [EspaceAccess(s.espace, s.habilitation) for s in subscriptions]
    return sorted(accesses, key=lambda a: _ESPACE_ORDER.get(a.code, 99))


def user_can(
    user,
    structure: Structure,
    espace_code: str | None = None,
    write: bool = False,
    *,
    espace: str | None = None,
    habilitation: str | None = None,
) -> bool:
    """May `user` read (or, with `write=True`, modify) in espace `espace_code` of `structure`?

    The single predicate other apps use (invoices, flows, works…). `espace=` and
    `habilitation=Habilitation.MODIFICATION` are accepted as keyword aliases of `espace_code` and
    `write=True`. Writing also needs an active structure.
    """
    code = espace_code or espace
    if code is None:
        raise TypeError("user_can() attend le code de l'espace (espace_code).")
    write = write or habilitation == Habilitation.MODIFICATION
    if not getattr(user, "is_authenticated", False) or not user.is_active or structure is None:
        return False
    if write and not structure.is_active:
        return False
    rattachement = (
        Rattachement.objects.validated().filter(user=user, structure=structure).values_list("pk", "role").first()
    )
    if rattachement is None:
        return False
    rattachement_id, role = rattachement
    if role in GESTIONNAIRE_ROLES:
        return StructureEspace.objects.filter(structure=structure, code=code, is_open=True).exists()
    subscriptions = EspaceSubscription.objects.filter(
        rattachement_id=rattachement_id,
        espace__code=code,
        espace__is_open=True,
        status=SubscriptionStatus.VALIDEE,
    )
    if write:
        subscriptions = subscriptions.filter(habilitation=Habilitation.MODIFICATION)
    return subscriptions.exists()


def subscriptions_of(*, rattachement: Rattachement) -> dict[str, EspaceSubscription]:
    """The rattachement's abonnements keyed by espace code."""
    return {s.espace.code: s for s in rattachement.subscriptions.select_related("espace")}


# ---------------------------------------------------------------------------------------------------
# « Activités du gestionnaire »
# ---------------------------------------------------------------------------------------------------


def _managed(*, user, structure: Structure | None) -> QuerySet[Structure]:
    managed = structures_managed_by(user=user)
    if structure is not None:
        managed = managed.filter(pk=structure.pk)
    return managed


def pending_rattachements_for_manager(*, user, structure: Structure | None = None) -> QuerySet[Rattachement]:
    """Rattachement requests awaiting a decision on the structures the user manages (oldest first)."""
    return (
        Rattachement.objects.pending()
        .filter(structure__in=_managed(user=user, structure=structure))
        .select_related("user", "structure")
        .prefetch_related("services")
        .order_by("created_at", "pk")
    )


def pending_subscriptions_for_manager(*, user, structure: Structure | None = None) -> QuerySet[EspaceSubscription]:
    """Abonnement requests awaiting a decision on the structures the user manages (oldest first)."""
    return (
        EspaceSubscription.objects.filter(
            status=SubscriptionStatus.EN_COURS_DE_VALIDATION,
            rattachement__status=RattachementStatus.VALIDEE,
            rattachement__structure__in=_managed(user=user, structure=structure),
        )
        .select_related("rattachement__user", "rattachement__structure", "espace")
        .order_by("created_at", "pk")
    )


def subscription_get_for_manager(*, user, subscription_id: int) -> EspaceSubscription:
    subscription = (
        EspaceSubscription.objects.filter(
            pk=subscription_id, rattachement__structure__in=structures_managed_by(user=user)
        )
        .select_related("rattachement__user", "rattachement__structure", "espace")
        .first()
    )
    if subscription is None:
        raise NotFoundError("Demande d'abonnement introuvable.", code="abonnement_introuvable")
    return subscription


def manager_actions_for_manager(*, user, structure: Structure | None = None) -> QuerySet[ManagerAction]:
    """History of gestionnaire actions on the structures the user manages (newest first)."""
    return (
        ManagerAction.objects.filter(structure__in=_managed(user=user, structure=structure))
        .select_related("structure", "actor")
        .order_by("-created_at", "-pk")
    )


def rights_for_manager(*, user, structure: Structure | None = None) -> QuerySet[Rattachement]:
    """Validated users of the managed structures with their abonnements (« utilisateurs et droits »)."""
    return (
        Rattachement.objects.validated()
        .filter(structure__in=_managed(user=user, structure=structure))
        .select_related("user", "structure")
        .prefetch_related(
            "services",
            Prefetch("subscriptions", queryset=EspaceSubscription.objects.select_related("espace")),
            Prefetch("structure__espaces", queryset=StructureEspace.objects.all()),
        )
        .order_by("structure__raison_sociale", "structure_id", "role", "user__last_name", "pk")
    )


def rights_of(rattachement: Rattachement) -> dict[str, str]:
    """Espace code → French description of the user's right, for every espace of the structure.

    Uses the prefetched espaces and abonnements of `rights_for_manager`.
    """
    espaces = {e.code: e for e in rattachement.structure.espaces.all()}
    subscriptions = {s.espace.code: s for s in rattachement.subscriptions.all()}
    rights: dict[str, str] = {}
    for code in EspaceCode.values:
        espace = espaces.get(code)
        if espace is None or not espace.is_open:
            rights[code] = "Espace fermé"
        elif rattachement.is_gestionnaire:
            rights[code] = Habilitation.MODIFICATION.label
        elif (sub := subscriptions.get(code)) is None or sub.status == SubscriptionStatus.REFUSEE:
            rights[code] = "Aucun"
        elif sub.status == SubscriptionStatus.EN_COURS_DE_VALIDATION:
            rights[code] = f"Demande en cours ({Habilitation(sub.habilitation).label.lower()})"
        else:
            rights[code] = Habilitation(sub.habilitation).label
    return rights


RIGHTS_EXPORT_HEADER = [
    "Structure",
    "Type d'identifiant",
    "Identifiant",
    "Nom",
    "Prénom",
    "Adresse électronique de connexion",
    "Rôle",
    "Statut du rattachement",
    "Rattaché le",
    "Services",
    *EspaceCode.labels,
]


def rights_export_rows(*, user, structure: Structure | None = None) -> Iterator[list[str]]:
    """Header then one row per validated user of each managed structure, with their rights per espace."""
    yield list(RIGHTS_EXPORT_HEADER)
    for rattachement in rights_for_manager(user=user, structure=structure).iterator(chunk_size=500):
        rights = rights_of(rattachement)
        yield [
            rattachement.structure.raison_sociale,
            rattachement.structure.get_identifier_type_display(),
            rattachement.structure.identifier,
            rattachement.user.last_name,
            rattachement.user.first_name,
            rattachement.user.email,
            rattachement.get_role_display(),
            rattachement.get_status_display(),
            f"{timezone.localtime(rattachement.decided_at or rattachement.created_at):%d/%m/%Y}",
            ", ".join(s.code for s in rattachement.services.all()) or "Toute la structure",
            *(rights[code] for code in EspaceCode.values),
        ]
