"""Identifier checks (python-stdnum), with French messages that say what to fix."""

from stdnum import iban as stdnum_iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from choeur.core.errors import ApplicationError
from choeur.directory.enums import IdentifierType

BIC_LENGTHS = (8, 11)


def _explain(exc: ValidationError, what: str, expected: str) -> str:
    if isinstance(exc, InvalidLength):
        return f"{what} n'a pas la bonne longueur : {expected}."
    if isinstance(exc, InvalidFormat):
        return f"{what} contient des caractères non autorisés : {expected}."
    if isinstance(exc, InvalidChecksum):
        return f"{what} est invalide : la clé de contrôle ne correspond pas. Vérifiez chaque chiffre."
    return f"{what} est invalide : {expected}."


def clean_siret(value: str) -> str:
    try:
        return stdnum_siret.validate(value)
    except ValidationError as exc:
        raise ApplicationError(_explain(exc, "Le SIRET", "14 chiffres"), field="identifier") from None


def clean_siren(value: str) -> str:
    try:
        return stdnum_siren.validate(value)
    except ValidationError as exc:
        raise ApplicationError(_explain(exc, "Le SIREN", "9 chiffres"), field="siren") from None


def clean_vat(value: str, *, field: str = "numero_tva") -> str:
    try:
        return eu_vat.validate(value)
    except ValidationError as exc:
        raise ApplicationError(
            _explain(exc, "Le numéro de TVA intracommunautaire", "préfixe pays puis numéro, par ex. FR40303265045"),
            field=field,
        ) from None


def clean_iban(value: str) -> str:
    try:
        return stdnum_iban.validate(value)
    except ValidationError as exc:
        raise ApplicationError(
            _explain(exc, "L'IBAN", "2 lettres de pays, 2 chiffres de clé puis le numéro de compte"), field="iban"
        ) from None


def clean_bic(value: str) -> str:
    bic = "".join(value.split()).upper()
    if len(bic) not in BIC_LENGTHS:
        raise ApplicationError("Le BIC doit comporter 8 ou 11 caractères.", field="bic")
    if not (bic[:4].isalpha() and bic[4:6].isalpha() and bic[6:].isalnum()):
        raise ApplicationError(
            "Le BIC est mal formé : 4 lettres (banque), 2 lettres (pays), puis 2 ou 5 lettres ou chiffres.",
            field="bic",
        )
    return bic


def clean_identifier(identifier_type: str, value: str) -> str:
    """Normalise and check a structure identifier according to its type."""
    value = (value or "").strip()
    if not value and identifier_type != IdentifierType.PARTICULIER:
        raise ApplicationError("L'identifiant de la structure est obligatoire.", field="identifier")
    match identifier_type:
        case IdentifierType.SIRET:
            return clean_siret(value)
        case IdentifierType.UE_HORS_FRANCE:
            vat = clean_vat(value, field="identifier")
            if vat.startswith("FR"):
                raise ApplicationError(
                    "Un numéro de TVA français correspond à une structure française : choisissez le type SIRET.",
                    field="identifier",
                )
            return vat
        case IdentifierType.RIDET:
            compact = "".join(value.split()).replace(".", "")
            if not (6 <= len(compact) <= 10 and compact.isdigit()):
                raise ApplicationError(
                    "Le RIDET comporte de 6 à 10 chiffres (7 pour le RID, puis l'établissement).", field="identifier"
                )
            return compact
        case IdentifierType.TAHITI:
            compact = "".join(value.split()).upper()
            if not (len(compact) in (6, 9) and compact.isalnum()):
                raise ApplicationError(
                    "Le numéro TAHITI comporte 6 caractères (9 avec l'établissement).", field="identifier"
                )
            return compact
        case IdentifierType.HORS_UE | IdentifierType.AUTRE | IdentifierType.PARTICULIER:
            compact = " ".join(value.split())
            if len(compact) > 40:
                raise ApplicationError("L'identifiant ne doit pas dépasser 40 caractères.", field="identifier")
            return compact
    raise ApplicationError("Type d'identifiant inconnu.", field="identifier_type")


def luhn_complete(digits: str) -> str:
    """Append the Luhn check digit (used to make valid fictitious SIRET numbers for demo data and tests)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return digits + str((10 - total % 10) % 10)


def make_siret(siren_base8: str, nic_base4: str) -> str:
    """A valid SIRET from 8 + 4 digits: SIREN with its key, then NIC completed so the whole SIRET passes."""
    siren = luhn_complete(siren_base8)
    return luhn_complete(siren + nic_base4)


def french_vat_number(siren_or_siret: str) -> str:
    """The French intra-community VAT number of a SIREN: FR + key ((12 + 3 × (SIREN mod 97)) mod 97) + SIREN."""
    siren = siren_or_siret[:9]
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
