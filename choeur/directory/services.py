"""Structures, services, rattachements and roles, espaces and abonnements, bank details.

Every write runs in one transaction, locks rows in the documented order (structure → rattachement →
abonnement; see docs/ARCHITECTURE.md « Verrous »), leaves an audit entry, a line in the gestionnaire
history (ManagerAction) when a gestionnaire or an administrator acted, and sends its e-mails only after
commit. Refusals are `ApplicationError`s whose French message says what to fix.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from choeur.directory import emails
from choeur.directory.enums import (
    DEFAULT_ESPACES_PRIVATE,
    DEFAULT_ESPACES_PUBLIC,
    DEFAULT_SERVICE_CODE,
    DEFAULT_SERVICE_LABEL,
    ESPACES_FOR_EVERY_USER,
    GESTIONNAIRE_ROLES,
    EspaceCode,
    Habilitation,
    IdentifierType,
    PublicCategory,
    RattachementStatus,
    Role,
    StructureKind,
    SubscriptionStatus,
)
from choeur.directory.identifiers import clean_bic, clean_iban, clean_identifier, clean_vat
from choeur.directory.models import (
    BankAccount,
    EspaceSubscription,
    ManagerAction,
    Rattachement,
    Service,
    Structure,
    StructureEspace,
)
from choeur.directory.selectors import structure_gestionnaires

# Fields anybody creating or managing a structure may set.
IDENTITY_FIELDS = (
    "raison_sociale",
    "libelle",
    "nom",
    "prenom",
    "numero_tva",
    "numero_rcs",
    "email",
    "adresse",
    "complement_adresse",
    "code_postal",
    "ville",
    "pays",
    "telephone",
    # A private company may be the maître d'œuvre of a works contract.
    "is_moe",
)
# Recipient settings (`parametres` of Chorus Pro's structures/v1/consulter): only a public structure
# receives invoices, so only it has them.
RECIPIENT_FIELDS = (
    "code_service_obligatoire",
    "engagement_obligatoire",
    "engagement_ou_service",
    "mise_en_paiement_non_remontee",
    "is_moa",
    "is_moa_only",
    "payment_delay_days",
)
# Délai global de paiement: 30 days (State, collectivités), 50 (hospitals), at most 60 (public companies).
PAYMENT_DELAY_MAX_DAYS = 60
MESSAGE_MAX_LENGTH = 2000

FIELD_LABELS = {f.name: str(f.verbose_name) for f in Structure._meta.get_fields() if hasattr(f, "verbose_name")}


# ---------------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------------


def _lock_structure(structure: Structure) -> Structure:
    """Lock the structure row first: every service below serialises on it (deadlock-free order)."""
    return Structure.objects.select_for_update().get(pk=structure.pk)


def _require_gestionnaire(*, user, structure: Structure, what: str, principal_only: bool = False) -> Rattachement:
    """The acting user's validated gestionnaire rattachement, or a French refusal naming the action."""
    rattachement = (
        Rattachement.objects.gestionnaires().filter(user=user, structure=structure).first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if rattachement is None:
        raise PermissionDeniedError(
            f"Seuls les gestionnaires de la structure « {structure.designation} » peuvent {what}. "
            "Demandez à son gestionnaire principal de le faire, ou de vous nommer gestionnaire."
        )
    if principal_only and rattachement.role != Role.GESTIONNAIRE_PRINCIPAL:
        raise PermissionDeniedError(
            f"Seul le gestionnaire principal de la structure « {structure.designation} » peut {what}."
        )
    return rattachement


def _require_staff(user, *, what: str) -> None:
    if not (getattr(user, "is_authenticated", False) and user.is_staff and user.is_active):
        raise PermissionDeniedError(f"Seuls les administrateurs de la plateforme peuvent {what}.")


def _person(user) -> str:
    return f"{user.full_name} ({user.email})" if user.full_name else user.email


def _record(
    *, structure: Structure, by, action: str, description: str, target=None, data: dict[str, Any] | None = None
) -> None:
    """One line in « Activités du gestionnaire » and one audit entry (the audit chain keeps the proof)."""
    ManagerAction.objects.create(structure=structure, actor=by, action=action, description=description)
    audit_log(
        action=f"directory.{action}",
        actor=by,
        structure_id=structure.pk,
        target=target or structure,
        data={"description": description, **(data or {})},
    )


def _clean_text(value: str | None, *, max_length: int, field: str, label: str, required: bool = False) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise ApplicationError(f"Saisissez {label}.", field=field)
    if len(text) > max_length:
        raise ApplicationError(
            f"{label[0].upper()}{label[1:]} ne doit pas dépasser {max_length} caractères.", field=field
        )
    return text


def _gestionnaire_subscriptions_ensure(rattachement: Rattachement) -> None:
    """A gestionnaire is subscribed to every open espace with MODIFICATION (Chorus Pro's rule). The rows
    are written so that the rights stay visible (export, history) and survive a later demotion."""
    for espace in StructureEspace.objects.filter(structure_id=rattachement.structure_id, is_open=True):
        EspaceSubscription.objects.update_or_create(
            rattachement=rattachement,
            espace=espace,
            defaults={
                "habilitation": Habilitation.MODIFICATION,
                "status": SubscriptionStatus.VALIDEE,
                "decided_at": timezone.now(),
            },
        )


def _everyone_subscriptions_ensure(rattachement: Rattachement) -> None:
    """Every validated user gets the sollicitation espaces without asking (Chorus Pro v2.0)."""
    for espace in StructureEspace.objects.filter(
        structure_id=rattachement.structure_id, is_open=True, code__in=ESPACES_FOR_EVERY_USER
    ):
        subscription, created = EspaceSubscription.objects.get_or_create(
            rattachement=rattachement,
            espace=espace,
            defaults={
                "habilitation": Habilitation.MODIFICATION,
                "status": SubscriptionStatus.VALIDEE,
                "decided_at": timezone.now(),
            },
        )
        if not created and subscription.status != SubscriptionStatus.VALIDEE:
            subscription.status = SubscriptionStatus.VALIDEE
            subscription.habilitation = Habilitation.MODIFICATION
            subscription.decided_at = timezone.now()
            subscription.save(update_fields=["status", "habilitation", "decided_at"])


def _notify_gestionnaires_later(structure: Structure, send) -> None:
    """Run `send(gestionnaires)` after commit, with the gestionnaires as they are then."""
    transaction.on_commit(lambda: send(list(u.user for u in structure_gestionnaires(structure=structure))))


# ---------------------------------------------------------------------------------------------------
# Structures
# ---------------------------------------------------------------------------------------------------


def structure_defaults_ensure(*, structure: Structure) -> None:
    """Give a structure its default service FACTURES_PUBLIQUES and its default espaces (idempotent)."""
    Service.objects.get_or_create(
        structure=structure, code=DEFAULT_SERVICE_CODE, defaults={"libelle": DEFAULT_SERVICE_LABEL}
    )
    codes = DEFAULT_ESPACES_PUBLIC if structure.is_public else DEFAULT_ESPACES_PRIVATE
    for code in codes:
        StructureEspace.objects.get_or_create(structure=structure, code=code)


def _particulier_identifier_new() -> str:
    """A private person has no registry number: the platform gives one, stable and unique."""
    alphabet = string.ascii_uppercase + string.digits
    while True:
        candidate = "PART-" + "".join(secrets.choice(alphabet) for _ in range(10))
        if not Structure.objects.filter(identifier_type=IdentifierType.PARTICULIER, identifier=candidate).exists():
            return candidate


def _clean_structure_fields(fields: dict[str, Any], *, is_public: bool) -> dict[str, Any]:
    """Check and normalise identity and recipient fields; French message on the field at fault."""
    unknown = set(fields) - set(IDENTITY_FIELDS) - set(RECIPIENT_FIELDS)
    if unknown:
        raise TypeError(f"Champs de structure inconnus : {', '.join(sorted(unknown))}")
    if not is_public:
        forbidden = [name for name in RECIPIENT_FIELDS if name in fields and fields[name] not in (None, False)]
        if forbidden:
            raise ApplicationError(
                "Les paramètres de réception des factures (code service obligatoire, numéro d'engagement, délai "
                "de paiement, maîtrise d'ouvrage…) ne concernent que les structures publiques.",
                field=forbidden[0],
            )
    cleaned = dict(fields)
    limits = {
        "raison_sociale": 255, "libelle": 255, "nom": 150, "prenom": 150, "numero_rcs": 40,
        "adresse": 255, "complement_adresse": 255, "code_postal": 10, "ville": 100, "telephone": 30,
    }  # fmt: skip
    for name, limit in limits.items():
        if name in cleaned:
            label = FIELD_LABELS.get(name, name)
            cleaned[name] = _clean_text(cleaned[name], max_length=limit, field=name, label=f"le champ « {label} »")
    if cleaned.get("numero_tva"):
        cleaned["numero_tva"] = clean_vat(cleaned["numero_tva"])
    elif "numero_tva" in cleaned:
        cleaned["numero_tva"] = ""
    if cleaned.get("email"):
        cleaned["email"] = cleaned["email"].strip()
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            raise ApplicationError(
                "Saisissez une adresse électronique valide, par exemple factures@exemple.fr.", field="email"
            ) from None
    if "pays" in cleaned:
        pays = (cleaned["pays"] or "").strip().upper()
        if not (len(pays) == 2 and pays.isalpha()):
            raise ApplicationError("Le pays se saisit en code ISO à 2 lettres, par exemple FR ou BE.", field="pays")
        cleaned["pays"] = pays
    code_postal = cleaned.get("code_postal")
    if code_postal and cleaned.get("pays", "FR") == "FR" and not (len(code_postal) == 5 and code_postal.isdigit()):
        raise ApplicationError("Le code postal français comporte 5 chiffres, par exemple 69001.", field="code_postal")
    delay = cleaned.get("payment_delay_days")
    if delay is not None and not (1 <= int(delay) <= PAYMENT_DELAY_MAX_DAYS):
        raise ApplicationError(
            f"Le délai global de paiement est compris entre 1 et {PAYMENT_DELAY_MAX_DAYS} jours ; laissez le champ "
            "vide pour le délai légal (30 jours, 50 pour un établissement public de santé).",
            field="payment_delay_days",
        )
    if cleaned.get("is_moa_only"):
        cleaned["is_moa"] = True
    return cleaned


def structure_create(
    *,
    created_by,
    identifier_type: str,
    identifier: str,
    raison_sociale: str = "",
    public: bool = False,
    public_category: str = "",
    gestionnaire_principal=None,
    **fields: Any,
) -> Structure:
    """Create a structure with its default service, its default espaces and its gestionnaire principal.

    From the portal (`public=False`): a private structure whose creator becomes gestionnaire principal.
    Public structures are never self-created: only a platform administrator (`created_by.is_staff`) or
    the system (`created_by=None`, the annuaire import) may pass `public=True`; they have no
    gestionnaire principal unless `gestionnaire_principal` names one. One structure per identifier: a
    duplicate is refused with `ConflictError(code="structure_existante", extra={"structure_id": …})`
    so that the portal can offer a rattachement request instead.
    """
    if public:
        if created_by is not None:
            _require_staff(
                created_by,
                what=(
                    "créer une structure publique. Une structure publique est créée par l'administration de la "
                    "plateforme ou importée de l'annuaire : demandez sa création par une sollicitation"
                ),
            )
        if public_category and public_category not in PublicCategory.values:
            raise ApplicationError("Choisissez une catégorie d'entité publique de la liste.", field="public_category")
    elif public_category:
        raise ApplicationError(
            "Seule une structure publique a une catégorie d'entité publique.", field="public_category"
        )
    if not public and gestionnaire_principal is None:
        gestionnaire_principal = created_by
    if not public and gestionnaire_principal is None:
        raise ApplicationError("Une structure privée est créée par la personne qui en sera le gestionnaire principal.")
    if gestionnaire_principal is not None and not gestionnaire_principal.is_active:
        raise ApplicationError(
            "Le gestionnaire principal doit avoir un compte activé.", field="gestionnaire_principal"
        )
    if identifier_type not in IdentifierType.values:
        raise ApplicationError("Choisissez le type d'identifiant de la structure.", field="identifier_type")

    fields = _clean_structure_fields({"raison_sociale": raison_sociale, **fields}, is_public=public)
    if identifier_type == IdentifierType.PARTICULIER:
        if not fields.get("nom") or not fields.get("prenom"):
            raise ApplicationError(
                "Pour un particulier, saisissez le nom et le prénom.",
                field="nom" if not fields.get("nom") else "prenom",
            )
        fields["raison_sociale"] = fields["raison_sociale"] or f"{fields['prenom']} {fields['nom']}"
        value = clean_identifier(identifier_type, identifier) if (identifier or "").strip() else ""
    else:
        value = clean_identifier(identifier_type, identifier)
        if not fields.get("raison_sociale"):
            raise ApplicationError("Saisissez la raison sociale de la structure.", field="raison_sociale")
    if identifier_type == IdentifierType.UE_HORS_FRANCE and fields.get("pays", "FR") == "FR":
        # The VAT prefix says the country (Greece writes EL in VAT numbers, GR in ISO 3166).
        fields["pays"] = {"EL": "GR"}.get(value[:2], value[:2])

    with transaction.atomic():
        if not value:
            value = _particulier_identifier_new()
        existing = Structure.objects.filter(identifier_type=identifier_type, identifier=value).first()
        if existing is not None:
            raise _duplicate_error(existing)
        try:
            with transaction.atomic():
                structure = Structure.objects.create(
                    identifier_type=identifier_type,
                    identifier=value,
                    kind=StructureKind.PUBLIQUE if public else StructureKind.PRIVEE,
                    public_category=public_category if public else "",
                    **fields,
                )
        except IntegrityError:
            # Someone registered the same identifier between our check and our insert.
            raise _duplicate_error(Structure.objects.get(identifier_type=identifier_type, identifier=value)) from None
        structure_defaults_ensure(structure=structure)
        if gestionnaire_principal is not None:
            rattachement = Rattachement.objects.create(
                user=gestionnaire_principal,
                structure=structure,
                role=Role.GESTIONNAIRE_PRINCIPAL,
                status=RattachementStatus.VALIDEE,
                decided_by=created_by,
                decided_at=timezone.now(),
                message="Création de la structure",
            )
            _gestionnaire_subscriptions_ensure(rattachement)
        description = f"Création de la structure {structure.get_kind_display().lower()} « {structure.raison_sociale} »"
        if gestionnaire_principal is not None:
            description += f", gestionnaire principal : {_person(gestionnaire_principal)}"
        _record(
            structure=structure,
            by=created_by,
            action="structure.created",
            description=description,
            data={"identifiant": f"{identifier_type} {value}", "publique": public},
        )
    return structure


def _duplicate_error(existing: Structure) -> ConflictError:
    return ConflictError(
        f"Une structure est déjà inscrite avec l'identifiant {existing.get_identifier_type_display()} "
        f"« {existing.identifier} » ({existing.raison_sociale}). Une structure ne peut être inscrite qu'une fois : "
        "demandez un rattachement à cette structure, son gestionnaire validera votre demande.",
        field="identifier",
        code="structure_existante",
        extra={"structure_id": existing.pk},
    )


def structure_update(*, by, structure: Structure, **fields: Any) -> Structure:
    """Change a structure's identity, address or (public structures) recipient settings.

    For its gestionnaires. The identifier itself does not change here (a SIRET change is a new structure
    in Chorus Pro's model).
    """
    with transaction.atomic():
        structure = _lock_structure(structure)
        _require_gestionnaire(user=by, structure=structure, what="modifier la structure")
        cleaned = _clean_structure_fields(fields, is_public=structure.is_public)
        if "raison_sociale" in cleaned and not cleaned["raison_sociale"]:
            raise ApplicationError("Saisissez la raison sociale de la structure.", field="raison_sociale")
        changed = [name for name, value in cleaned.items() if getattr(structure, name) != value]
        if not changed:
            return structure
        for name in changed:
            setattr(structure, name, cleaned[name])
        structure.save(update_fields=[*changed, "updated_at"])
        labels = ", ".join(FIELD_LABELS.get(name, name) for name in changed)
        _record(
            structure=structure,
            by=by,
            action="structure.updated",
            description=f"Modification de la structure : {labels}",
            data={"champs": changed},
        )
    return structure


def gestionnaire_principal_appoint(*, by, structure: Structure, user) -> Rattachement:
    """Name the gestionnaire principal of a structure: the support's job in Chorus Pro (an imported public
    structure has none; a GP who left without handing over cannot be replaced otherwise). Staff only."""
    _require_staff(by, what="nommer un gestionnaire principal")
    if not user.is_active:
        raise ApplicationError("Le nouveau gestionnaire principal doit avoir un compte activé.", field="user")
    with transaction.atomic():
        structure = _lock_structure(structure)
        current = (
            Rattachement.objects.select_for_update()
            .filter(structure=structure, role=Role.GESTIONNAIRE_PRINCIPAL, status=RattachementStatus.VALIDEE)
            .first()
        )
        if current is not None and current.user_id == user.pk:
            raise ApplicationError(
                f"{_person(user)} est déjà le gestionnaire principal de cette structure.", field="user"
            )
        if current is not None:
            current.role = Role.GESTIONNAIRE_SECONDAIRE
            current.save(update_fields=["role"])
        rattachement = Rattachement.objects.select_for_update().filter(structure=structure, user=user).first()
        if rattachement is None:
            rattachement = Rattachement(structure=structure, user=user, message="Nomination par l'administration")
        rattachement.role = Role.GESTIONNAIRE_PRINCIPAL
        rattachement.status = RattachementStatus.VALIDEE
        rattachement.decided_by = by
        rattachement.decided_at = timezone.now()
        rattachement.save()
        _gestionnaire_subscriptions_ensure(rattachement)
        description = f"Nomination de {_person(user)} comme gestionnaire principal par l'administration"
        if current is not None:
            description += f" ; {_person(current.user)} devient gestionnaire secondaire"
        _record(structure=structure, by=by, action="role.gp_appointed", description=description, target=rattachement)
        transaction.on_commit(lambda: emails.role_changed_notify(rattachement=rattachement, by=None))
    return rattachement


# ---------------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------------


def _check_validity(valid_from: date | None, valid_until: date | None) -> None:
    if valid_from and valid_until and valid_until < valid_from:
        raise ApplicationError("La fin de validité doit être postérieure au début de validité.", field="valid_until")


def _service_values(
    *,
    libelle: str,
    description: str,
    adresse: str,
    code_postal: str,
    ville: str,
) -> dict[str, str]:
    return {
        "libelle": _clean_text(libelle, max_length=255, field="libelle", label="le libellé du service", required=True),
        "description": (description or "").strip(),
        "adresse": _clean_text(adresse, max_length=255, field="adresse", label="l'adresse"),
        "code_postal": _clean_text(code_postal, max_length=10, field="code_postal", label="le code postal"),
        "ville": _clean_text(ville, max_length=100, field="ville", label="la ville"),
    }


def service_create(
    *,
    by,
    structure: Structure,
    code: str,
    libelle: str,
    description: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
    is_active: bool = True,
    engagement_obligatoire: bool = False,
    mise_en_paiement: bool = True,
    adresse: str = "",
    code_postal: str = "",
    ville: str = "",
) -> Service:
    """Add a service (service exécutant) to a structure. Codes are unique per structure, whatever the case."""
    code = (code or "").strip().upper()
    if not code:
        raise ApplicationError("Saisissez le code du service, par exemple SERVICE_ACHATS.", field="code")
    if len(code) > 100:
        raise ApplicationError("Le code du service ne doit pas dépasser 100 caractères.", field="code")
    if not all(ch.isalnum() or ch in "_-." for ch in code):
        raise ApplicationError(
            "Le code du service ne contient que des lettres, des chiffres et les caractères _ - . (sans espace).",
            field="code",
        )
    _check_validity(valid_from, valid_until)
    values = _service_values(
        libelle=libelle, description=description, adresse=adresse, code_postal=code_postal, ville=ville
    )
    with transaction.atomic():
        structure = _lock_structure(structure)
        _require_gestionnaire(user=by, structure=structure, what="créer des services")
        if structure.services.filter(code__iexact=code).exists():
            raise ApplicationError(
                f"La structure a déjà un service de code « {code} » : "
                "choisissez un autre code ou modifiez ce service.",
                field="code",
            )
        service = Service.objects.create(
            structure=structure,
            code=code,
            valid_from=valid_from,
            valid_until=valid_until,
            is_active=is_active,
            engagement_obligatoire=engagement_obligatoire,
            mise_en_paiement=mise_en_paiement,
            **values,
        )
        _record(
            structure=structure,
            by=by,
            action="service.created",
            description=f"Création du service {service.code} « {service.libelle} »",
            target=service,
        )
    return service


def service_update(
    *,
    by,
    service: Service,
    libelle: str,
    description: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
    is_active: bool = True,
    engagement_obligatoire: bool = False,
    mise_en_paiement: bool = True,
    adresse: str = "",
    code_postal: str = "",
    ville: str = "",
) -> Service:
    """Change a service. Its code is fixed (suppliers put it on their invoices): to rename, create a new
    service and deactivate the old one. FACTURES_PUBLIQUES stays active and always valid."""
    _check_validity(valid_from, valid_until)
    values = _service_values(
        libelle=libelle, description=description, adresse=adresse, code_postal=code_postal, ville=ville
    )
    with transaction.atomic():
        _lock_structure(service.structure)
        service = Service.objects.select_for_update().get(pk=service.pk)
        _require_gestionnaire(user=by, structure=service.structure, what="modifier les services")
        if service.is_default:
            if not is_active:
                raise ApplicationError(
                    f"Le service {DEFAULT_SERVICE_CODE} ne peut pas être désactivé : c'est le service par défaut qui "
                    "reçoit les factures sans code service.",
                    field="is_active",
                )
            if valid_until or (valid_from and valid_from > timezone.localdate()):
                raise ApplicationError(
                    f"Le service {DEFAULT_SERVICE_CODE} reste toujours valide : laissez ses dates de validité vides.",
                    field="valid_until" if valid_until else "valid_from",
                )
        values.update(
            valid_from=valid_from,
            valid_until=valid_until,
            is_active=is_active,
            engagement_obligatoire=engagement_obligatoire,
            mise_en_paiement=mise_en_paiement,
        )
        changed = [name for name, value in values.items() if getattr(service, name) != value]
        if not changed:
            return service
        for name in changed:
            setattr(service, name, values[name])
        service.save(update_fields=[*changed, "updated_at"])
        labels = ", ".join(str(Service._meta.get_field(name).verbose_name) for name in changed)
        _record(
            structure=service.structure,
            by=by,
            action="service.updated",
            description=f"Modification du service {service.code} : {labels}",
            target=service,
            data={"champs": changed},
        )
    return service


def service_delete(*, by, service: Service) -> None:
    """Delete a service never used. FACTURES_PUBLIQUES cannot be deleted; a used one is deactivated instead."""
    if service.is_default:
        raise ApplicationError(f"Le service {DEFAULT_SERVICE_CODE} ne peut pas être supprimé.")
    with transaction.atomic():
        structure = _lock_structure(service.structure)
        _require_gestionnaire(user=by, structure=structure, what="supprimer des services")
        code, libelle, pk = service.code, service.libelle, service.pk
        try:
            with transaction.atomic():
                service.delete()
        except (ProtectedError, RestrictedError):
            raise ApplicationError(
                f"Le service {code} est déjà utilisé (factures, engagements…) : "
                "désactivez-le plutôt que de le supprimer."
            ) from None
        _record(
            structure=structure,
            by=by,
            action="service.deleted",
            description=f"Suppression du service {code} « {libelle} »",
            data={"service_id": pk},
        )


# ---------------------------------------------------------------------------------------------------
# Bank details
# ---------------------------------------------------------------------------------------------------


def _require_reauth(reauthenticated: bool) -> None:
    # The portal checks it with `reauth_required`; the service refuses too, so that no other entry point
    # (API, script) can change bank details on a session that merely stayed open.
    if not reauthenticated:
        raise PermissionDeniedError(
            "Confirmez votre identité (mot de passe) avant de modifier des coordonnées bancaires.",
            code="reauthentification_requise",
        )


def _bank_values(*, label: str, iban: str, bic: str, holder: str) -> dict[str, str]:
    return {
        "label": _clean_text(
            label, max_length=100, field="label", label="le nom des coordonnées bancaires", required=True
        ),
        "iban": clean_iban(iban or ""),
        "bic": clean_bic(bic or ""),
        "holder": _clean_text(holder, max_length=255, field="holder", label="le titulaire du compte", required=True),
    }


def _bank_duplicate_check(structure: Structure, iban: str, *, exclude_pk: int | None = None) -> None:
    duplicate = structure.bank_accounts.filter(iban=iban, is_active=True).exclude(pk=exclude_pk).first()
    if duplicate is not None:
        raise ApplicationError(
            f"Cet IBAN est déjà enregistré pour la structure sous le nom « {duplicate.label} ».", field="iban"
        )


def _bank_notify(account: BankAccount, *, change: str, by, previous_masked_iban: str = "") -> None:
    structure = account.structure
    _notify_gestionnaires_later(
        structure,
        lambda gestionnaires: emails.bank_account_changed_notify(
            bank_account=account,
            change=change,
            by=by,
            gestionnaires=gestionnaires,
            previous_masked_iban=previous_masked_iban,
        ),
    )


def bank_account_create(
    *, by, structure: Structure, label: str, iban: str, bic: str, holder: str, reauthenticated: bool
) -> BankAccount:
    """Add bank details. Needs a fresh re-authentication; every gestionnaire is told by e-mail."""
    _require_reauth(reauthenticated)
    values = _bank_values(label=label, iban=iban, bic=bic, holder=holder)
    with transaction.atomic():
        structure = _lock_structure(structure)
        _require_gestionnaire(user=by, structure=structure, what="gérer les coordonnées bancaires")
        _bank_duplicate_check(structure, values["iban"])
        account = BankAccount.objects.create(structure=structure, **values)
        _record(
            structure=structure,
            by=by,
            action="bank_account.created",
            description=f"Ajout des coordonnées bancaires « {account.label} » ({account.masked_iban})",
            target=account,
            data={"iban_masque": account.masked_iban, "bic": account.bic},
        )
        _bank_notify(account, change="ajoutée", by=by)
    return account


def bank_account_update(
    *, by, bank_account: BankAccount, label: str, iban: str, bic: str, holder: str, reauthenticated: bool
) -> BankAccount:
    """Change bank details. Needs a fresh re-authentication; every gestionnaire is told by e-mail."""
    _require_reauth(reauthenticated)
    values = _bank_values(label=label, iban=iban, bic=bic, holder=holder)
    with transaction.atomic():
        structure = _lock_structure(bank_account.structure)
        account = BankAccount.objects.select_for_update().get(pk=bank_account.pk)
        _require_gestionnaire(user=by, structure=structure, what="gérer les coordonnées bancaires")
        if account.is_active:
            _bank_duplicate_check(structure, values["iban"], exclude_pk=account.pk)
        changed = [name for name, value in values.items() if getattr(account, name) != value]
        if not changed:
            return account
        previous = account.masked_iban
        for name in changed:
            setattr(account, name, values[name])
        account.save(update_fields=[*changed, "updated_at"])
        _record(
            structure=structure,
            by=by,
            action="bank_account.updated",
            description=(
                f"Modification des coordonnées bancaires « {account.label} » ({previous} → {account.masked_iban})"
            ),
            target=account,
            data={"champs": changed, "iban_masque": account.masked_iban, "ancien_iban_masque": previous},
        )
        _bank_notify(account, change="modifiée", by=by, previous_masked_iban=previous)
    return account


def _bank_account_set_active(*, by, bank_account: BankAccount, active: bool, reauthenticated: bool) -> BankAccount:
    _require_reauth(reauthenticated)
    with transaction.atomic():
        structure = _lock_structure(bank_account.structure)
        account = BankAccount.objects.select_for_update().get(pk=bank_account.pk)
        _require_gestionnaire(user=by, structure=structure, what="gérer les coordonnées bancaires")
        if account.is_active == active:
            state = "actives" if active else "désactivées"
            raise ApplicationError(f"Les coordonnées bancaires « {account.label} » sont déjà {state}.")
        if active:
            _bank_duplicate_check(structure, account.iban, exclude_pk=account.pk)
        account.is_active = active
        account.save(update_fields=["is_active", "updated_at"])
        verb = "Réactivation" if active else "Désactivation"
        _record(
            structure=structure,
            by=by,
            action="bank_account.reactivated" if active else "bank_account.deactivated",
            description=f"{verb} des coordonnées bancaires « {account.label} » ({account.masked_iban})",
            target=account,
            data={"iban_masque": account.masked_iban},
        )
        _bank_notify(account, change="réactivée" if active else "désactivée", by=by)
    return account


def bank_account_deactivate(*, by, bank_account: BankAccount, reauthenticated: bool) -> BankAccount:
    """Deactivate bank details (kept for the invoices that used them). Re-authentication, e-mails, history."""
    return _bank_account_set_active(by=by, bank_account=bank_account, active=False, reauthenticated=reauthenticated)


def bank_account_reactivate(*, by, bank_account: BankAccount, reauthenticated: bool) -> BankAccount:
    """Reactivate bank details: as sensitive as adding them (same re-authentication and e-mails)."""
    return _bank_account_set_active(by=by, bank_account=bank_account, active=True, reauthenticated=reauthenticated)


# ---------------------------------------------------------------------------------------------------
# Rattachements
# ---------------------------------------------------------------------------------------------------


def rattachement_request(
    *, user, structure: Structure, services: Iterable[Service | int] = (), message: str = ""
) -> Rattachement:
    """Ask to be attached to a structure (optionally to some of its services). A gestionnaire decides;
    the gestionnaires are told by e-mail. A refused or deactivated rattachement may be asked again."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDeniedError("Connectez-vous avec un compte activé pour demander un rattachement.")
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.", field="message")
    with transaction.atomic():
        structure = _lock_structure(structure)
        if not structure.is_active:
            raise ApplicationError(
                f"La structure « {structure.designation} » est inactive : aucun rattachement n'y est possible.",
                code="structure_inactive",
            )
        service_ids = {s.pk if isinstance(s, Service) else int(s) for s in services}
        chosen = list(structure.services.active().filter(pk__in=service_ids))
        if len(chosen) != len(service_ids):
            raise ApplicationError(
                "Un des services choisis n'existe pas ou n'est plus actif pour cette structure : "
                "choisissez dans la liste.",
                field="services",
            )
        rattachement = Rattachement.objects.select_for_update().filter(user=user, structure=structure).first()
        if rattachement is not None:
            if rattachement.status == RattachementStatus.EN_COURS_DE_VALIDATION:
                raise ConflictError(
                    f"Votre demande de rattachement à « {structure.designation} » est déjà en cours de validation : "
                    "un gestionnaire de la structure va la traiter. Inutile d'en déposer une autre.",
                    code="rattachement_en_cours",
                )
            if rattachement.status == RattachementStatus.VALIDEE:
                raise ConflictError(
                    f"Vous êtes déjà rattaché à la structure « {structure.designation} ».",
                    code="deja_rattache",
                )
            # Refused or deactivated earlier: the same row becomes a new request, without its former rights.
            rattachement.subscriptions.all().delete()
        else:
            rattachement = Rattachement(user=user, structure=structure)
        rattachement.role = Role.UTILISATEUR_SIMPLE
        rattachement.status = RattachementStatus.EN_COURS_DE_VALIDATION
        rattachement.message = message
        rattachement.decision_comment = ""
        rattachement.decided_by = None
        rattachement.decided_at = None
        rattachement.created_at = timezone.now()
        try:
            with transaction.atomic():
                rattachement.save()
        except IntegrityError:
            raise ConflictError(
                f"Votre demande de rattachement à « {structure.designation} » est déjà enregistrée.",
                code="rattachement_en_cours",
            ) from None
        rattachement.services.set(chosen)
        audit_log(
            action="directory.rattachement.requested",
            actor=user,
            structure_id=structure.pk,
            target=rattachement,
            data={"services": [s.code for s in chosen]},
        )
        _notify_gestionnaires_later(
            structure,
            lambda gestionnaires: emails.rattachement_requested_notify(
                rattachement=rattachement, gestionnaires=gestionnaires
            ),
        )
    return rattachement


def _lock_pending_rattachement(*, by, rattachement: Rattachement) -> Rattachement:
    _lock_structure(rattachement.structure)
    rattachement = Rattachement.objects.select_for_update().select_related("user", "structure").get(pk=rattachement.pk)
    _require_gestionnaire(user=by, structure=rattachement.structure, what="traiter les demandes de rattachement")
    if rattachement.status != RattachementStatus.EN_COURS_DE_VALIDATION:
        raise ConflictError(
            f"La demande de {_person(rattachement.user)} a déjà été traitée "
            f"(statut : {rattachement.get_status_display().lower()}).",
            code="deja_traitee",
        )
    return rattachement


def rattachement_validate(*, by, rattachement: Rattachement) -> Rattachement:
    """Accept a rattachement request: the requester becomes a utilisateur simple of the structure,
    subscribed to the sollicitation espaces, and is told by e-mail."""
    with transaction.atomic():
        rattachement = _lock_pending_rattachement(by=by, rattachement=rattachement)
        rattachement.status = RattachementStatus.VALIDEE
        rattachement.role = Role.UTILISATEUR_SIMPLE
        rattachement.decided_by = by
        rattachement.decided_at = timezone.now()
        rattachement.decision_comment = ""
        rattachement.save(update_fields=["status", "role", "decided_by", "decided_at", "decision_comment"])
        _everyone_subscriptions_ensure(rattachement)
        _record(
            structure=rattachement.structure,
            by=by,
            action="rattachement.validated",
            description=f"Validation du rattachement de {_person(rattachement.user)}",
            target=rattachement,
        )
        transaction.on_commit(lambda: emails.rattachement_decided_notify(rattachement=rattachement))
    return rattachement


def _refusal_comment(comment: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(
            "Indiquez le motif du refus : il est envoyé au demandeur pour qu'il sache quoi faire.", field="comment"
        )
    if len(comment) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(f"Le motif ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.", field="comment")
    return comment


def rattachement_refuse(*, by, rattachement: Rattachement, comment: str) -> Rattachement:
    """Refuse a rattachement request. The reason is mandatory: it is sent to the requester."""
    comment = _refusal_comment(comment)
    with transaction.atomic():
        rattachement = _lock_pending_rattachement(by=by, rattachement=rattachement)
        rattachement.status = RattachementStatus.REFUSEE
        rattachement.decided_by = by
        rattachement.decided_at = timezone.now()
        rattachement.decision_comment = comment
        rattachement.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
        _record(
            structure=rattachement.structure,
            by=by,
            action="rattachement.refused",
            description=f"Refus du rattachement de {_person(rattachement.user)} : {comment}",
            target=rattachement,
        )
        transaction.on_commit(lambda: emails.rattachement_decided_notify(rattachement=rattachement))
    return rattachement


@dataclass
class BulkResult:
    """Outcome of a bulk decision: what was done, and a French line per item that could not be."""

    done: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.done)


def _bulk_apply(result: BulkResult, ids: list[int], found: dict, decide, *, requester) -> None:
    """Apply `decide` to each request in its own savepoint: one failure never undoes the others."""
    for pk in ids:
        item = found.get(pk)
        if item is None:
            result.errors.append(f"Demande n°{pk} : introuvable parmi les structures que vous gérez.")
            continue
        try:
            with transaction.atomic():
                decided = decide(item)
        except ApplicationError as exc:
            result.errors.append(f"{_person(requester(item))} : {exc.message}")
        else:
            result.done.append(decided)


def rattachements_decide(*, by, rattachement_ids: Iterable[int], approve: bool, comment: str = "") -> BulkResult:
    """Validate or refuse several requests at once (« en masse »). Each one succeeds or fails on its own;
    requests outside the structures `by` manages are reported as not found."""
    if not approve:
        comment = _refusal_comment(comment)
    ids = sorted({int(i) for i in rattachement_ids})
    if not ids:
        raise ApplicationError("Cochez au moins une demande de rattachement.", field="ids")
    result = BulkResult()
    with transaction.atomic():
        found = {
            r.pk: r
            for r in Rattachement.objects.filter(
                pk__in=ids, structure__in=Structure.objects.managed_by(by)
            ).select_related("user", "structure")
        }
        _bulk_apply(
            result,
            ids,
            found,
            lambda r: (
                rattachement_validate(by=by, rattachement=r)
                if approve
                else rattachement_refuse(by=by, rattachement=r, comment=comment)
            ),
            requester=lambda r: r.user,
        )
    return result


def rattachement_deactivate(*, by, rattachement: Rattachement) -> Rattachement:
    """End a user's rattachement (a gestionnaire's decision). The gestionnaire principal's own rattachement
    cannot end this way: the role must be transferred first, so that the structure always has one."""
    with transaction.atomic():
        _lock_structure(rattachement.structure)
        rattachement = (
            Rattachement.objects.select_for_update().select_related("user", "structure").get(pk=rattachement.pk)
        )
        _require_gestionnaire(user=by, structure=rattachement.structure, what="désactiver des rattachements")
        if rattachement.status != RattachementStatus.VALIDEE:
            raise ApplicationError(
                "Seul un rattachement validé peut être désactivé ; une demande en cours se refuse.",
                code="non_valide",
            )
        if rattachement.role == Role.GESTIONNAIRE_PRINCIPAL:
            raise ApplicationError(
                "Le rattachement du gestionnaire principal ne peut pas être désactivé : il doit d'abord transférer "
                "son rôle à un autre utilisateur de la structure.",
                code="gestionnaire_principal",
            )
        if rattachement.user_id == by.pk:
            raise ApplicationError(
                "Vous ne pouvez pas désactiver votre propre rattachement : demandez-le à un autre gestionnaire."
            )
        rattachement.status = RattachementStatus.DESACTIVEE
        rattachement.role = Role.UTILISATEUR_SIMPLE
        rattachement.decided_by = by
        rattachement.decided_at = timezone.now()
        rattachement.save(update_fields=["status", "role", "decided_by", "decided_at"])
        # Rights end with the rattachement; a new request starts from nothing.
        rattachement.subscriptions.all().delete()
        _record(
            structure=rattachement.structure,
            by=by,
            action="rattachement.deactivated",
            description=f"Désactivation du rattachement de {_person(rattachement.user)}",
            target=rattachement,
        )
        transaction.on_commit(lambda: emails.rattachement_deactivated_notify(rattachement=rattachement, by=by))
    return rattachement


# ---------------------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------------------


def rattachement_set_role(*, by, rattachement: Rattachement, role: str) -> Rattachement:
    """Promote a validated user to gestionnaire secondaire, or make a gestionnaire secondaire a utilisateur
    simple again. The gestionnaire principal role only moves by `gestionnaire_principal_transfer`."""
    if role not in (Role.GESTIONNAIRE_SECONDAIRE, Role.UTILISATEUR_SIMPLE):
        raise ApplicationError(
            "Le rôle de gestionnaire principal se transfère ; "
            "choisissez gestionnaire secondaire ou utilisateur simple.",
            field="role",
        )
    with transaction.atomic():
        _lock_structure(rattachement.structure)
        rattachement = (
            Rattachement.objects.select_for_update().select_related("user", "structure").get(pk=rattachement.pk)
        )
        _require_gestionnaire(user=by, structure=rattachement.structure, what="modifier les rôles")
        if rattachement.status != RattachementStatus.VALIDEE:
            raise ApplicationError("Validez d'abord le rattachement de cette personne.", code="non_valide")
        if rattachement.role == Role.GESTIONNAIRE_PRINCIPAL:
            raise ApplicationError(
                "Le gestionnaire principal change par un transfert de rôle, "
                "fait par le gestionnaire principal lui-même.",
                code="gestionnaire_principal",
            )
        if rattachement.user_id == by.pk:
            raise ApplicationError(
                "Vous ne pouvez pas modifier votre propre rôle : demandez-le à un autre gestionnaire."
            )
        if rattachement.role == role:
            raise ApplicationError(f"{_person(rattachement.user)} est déjà {Role(role).label.lower()}.")
        if not rattachement.user.is_active:
            raise ApplicationError("Ce compte n'est pas activé : il ne peut pas devenir gestionnaire.")
        rattachement.role = role
        rattachement.save(update_fields=["role"])
        if role == Role.GESTIONNAIRE_SECONDAIRE:
            _gestionnaire_subscriptions_ensure(rattachement)
            description = f"{_person(rattachement.user)} devient gestionnaire secondaire"
        else:
            description = f"{_person(rattachement.user)} redevient utilisateur simple"
        _record(
            structure=rattachement.structure,
            by=by,
            action="role.changed",
            description=description,
            target=rattachement,
            data={"role": role},
        )
        transaction.on_commit(lambda: emails.role_changed_notify(rattachement=rattachement, by=by))
    return rattachement


def gestionnaire_principal_transfer(*, by, structure: Structure, to_user) -> Rattachement:
    """Hand the gestionnaire principal role to another validated user of the structure; the former GP
    stays as gestionnaire secondaire. Only the GP can do it. Both are told by e-mail."""
    with transaction.atomic():
        structure = _lock_structure(structure)
        current = _require_gestionnaire(
            user=by, structure=structure, what="transférer le rôle de gestionnaire principal", principal_only=True
        )
        current = Rattachement.objects.select_for_update().get(pk=current.pk)
        if to_user.pk == by.pk:
            raise ApplicationError("Choisissez un autre utilisateur que vous-même.", field="to_user")
        target = (
            Rattachement.objects.select_for_update()
            .select_related("user", "structure")
            .filter(structure=structure, user=to_user)
            .first()
        )
        if target is None or target.status != RattachementStatus.VALIDEE:
            raise ApplicationError(
                f"{_person(to_user)} n'a pas de rattachement validé à la structure : "
                "validez d'abord son rattachement.",
                field="to_user",
            )
        if not to_user.is_active:
            raise ApplicationError("Le nouveau gestionnaire principal doit avoir un compte activé.", field="to_user")
        # Demote first: the database allows only one validated gestionnaire principal per structure.
        current.role = Role.GESTIONNAIRE_SECONDAIRE
        current.save(update_fields=["role"])
        target.role = Role.GESTIONNAIRE_PRINCIPAL
        target.save(update_fields=["role"])
        _gestionnaire_subscriptions_ensure(target)
        _record(
            structure=structure,
            by=by,
            action="role.gp_transferred",
            description=(
                f"Transfert du rôle de gestionnaire principal de {_person(by)} à {_person(to_user)} ; "
                f"{_person(by)} devient gestionnaire secondaire"
            ),
            target=target,
        )
        transaction.on_commit(lambda: emails.role_changed_notify(rattachement=target, by=by))
        transaction.on_commit(lambda: emails.role_changed_notify(rattachement=current, by=by))
    return target


# ---------------------------------------------------------------------------------------------------
# Espaces and abonnements
# ---------------------------------------------------------------------------------------------------


def _espace_label(code: str) -> str:
    if code not in EspaceCode.values:
        raise ApplicationError("Espace inconnu : choisissez un espace de la liste.", field="code")
    return EspaceCode(code).label


def espace_open(*, by, structure: Structure, code: str) -> StructureEspace:
    """Open an espace on the structure. Gestionnaires get it in MODIFICATION at once; for the
    sollicitation espaces, every validated user too."""
    label = _espace_label(code)
    with transaction.atomic():
        structure = _lock_structure(structure)
        _require_gestionnaire(user=by, structure=structure, what="ouvrir des espaces")
        espace, created = StructureEspace.objects.select_for_update().get_or_create(structure=structure, code=code)
        if not created:
            if espace.is_open:
                raise ApplicationError(f"L'espace « {label} » est déjà ouvert.", field="code")
            espace.is_open = True
            espace.opened_at = timezone.now()
            espace.save(update_fields=["is_open", "opened_at"])
        for rattachement in Rattachement.objects.validated().filter(structure=structure):
            if rattachement.role in GESTIONNAIRE_ROLES:
                _gestionnaire_subscriptions_ensure(rattachement)
            elif code in ESPACES_FOR_EVERY_USER:
                _everyone_subscriptions_ensure(rattachement)
        _record(
            structure=structure,
            by=by,
            action="espace.opened",
            description=f"Ouverture de l'espace « {label} »",
            target=espace,
        )
    return espace


def espace_close(*, by, structure: Structure, code: str) -> StructureEspace:
    """Close an espace: nobody works in it any more (abonnements are kept for a reopening)."""
    label = _espace_label(code)
    with transaction.atomic():
        structure = _lock_structure(structure)
        _require_gestionnaire(user=by, structure=structure, what="fermer des espaces")
        espace = StructureEspace.objects.select_for_update().filter(structure=structure, code=code).first()
        if espace is None or not espace.is_open:
            raise ApplicationError(f"L'espace « {label} » n'est pas ouvert.", field="code")
        if structure.is_public and code == EspaceCode.FACTURES_RECUES:
            raise ApplicationError(
                "Une structure publique reçoit des factures : son espace « Factures reçues » reste ouvert.",
                field="code",
            )
        espace.is_open = False
        espace.save(update_fields=["is_open"])
        _record(
            structure=structure,
            by=by,
            action="espace.closed",
            description=f"Fermeture de l'espace « {label} »",
            target=espace,
        )
    return espace


def subscription_request(*, user, structure: Structure, code: str, habilitation: str) -> EspaceSubscription:
    """Ask for an abonnement to an open espace, in CONSULTATION_UNIQUEMENT or MODIFICATION.
    A gestionnaire of the structure validates it."""
    label = _espace_label(code)
    if habilitation not in Habilitation.values:
        raise ApplicationError(
            "Choisissez l'habilitation : consultation uniquement ou modification.", field="habilitation"
        )
    with transaction.atomic():
        structure = _lock_structure(structure)
        rattachement = Rattachement.objects.select_for_update().filter(user=user, structure=structure).first()
        if rattachement is None or rattachement.status not in (
            RattachementStatus.VALIDEE,
            RattachementStatus.EN_COURS_DE_VALIDATION,
        ):
            raise NotFoundError(
                "Structure introuvable : elle n'existe pas ou votre compte n'y est pas rattaché.",
                code="structure_introuvable",
            )
        if rattachement.status != RattachementStatus.VALIDEE:
            raise ApplicationError(
                f"Votre rattachement à « {structure.designation} » n'est pas encore validé : vous pourrez demander "
                "un abonnement aux espaces une fois qu'un gestionnaire l'aura validé.",
                code="rattachement_en_cours",
            )
        if rattachement.role in GESTIONNAIRE_ROLES:
            raise ApplicationError(
                "Vous êtes gestionnaire de la structure : vous avez déjà accès en modification à tous ses espaces "
                "ouverts.",
                code="gestionnaire",
            )
        espace = StructureEspace.objects.filter(structure=structure, code=code, is_open=True).first()
        if espace is None:
            raise ApplicationError(
                f"L'espace « {label} » n'est pas ouvert sur la structure : demandez à un gestionnaire de l'ouvrir.",
                field="code",
            )
        subscription = (
            EspaceSubscription.objects.select_for_update().filter(rattachement=rattachement, espace=espace).first()
        )
        if subscription is not None and subscription.status == SubscriptionStatus.EN_COURS_DE_VALIDATION:
            raise ConflictError(
                f"Votre demande d'abonnement à l'espace « {label} » est déjà en cours de validation.",
                code="abonnement_en_cours",
            )
        if subscription is not None and subscription.status == SubscriptionStatus.VALIDEE:
            current = subscription.get_habilitation_display().lower()
            raise ConflictError(
                f"Vous êtes déjà abonné à l'espace « {label} » ({current}). Pour changer d'habilitation, "
                "demandez-le à un gestionnaire de la structure : il modifie vos droits directement.",
                code="deja_abonne",
            )
        if subscription is None:
            subscription = EspaceSubscription(rattachement=rattachement, espace=espace)
        subscription.habilitation = habilitation
        subscription.status = SubscriptionStatus.EN_COURS_DE_VALIDATION
        subscription.decided_by = None
        subscription.decided_at = None
        subscription.decision_comment = ""
        subscription.created_at = timezone.now()
        subscription.save()
        audit_log(
            action="directory.subscription.requested",
            actor=user,
            structure_id=structure.pk,
            target=subscription,
            data={"espace": code, "habilitation": habilitation},
        )
        _notify_gestionnaires_later(
            structure,
            lambda gestionnaires: emails.subscription_requested_notify(
                subscription=subscription, gestionnaires=gestionnaires
            ),
        )
    return subscription


def _lock_pending_subscription(*, by, subscription: EspaceSubscription) -> EspaceSubscription:
    structure = subscription.espace.structure
    _lock_structure(structure)
    subscription = (
        EspaceSubscription.objects.select_for_update()
        .select_related("rattachement__user", "espace__structure")
        .get(pk=subscription.pk)
    )
    _require_gestionnaire(user=by, structure=structure, what="traiter les demandes d'abonnement")
    if subscription.status != SubscriptionStatus.EN_COURS_DE_VALIDATION:
        raise ConflictError("Cette demande d'abonnement a déjà été traitée.", code="deja_traitee")
    if subscription.rattachement.status != RattachementStatus.VALIDEE:
        raise ConflictError("Le rattachement de cette personne n'est plus valide.", code="non_valide")
    return subscription


def subscription_validate(*, by, subscription: EspaceSubscription) -> EspaceSubscription:
    with transaction.atomic():
        subscription = _lock_pending_subscription(by=by, subscription=subscription)
        subscription.status = SubscriptionStatus.VALIDEE
        subscription.decided_by = by
        subscription.decided_at = timezone.now()
        subscription.save(update_fields=["status", "decided_by", "decided_at"])
        _record(
            structure=subscription.espace.structure,
            by=by,
            action="subscription.validated",
            description=(
                f"Validation de l'abonnement de {_person(subscription.rattachement.user)} à l'espace "
                f"« {subscription.espace.get_code_display()} » ({subscription.get_habilitation_display().lower()})"
            ),
            target=subscription,
        )
        transaction.on_commit(lambda: emails.subscription_decided_notify(subscription=subscription))
    return subscription


def subscription_refuse(*, by, subscription: EspaceSubscription, comment: str = "") -> EspaceSubscription:
    comment = (comment or "").strip()[:MESSAGE_MAX_LENGTH]
    with transaction.atomic():
        subscription = _lock_pending_subscription(by=by, subscription=subscription)
        subscription.status = SubscriptionStatus.REFUSEE
        subscription.decided_by = by
        subscription.decided_at = timezone.now()
        subscription.decision_comment = comment
        subscription.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
        _record(
            structure=subscription.espace.structure,
            by=by,
            action="subscription.refused",
            description=(
                f"Refus de l'abonnement de {_person(subscription.rattachement.user)} à l'espace "
                f"« {subscription.espace.get_code_display()} »" + (f" : {comment}" if comment else "")
            ),
            target=subscription,
        )
        transaction.on_commit(lambda: emails.subscription_decided_notify(subscription=subscription))
    return subscription


def subscriptions_decide(*, by, subscription_ids: Iterable[int], approve: bool, comment: str = "") -> BulkResult:
    """Validate or refuse several abonnement requests at once; each succeeds or fails on its own."""
    ids = sorted({int(i) for i in subscription_ids})
    if not ids:
        raise ApplicationError("Cochez au moins une demande d'abonnement.", field="ids")
    result = BulkResult()
    with transaction.atomic():
        found = {
            s.pk: s
            for s in EspaceSubscription.objects.filter(
                pk__in=ids, espace__structure__in=Structure.objects.managed_by(by)
            ).select_related("rattachement__user", "espace__structure")
        }
        _bulk_apply(
            result,
            ids,
            found,
            lambda s: (
                subscription_validate(by=by, subscription=s)
                if approve
                else subscription_refuse(by=by, subscription=s, comment=comment)
            ),
            requester=lambda s: s.rattachement.user,
        )
    return result


def rattachement_rights_set(*, by, rattachement: Rattachement, rights: dict[str, str | None]) -> list[str]:
    """Set a user's rights directly, espace by espace (`None`: no abonnement). For gestionnaires, on a
    utilisateur simple (gestionnaires have every espace). Pending requests on those espaces are settled
    by the choice. Returns the French list of changes."""
    with transaction.atomic():
        _lock_structure(rattachement.structure)
        rattachement = (
            Rattachement.objects.select_for_update().select_related("user", "structure").get(pk=rattachement.pk)
        )
        structure = rattachement.structure
        _require_gestionnaire(user=by, structure=structure, what="modifier les droits des utilisateurs")
        if rattachement.status != RattachementStatus.VALIDEE:
            raise ApplicationError("Validez d'abord le rattachement de cette personne.", code="non_valide")
        if rattachement.role in GESTIONNAIRE_ROLES:
            raise ApplicationError(
                "Un gestionnaire a accès en modification à tous les espaces ouverts : ses droits ne se règlent pas "
                "espace par espace.",
                code="gestionnaire",
            )
        espaces = {e.code: e for e in StructureEspace.objects.filter(structure=structure, is_open=True)}
        existing = {s.espace.code: s for s in rattachement.subscriptions.select_related("espace")}
        changes: list[str] = []
        for code, habilitation in rights.items():
            label = _espace_label(code)
            if code not in espaces:
                raise ApplicationError(f"L'espace « {label} » n'est pas ouvert sur la structure.", field=code)
            if habilitation is not None and habilitation not in Habilitation.values:
                raise ApplicationError("Choisissez une habilitation de la liste.", field=code)
            subscription = existing.get(code)
            active = subscription is not None and subscription.status == SubscriptionStatus.VALIDEE
            if habilitation is None:
                if subscription is not None and subscription.status != SubscriptionStatus.REFUSEE:
                    subscription.delete()
                    changes.append(f"{label} : aucun accès")
                continue
            if active and subscription.habilitation == habilitation:
                continue
            if subscription is None:
                subscription = EspaceSubscription(rattachement=rattachement, espace=espaces[code])
            subscription.habilitation = habilitation
            subscription.status = SubscriptionStatus.VALIDEE
            subscription.decided_by = by
            subscription.decided_at = timezone.now()
            subscription.save()
            changes.append(f"{label} : {Habilitation(habilitation).label.lower()}")
        if changes:
            _record(
                structure=structure,
                by=by,
                action="rights.changed",
                description=f"Droits de {_person(rattachement.user)} : " + " ; ".join(changes),
                target=rattachement,
                data={"droits": {code: value for code, value in rights.items()}},
            )
    return changes
