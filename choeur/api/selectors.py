"""Reads of both APIs, bounded by the calling structure.

The tenancy rule of the API is Chorus Pro's: a caller sees every public structure (the annuaire of the
recipients it invoices) and, of the private ones, only its own. Bank details, espaces and rattachements are
never read for another structure than the caller's.
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone

from choeur.directory.annuaire import annuaire_search
from choeur.directory.enums import IdentifierType, StructureKind
from choeur.directory.models import BankAccount, Rattachement, Service, Structure, StructureEspace


def structures_visible(*, caller: Structure) -> QuerySet[Structure]:
    """Every public structure and the caller's own."""
    return Structure.objects.filter(Q(kind=StructureKind.PUBLIQUE) | Q(pk=caller.pk))


def structure_visible_get(*, caller: Structure, structure_id: int | None) -> Structure | None:
    if structure_id is None:
        return None
    return structures_visible(caller=caller).filter(pk=structure_id).first()


def structure_own_get(
    *,
    caller: Structure,
    structure_id: int | None = None,
    identifier: str | None = None,
    identifier_type: str | None = None,
) -> Structure | None:
    """The caller's structure when the given id, or identifier (and type), designate it; otherwise None."""
    if structure_id is not None and structure_id != caller.pk:
        return None
    if identifier is not None and identifier.replace(" ", "") != caller.identifier:
        return None
    if identifier_type is not None and identifier_type != caller.identifier_type:
        return None
    return caller


def structures_search(
    *,
    caller: Structure,
    restrict_private: bool,
    identifier: str | None = None,
    identifier_type: str | None = None,
    kind: str | None = None,
    active: bool | None = None,
    raison_sociale: str | None = None,
    libelle: str | None = None,
    nom: str | None = None,
    prenom: str | None = None,
    pays: str | None = None,
    code_postal: str | None = None,
    ville: str | None = None,
    moa: bool | None = None,
    moa_only: bool | None = None,
) -> QuerySet[Structure]:
    """`structures/v1/rechercher`. With `restrict_private` (Chorus Pro's default) the private structures
    found are only the caller's own; without it every matching structure is listed (identifier, name and
    status only, the data of the public SIRENE register)."""
    structures = structures_visible(caller=caller) if restrict_private else Structure.objects.all()
    if identifier:
        # A SIREN (or any start) finds all the establishments, as on the portal.
        structures = structures.filter(identifier__istartswith=identifier.replace(" ", ""))
    if identifier_type:
        structures = structures.filter(identifier_type=identifier_type)
    if kind:
        structures = structures.filter(kind=kind)
    if active is not None:
        structures = structures.filter(is_active=active)
    if raison_sociale:
        structures = structures.filter(raison_sociale__icontains=raison_sociale)
    if libelle:
        structures = structures.filter(libelle__icontains=libelle)
    if nom:
        structures = structures.filter(nom__icontains=nom)
    if prenom:
        structures = structures.filter(prenom__icontains=prenom)
    if pays:
        structures = structures.filter(pays__iexact=pays)
    if code_postal:
        structures = structures.filter(code_postal__startswith=code_postal)
    if ville:
        structures = structures.filter(ville__icontains=ville)
    # `false` is what clients send when they do not filter (the Go client always sends it): only `true`
    # restricts.
    if moa:
        structures = structures.filter(is_moa=True)
    if moa_only:
        structures = structures.filter(is_moa_only=True)
    return structures


def services_of(structure: Structure) -> QuerySet[Service]:
    """The services of a structure, annotated with `active_now` (active and within its validity dates, the
    `estActif` shown to clients) so that lists can be sorted on it."""
    today = timezone.localdate()
    return Service.objects.filter(structure=structure).annotate(
        active_now=Case(
            When(
                Q(is_active=True)
                & (Q(valid_from__isnull=True) | Q(valid_from__lte=today))
                & (Q(valid_until__isnull=True) | Q(valid_until__gte=today)),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def service_visible_get(*, caller: Structure, service_id: int | None, structure_id: int | None) -> Service | None:
    """A service of a visible structure; `structure_id`, when given, must be the service's structure."""
    if service_id is None:
        return None
    services = Service.objects.select_related("structure").filter(
        pk=service_id, structure__in=structures_visible(caller=caller)
    )
    if structure_id is not None:
        services = services.filter(structure_id=structure_id)
    return services.first()


def services_search(
    *,
    structure: Structure,
    code: str | None = None,
    libelle: str | None = None,
    active: bool | None = None,
) -> QuerySet[Service]:
    services = services_of(structure)
    if code:
        services = services.filter(code__icontains=code)
    if libelle:
        services = services.filter(libelle__icontains=libelle)
    if active is True:
        services = services.active()
    elif active is False:
        services = services.exclude(pk__in=services_of(structure).active().values("pk"))
    return services


def bank_accounts_valid(*, structure: Structure) -> QuerySet[BankAccount]:
    return BankAccount.objects.filter(structure=structure, is_active=True)


def espaces_of(*, structure: Structure) -> list[StructureEspace]:
    return list(StructureEspace.objects.filter(structure=structure))


def structure_has_open_espace(*, structure: Structure, code: str) -> bool:
    return StructureEspace.objects.filter(structure=structure, code=code, is_open=True).exists()


def rattachement_of_user(
    *, structure: Structure, user_id: int | None = None, email: str | None = None
) -> Rattachement | None:
    """A person's rattachement to the caller's structure, by user id and/or connection e-mail."""
    if user_id is None and not email:
        return None
    rattachements = (
        Rattachement.objects.select_related("user").prefetch_related("services").filter(structure=structure)
    )
    if user_id is not None:
        rattachements = rattachements.filter(user_id=user_id)
    if email:
        rattachements = rattachements.filter(user__email__iexact=email.strip())
    return rattachements.first()


def structure_by_siret(*, siret: str) -> Structure | None:
    return Structure.objects.filter(identifier_type=IdentifierType.SIRET, identifier=siret).first()


def recipients_search(
    *, identifier: str | None = None, text: str | None = None, identifier_type: str | None = None
) -> QuerySet[Structure]:
    """`rechercher/destinataire`: active public structures, by identifier start and by one free text that is
    a name, a city or a postal code (Chorus Pro's `nomVilleCodePostal`)."""
    structures = Structure.objects.public().active()
    if identifier:
        structures = structures.filter(identifier__startswith=identifier.replace(" ", ""))
    if identifier_type:
        structures = structures.filter(identifier_type=identifier_type)
    text = (text or "").strip()
    if text:
        if text.replace(" ", "").isdigit():
            matching = annuaire_search(location=text)
        else:
            # The accent-insensitive search of the annuaire, on the name or else on the city.
            matching = Structure.objects.filter(
                Q(pk__in=annuaire_search(name=text).values("pk"))
                | Q(pk__in=annuaire_search(location=text).values("pk"))
            )
        structures = structures.filter(pk__in=matching.values("pk"))
    return structures
