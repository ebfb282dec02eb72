"""Platform requests made by sollicitation to support (chorus-pro.md §9): creation of a public structure and
appointment of a new gestionnaire principal. The sender fills the fields the support needs; an administrator
processes the request from the sollicitation's page, which creates the structure in the annuaire (or names
the gestionnaire) and answers the sollicitation in the same transaction."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.directory.enums import IdentifierType, PublicCategory
from choeur.directory.identifiers import clean_identifier
from choeur.directory.models import Structure
from choeur.directory.services import gestionnaire_principal_appoint, structure_create

CREATE_STRUCTURE = "CREATION_STRUCTURE_PUBLIQUE"
NEW_GESTIONNAIRE = "NOUVEAU_GESTIONNAIRE"
REQUEST_KINDS = (CREATE_STRUCTURE, NEW_GESTIONNAIRE)

# (field, label, required, max length) of a structure-creation request, in the form's order.
STRUCTURE_FIELDS = (
    ("siret", "SIRET", True, 14),
    ("raison_sociale", "Raison sociale", True, 255),
    ("adresse", "Adresse", True, 255),
    ("code_postal", "Code postal", True, 10),
    ("ville", "Ville", True, 100),
    ("email", "Adresse électronique de la structure", False, 254),
    ("public_category", "Catégorie d'entité publique", False, 30),
)
GESTIONNAIRE_FIELDS = (("gestionnaire_email", "Adresse électronique du nouveau gestionnaire principal", True, 254),)


def request_kind(subcategory) -> str:
    """The kind of platform request a sous-catégorie opens ("" for an ordinary question)."""
    if subcategory.category.code == "COMPTE" and subcategory.code in REQUEST_KINDS:
        return subcategory.code
    return ""


def _clean_email(value: str, *, field: str, label: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise ApplicationError(
            f"{label} : saisissez une adresse valide, par exemple nom@exemple.fr.", field=field
        ) from None
    return value


def platform_request_clean(*, subcategory, data: dict, about: Structure | None) -> dict:
    """The request's fields checked (French message on the field at fault), or {} for an ordinary question."""
    kind = request_kind(subcategory)
    if not kind:
        return {}
    fields = STRUCTURE_FIELDS if kind == CREATE_STRUCTURE else GESTIONNAIRE_FIELDS
    cleaned = {}
    for name, label, required, limit in fields:
        value = str(data.get(name) or "").strip()
        if required and not value:
            raise ApplicationError(f"{label} : ce champ est obligatoire pour cette demande.", field=name)
        if len(value) > limit:
            raise ApplicationError(f"{label} : {limit} caractères au plus.", field=name)
        cleaned[name] = value
    if kind == CREATE_STRUCTURE:
        cleaned["siret"] = clean_identifier(IdentifierType.SIRET, cleaned["siret"])
        if not (len(cleaned["code_postal"]) == 5 and cleaned["code_postal"].isdigit()):
            raise ApplicationError("Code postal : 5 chiffres, par exemple 69001.", field="code_postal")
        if cleaned["email"]:
            _clean_email(cleaned["email"], field="email", label="Adresse électronique de la structure")
        if cleaned["public_category"] and cleaned["public_category"] not in PublicCategory.values:
            raise ApplicationError(
                "Catégorie d'entité publique : choisissez-la dans la liste.", field="public_category"
            )
        existing = Structure.objects.filter(identifier_type=IdentifierType.SIRET, identifier=cleaned["siret"]).first()
        if existing is not None:
            raise ApplicationError(
                f"SIRET : la structure {existing.designation} est déjà inscrite avec ce SIRET ; "
                "demandez-y un rattachement plutôt que sa création.",
                field="siret",
            )
    else:
        if about is None:
            raise ApplicationError(
                "Structure concernée : choisissez la structure dont le gestionnaire principal change.",
                field="about_structure",
            )
        _clean_email(cleaned["gestionnaire_email"], field="gestionnaire_email", label=GESTIONNAIRE_FIELDS[0][1])
    cleaned["kind"] = kind
    return cleaned


def platform_request_pending(sollicitation) -> bool:
    return bool(sollicitation.request_data.get("kind")) and sollicitation.processed_at is None


def sollicitation_process_request(*, sollicitation, by, comment: str = "", expected_status: str | None = None):
    """Carry out a platform request (staff only): create the public structure or appoint the gestionnaire,
    then answer the sollicitation with what was done. Everything in one transaction."""
    from choeur.sollicitations.services import sollicitation_act

    if not getattr(by, "is_staff", False):
        raise PermissionDeniedError("Seule l'administration de la plateforme traite les demandes de la plateforme.")
    if not platform_request_pending(sollicitation):
        raise ApplicationError("Cette sollicitation n'est pas une demande à traiter, ou elle a déjà été traitée.")
    data = sollicitation.request_data
    with transaction.atomic():
        if data["kind"] == CREATE_STRUCTURE:
            structure = structure_create(
                created_by=by,
                identifier_type=IdentifierType.SIRET,
                identifier=data["siret"],
                raison_sociale=data["raison_sociale"],
                public=True,
                public_category=data.get("public_category", ""),
                adresse=data["adresse"],
                code_postal=data["code_postal"],
                ville=data["ville"],
                email=data.get("email", ""),
            )
            done = (
                f"La structure publique {structure.designation} (SIRET {structure.identifier}) est créée : "
                "elle figure dans l'annuaire."
            )
        else:
            structure = sollicitation.about_structure
            user = get_user_model().objects.filter(email__iexact=data["gestionnaire_email"], is_active=True).first()
            if user is None:
                raise ApplicationError(
                    f"Aucun compte activé n'a l'adresse {data['gestionnaire_email']} : la personne doit d'abord "
                    "créer son compte et l'activer.",
                    field="gestionnaire_email",
                )
            gestionnaire_principal_appoint(by=by, structure=structure, user=user)
            done = f"{user.email} est nommé(e) gestionnaire principal de {structure.designation}."
        type(sollicitation).objects.filter(pk=sollicitation.pk).update(
            processed_at=timezone.now(), about_structure=structure
        )
        body = done if not comment.strip() else f"{done}\n\n{comment.strip()}"
        return sollicitation_act(
            sollicitation=sollicitation, action="repondre", by=by, body=body, expected_status=expected_status
        )
