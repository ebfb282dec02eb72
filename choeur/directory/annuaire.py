"""The annuaire of public structures: the public search (what a supplier must put on an invoice to reach a
public buyer) and the CSV import that feeds it.

The CSV format is documented in docs/annuaire-import.md; keep both in step.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, NotFoundError
from choeur.directory.enums import (
    IdentifierType,
    PublicCategory,
    StructureKind,
)
from choeur.directory.identifiers import clean_siret
from choeur.directory.models import Service, Structure
from choeur.directory.services import structure_create

# ---------------------------------------------------------------------------------------------------
# Public search
# ---------------------------------------------------------------------------------------------------

# Accented forms a French user may or may not type; both cases listed because database regex engines do
# not all fold the case of accented letters.
_ACCENT_CLASSES = {
    "a": "aàâäáAÀÂÄÁ",
    "c": "cçCÇ",
    "e": "eéèêëEÉÈÊË",
    "i": "iîïìíIÎÏÌÍ",
    "o": "oôöòóOÔÖÒÓ",
    "u": "uùûüúUÙÛÜÚ",
    "y": "yÿYŸ",
    "n": "nñNÑ",
}


def text_fold(value: str) -> str:
    """Lower-case, without accents, œ/æ spelt out: the form queries are compared in."""
    value = (value or "").replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def _word_pattern(word: str) -> str:
    """A regex matching `word` (already folded, [a-z0-9] only) whatever its accents and case."""
    parts: list[str] = []
    index = 0
    while index < len(word):
        char = word[index]
        if word.startswith("oe", index):
            parts.append(f"(?:[{_ACCENT_CLASSES['o']}][{_ACCENT_CLASSES['e']}]|[œŒ])")
            index += 2
            continue
        if word.startswith("ae", index):
            parts.append(f"(?:[{_ACCENT_CLASSES['a']}][{_ACCENT_CLASSES['e']}]|[æÆ])")
            index += 2
            continue
        if char in _ACCENT_CLASSES:
            parts.append(f"[{_ACCENT_CLASSES[char]}]")
        elif char.isalpha():
            parts.append(f"[{char}{char.upper()}]")
        else:
            parts.append(char)
        index += 1
    return "".join(parts)


def _words(value: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text_fold(value))
    # One-letter words are elisions (l', d') that would match everything.
    long_words = [word for word in words if len(word) > 1]
    return long_words or words


def annuaire_search(*, name: str = "", siret: str = "", location: str = "") -> QuerySet[Structure]:
    """Active public structures matching every criterion given.

    - `name`: every word must appear in the raison sociale or the libellé, accents and case ignored;
    - `siret`: the start of the SIRET (spaces ignored), so a SIREN finds all its establishments;
    - `location`: a postal code (or its start) when it is made of digits, otherwise a city name.
    """
    structures = Structure.objects.public().active()
    for word in _words(name):
        pattern = _word_pattern(word)
        structures = structures.filter(Q(raison_sociale__iregex=pattern) | Q(libelle__iregex=pattern))
    siret_digits = re.sub(r"\D", "", siret or "")
    if siret_digits:
        structures = structures.filter(identifier_type=IdentifierType.SIRET, identifier__startswith=siret_digits)
    location = (location or "").strip()
    if location:
        compact = location.replace(" ", "")
        if compact.isdigit():
            structures = structures.filter(code_postal__startswith=compact)
        else:
            for word in _words(location):
                structures = structures.filter(ville__iregex=_word_pattern(word))
    return structures.order_by("raison_sociale", "pk")


def annuaire_structure_get(*, structure_id: int) -> Structure:
    """One public, active structure of the annuaire; private structures are never shown."""
    structure = Structure.objects.public().active().filter(pk=structure_id).first()
    if structure is None:
        raise NotFoundError("Cette structure publique n'existe pas ou n'est plus active.")
    return structure


def annuaire_services(structure: Structure) -> QuerySet[Service]:
    """The services a supplier may invoice today (active and within their validity dates)."""
    return structure.services.active().order_by("code")


@dataclass(frozen=True)
class RoutingRequirement:
    label: str
    required: bool
    explanation: str


def structure_routing_requirements(structure: Structure) -> list[RoutingRequirement]:
    """The structure's `parametres`, said in plain French for suppliers."""
    return [
        RoutingRequirement(
            "Code service obligatoire",
            structure.code_service_obligatoire,
            "Indiquez sur chaque facture le code du service exécutant choisi dans la liste des services."
            if structure.code_service_obligatoire
            else "Le code du service exécutant n'est pas exigé.",
        ),
        RoutingRequirement(
            "Numéro d'engagement juridique obligatoire",
            structure.engagement_obligatoire,
            "Indiquez sur chaque facture le numéro d'engagement juridique (bon de commande) communiqué par l'acheteur."
            if structure.engagement_obligatoire
            else "Le numéro d'engagement juridique n'est pas exigé par la structure (un service peut l'exiger).",
        ),
        RoutingRequirement(
            "Numéro d'engagement ou code service",
            structure.engagement_ou_service,
            "Indiquez au moins l'un des deux : le numéro d'engagement juridique ou le code du service exécutant."
            if structure.engagement_ou_service
            else "Pas d'exigence « l'un ou l'autre ».",
        ),
        RoutingRequirement(
            "Statut « mise en paiement » non remonté",
            structure.mise_en_paiement_non_remontee,
            "Cette structure ne transmet pas le statut « mise en paiement » : vos factures ne l'afficheront pas."
            if structure.mise_en_paiement_non_remontee
            else "Le statut « mise en paiement » de vos factures vous est transmis.",
        ),
        RoutingRequirement(
            "Maîtrise d'ouvrage (MOA)",
            structure.is_moa,
            (
                "Cette structure est maître d'ouvrage des marchés de travaux"
                + (" (uniquement en tant que MOA)." if structure.is_moa_only else ".")
            )
            if structure.is_moa
            else "Cette structure n'intervient pas comme maître d'ouvrage.",
        ),
    ]


def structure_routing_summary(structure: Structure) -> str:
    """One sentence: what an invoice to this structure must carry."""
    if structure.code_service_obligatoire and structure.engagement_obligatoire:
        return "Le code service et le numéro d'engagement juridique sont obligatoires."
    if structure.code_service_obligatoire:
        return "Le code service est obligatoire."
    if structure.engagement_obligatoire:
        return "Le numéro d'engagement juridique est obligatoire."
    if structure.engagement_ou_service:
        return "Le numéro d'engagement juridique ou le code service est obligatoire."
    return "Ni code service ni numéro d'engagement exigés par la structure."


# ---------------------------------------------------------------------------------------------------
# CSV import
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text", "siret", "category", "bool", "date", "postal_code"
    required: bool = False
    default: Any = ""
    max_length: int | None = None
    target: str = ""  # model field


STRUCTURE_COLUMNS = (
    Column("siret", "siret", required=True),
    Column("raison_sociale", "text", required=True, max_length=255, target="raison_sociale"),
    Column("adresse", "text", max_length=255, target="adresse"),
    Column("code_postal", "postal_code", target="code_postal"),
    Column("ville", "text", max_length=100, target="ville"),
    Column("categorie", "category", required=True, target="public_category"),
    Column("code_service_obligatoire", "bool", default=False, target="code_service_obligatoire"),
    Column("engagement_obligatoire", "bool", default=False, target="engagement_obligatoire"),
    Column("engagement_ou_service", "bool", default=False, target="engagement_ou_service"),
    Column("mise_en_paiement_non_remontee", "bool", default=False, target="mise_en_paiement_non_remontee"),
    Column("moa", "bool", default=False, target="is_moa"),
    Column("structure_active", "bool", default=True, target="is_active"),
)
SERVICE_COLUMNS = (
    Column("code_service", "text", max_length=100, target="code"),
    Column("libelle_service", "text", max_length=255, target="libelle"),
    Column("service_engagement_obligatoire", "bool", default=False, target="engagement_obligatoire"),
    Column("service_actif", "bool", default=True, target="is_active"),
    Column("service_debut_validite", "date", default=None, target="valid_from"),
    Column("service_fin_validite", "date", default=None, target="valid_until"),
)
COLUMNS = {column.name: column for column in STRUCTURE_COLUMNS + SERVICE_COLUMNS}

# Structures read per query during an import (well under SQLite's limit of bound parameters).
_BATCH = 500
_TRUE = {"oui", "o", "vrai", "true", "1", "x", "yes", "y"}
_FALSE = {"non", "n", "faux", "false", "0", "no", ""}
_CATEGORY_LABELS = ", ".join(PublicCategory.values)


@dataclass(frozen=True)
class ImportProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"ligne {self.line}" + (f", colonne « {self.column} »" if self.column else "")
        return f"{where[0].upper()}{where[1:]} : {self.message}"


class AnnuaireImportInvalid(ApplicationError):
    """The file has errors; nothing was written. `problems` lists every one of them."""

    code = "import_annuaire_invalide"

    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"Le fichier contient {count} erreur{'s' if count > 1 else ''} : rien n'a été importé.",
            extra={"problems": [str(problem) for problem in problems]},
        )


@dataclass
class ImportReport:
    dry_run: bool = False
    lines: int = 0
    structures_created: int = 0
    structures_updated: int = 0
    structures_unchanged: int = 0
    services_created: int = 0
    services_updated: int = 0
    services_unchanged: int = 0

    def as_dict(self) -> dict[str, int | bool]:
        return dict(self.__dict__)

    def summary(self) -> str:
        prefix = "Simulation (rien n'a été écrit) : " if self.dry_run else ""
        return (
            f"{prefix}{self.lines} ligne(s) lue(s) ; structures : {self.structures_created} créée(s), "
            f"{self.structures_updated} mise(s) à jour, {self.structures_unchanged} inchangée(s) ; services : "
            f"{self.services_created} créé(s), {self.services_updated} mis à jour, "
            f"{self.services_unchanged} inchangé(s)."
        )


@dataclass
class _StructureRow:
    siret: str
    line: int
    values: dict[str, Any]  # model field → value, only for the columns present in the file
    services: dict[str, _ServiceRow] = field(default_factory=dict)


@dataclass
class _ServiceRow:
    code: str
    line: int
    values: dict[str, Any]


def _header_key(raw: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text_fold(raw.strip())).strip("_")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AnnuaireImportInvalid(
            [
                ImportProblem(
                    line,
                    "",
                    "le fichier n'est pas encodé en UTF-8 (caractère illisible). Enregistrez-le en « CSV UTF-8 » "
                    "depuis votre tableur puis recommencez.",
                )
            ]
        ) from None


def _delimiter(header_line: str) -> str:
    # The header holds only column names: whichever separator it contains is the file's. A tableur in
    # French uses ';', most other tools ','.
    return ";" if header_line.count(";") >= header_line.count(",") and ";" in header_line else ","


def _parse_cell(column: Column, raw: str) -> Any:
    """The typed value of one cell, or ValueError with a French message."""
    value = raw.strip()
    match column.kind:
        case "text":
            value = " ".join(value.split())
            if column.max_length and len(value) > column.max_length:
                raise ValueError(f"la valeur dépasse {column.max_length} caractères ({len(value)}) : abrégez-la.")
            return value
        case "siret":
            if not value:
                raise ValueError("le SIRET est obligatoire.")
            try:
                return clean_siret(value)
            except ApplicationError as exc:
                raise ValueError(f"« {value} » : {exc.message[0].lower()}{exc.message[1:]}") from None
        case "postal_code":
            compact = value.replace(" ", "")
            if compact and not re.fullmatch(r"\d{5}", compact):
                raise ValueError(f"le code postal « {value} » doit comporter 5 chiffres.")
            return compact
        case "category":
            upper = text_fold(value).upper().replace(" ", "_").replace("-", "_")
            if upper not in PublicCategory.values:
                raise ValueError(
                    f"catégorie « {value} » inconnue : utilisez {_CATEGORY_LABELS}."
                    if value
                    else f"la catégorie est obligatoire : {_CATEGORY_LABELS}."
                )
            return upper
        case "bool":
            folded = text_fold(value)
            if folded == "":
                return column.default
            if folded in _TRUE:
                return True
            if folded in _FALSE:
                return False
            raise ValueError(f"« {value} » n'est pas une valeur oui/non : écrivez oui ou non (ou 1/0, vrai/faux).")
        case "date":
            if not value:
                return None
            for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
                try:
                    return datetime.strptime(value, fmt).date()
                except ValueError:
                    continue
            raise ValueError(
                f"la date « {value} » est invalide : écrivez JJ/MM/AAAA (par ex. 31/12/2026) ou AAAA-MM-JJ."
            )
    raise AssertionError(column.kind)


def _parse(text: str) -> tuple[dict[str, _StructureRow], int, list[ImportProblem]]:
    problems: list[ImportProblem] = []
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        return {}, 0, [ImportProblem(1, "", "le fichier est vide : il faut une ligne d'en-tête puis les données.")]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    header: list[str] | None = None
    structures: dict[str, _StructureRow] = {}
    data_lines = 0
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [_header_key(cell) for cell in cells]
            for index, name in enumerate(header):
                if name not in COLUMNS:
                    problems.append(
                        ImportProblem(
                            line,
                            cells[index].strip() or f"n°{index + 1}",
                            "colonne inconnue (voir la liste des "
                            "colonnes dans docs/annuaire-import.md ; vérifiez l'orthographe).",
                        )
                    )
                elif header.index(name) != index:
                    problems.append(ImportProblem(line, name, "colonne présente deux fois."))
            for column in COLUMNS.values():
                if column.required and column.name not in header:
                    problems.append(ImportProblem(line, column.name, "colonne obligatoire absente de l'en-tête."))
            if "code_service" in header and "libelle_service" not in header:
                problems.append(
                    ImportProblem(line, "libelle_service", "colonne absente alors que code_service est là.")
                )
            if problems:
                return {}, 0, problems
            continue
        data_lines += 1
        if len(cells) != len(header):
            problems.append(
                ImportProblem(
                    line,
                    "",
                    f"la ligne compte {len(cells)} valeurs alors que l'en-tête a {len(header)} colonnes "
                    "(vérifiez le séparateur et les guillemets).",
                )
            )
            continue
        _parse_row(dict(zip(header, cells, strict=True)), line, structures, problems)
    if header is None or data_lines == 0:
        problems.append(ImportProblem(1, "", "le fichier ne contient aucune ligne de données après l'en-tête."))
    return structures, data_lines, problems


def _parse_row(
    raw: dict[str, str], line: int, structures: dict[str, _StructureRow], problems: list[ImportProblem]
) -> None:
    parsed: dict[str, Any] = {}
    row_ok = True
    for name, cell in raw.items():
        try:
            parsed[name] = _parse_cell(COLUMNS[name], cell)
        except ValueError as exc:
            problems.append(ImportProblem(line, name, str(exc)))
            row_ok = False
    if not row_ok:
        return
    if not parsed["raison_sociale"]:
        problems.append(ImportProblem(line, "raison_sociale", "la raison sociale est obligatoire."))
        return
    if parsed.get("engagement_ou_service") and (
        parsed.get("code_service_obligatoire") or parsed.get("engagement_obligatoire")
    ):
        problems.append(
            ImportProblem(
                line,
                "engagement_ou_service",
                "« oui » est incompatible avec code_service_obligatoire ou engagement_obligatoire à « oui » : "
                "choisissez l'un ou l'autre réglage.",
            )
        )
        return
    values = {COLUMNS[name].target: parsed[name] for name in raw if name in {c.name for c in STRUCTURE_COLUMNS}}
    values.pop("", None)
    siret = parsed["siret"]
    structure = structures.get(siret)
    if structure is None:
        structure = structures[siret] = _StructureRow(siret=siret, line=line, values=values)
    else:
        for name in raw:
            column = COLUMNS[name]
            if (
                column in STRUCTURE_COLUMNS
                and column.target
                and structure.values.get(column.target) != values.get(column.target)
            ):
                problems.append(
                    ImportProblem(
                        line,
                        name,
                        f"« {raw[name].strip()} » diffère de la ligne {structure.line} pour le même SIRET : "
                        "les colonnes de la structure doivent être identiques sur toutes ses lignes.",
                    )
                )
                return
    code = parsed.get("code_service", "")
    if not code:
        service_cells = [name for name in raw if COLUMNS[name] in SERVICE_COLUMNS and raw[name].strip()]
        if service_cells:
            problems.append(
                ImportProblem(line, "code_service", f"le code service manque alors que {service_cells[0]} est rempli.")
            )
        return
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", code):
        problems.append(
            ImportProblem(
                line,
                "code_service",
                f"le code service « {code} » ne doit contenir que des lettres sans accent, chiffres, « _ », « - » "
                "ou « . », sans espace.",
            )
        )
        return
    if not parsed.get("libelle_service"):
        problems.append(ImportProblem(line, "libelle_service", f"le libellé du service « {code} » est obligatoire."))
        return
    start, end = parsed.get("service_debut_validite"), parsed.get("service_fin_validite")
    if start and end and end < start:
        problems.append(
            ImportProblem(
                line,
                "service_fin_validite",
                f"la fin de validité ({end:%d/%m/%Y}) précède le début ({start:%d/%m/%Y}).",
            )
        )
        return
    if code in structure.services:
        problems.append(
            ImportProblem(
                line,
                "code_service",
                f"le service « {code} » de ce SIRET figure déjà à la ligne {structure.services[code].line}.",
            )
        )
        return
    structure.services[code] = _ServiceRow(
        code=code,
        line=line,
        values={COLUMNS[name].target: parsed[name] for name in raw if COLUMNS[name] in SERVICE_COLUMNS},
    )


def _apply_values(instance, values: dict[str, Any]) -> bool:
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        instance.save(update_fields=[*changed, "updated_at"])
    return bool(changed)


def _check_against_database(rows: dict[str, _StructureRow]) -> list[ImportProblem]:
    problems = []
    existing_private = Structure.objects.filter(
        identifier_type=IdentifierType.SIRET, identifier__in=list(rows), kind=StructureKind.PRIVEE
    ).values_list("identifier", flat=True)
    for siret in existing_private:
        problems.append(
            ImportProblem(
                rows[siret].line,
                "siret",
                f"le SIRET {siret} appartient à une structure privée déjà inscrite : l'annuaire ne peut pas la "
                "rendre publique. Vérifiez le SIRET ou adressez une sollicitation au support.",
            )
        )
    return problems


def annuaire_import(*, data: bytes, by=None, dry_run: bool = False, source_name: str = "") -> ImportReport:
    """Import public structures and their services from a CSV file (docs/annuaire-import.md).

    Idempotent: structures are matched on their SIRET and services on (structure, code); an import of
    the same file twice changes nothing the second time. All or nothing: every line is checked first,
    and if any is wrong `AnnuaireImportInvalid` lists every problem and nothing is written. With
    `dry_run`, the report says what would change and the transaction is rolled back.
    """
    rows, line_count, problems = _parse(_decode(data))
    if not problems:
        problems = _check_against_database(rows)
    if problems:
        raise AnnuaireImportInvalid(sorted(problems, key=lambda p: p.line))
    report = ImportReport(dry_run=dry_run, lines=line_count)
    all_rows = list(rows.values())
    with transaction.atomic():
        # Existing structures and services are read by batches (one query each) rather than per line:
        # a national annuaire has tens of thousands of structures, and a re-import mostly changes nothing.
        for start in range(0, len(all_rows), _BATCH):
            batch = all_rows[start : start + _BATCH]
            existing = {
                structure.identifier: structure
                for structure in Structure.objects.select_for_update().filter(
                    identifier_type=IdentifierType.SIRET, identifier__in=[row.siret for row in batch]
                )
            }
            services: dict[int, dict[str, Service]] = {}
            for service in Service.objects.filter(structure__in=list(existing.values())):
                services.setdefault(service.structure_id, {})[service.code] = service
            for row in batch:
                structure = existing.get(row.siret)
                if structure is None:
                    structure = _public_structure_create(row, by=by)
                    services[structure.pk] = {service.code: service for service in structure.services.all()}
                    report.structures_created += 1
                elif _apply_values(structure, row.values):
                    report.structures_updated += 1
                else:
                    report.structures_unchanged += 1
                _services_apply(structure, services.get(structure.pk, {}), row.services.values(), report)
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_log(
                action="directory.annuaire.imported",
                actor=by,
                data={"source": source_name, **report.as_dict()},
            )
    return report


def _public_structure_create(row: _StructureRow, *, by) -> Structure:
    fields = dict(row.values)
    is_active = fields.pop("is_active", True)
    # The one creation path: default service, default espaces, history. No gestionnaire principal: the
    # support appoints one later (services.gestionnaire_principal_appoint).
    structure = structure_create(
        created_by=by,
        identifier_type=IdentifierType.SIRET,
        identifier=row.siret,
        public=True,
        public_category=fields.pop("public_category"),
        **fields,
    )
    if not is_active:
        _apply_values(structure, {"is_active": False})
    return structure


def _services_apply(
    structure: Structure, existing: dict[str, Service], services: Iterable[_ServiceRow], report: ImportReport
) -> None:
    for row in services:
        service = existing.get(row.code)
        if service is None:
            Service.objects.create(structure=structure, **row.values)
            report.services_created += 1
        elif _apply_values(service, {k: v for k, v in row.values.items() if k != "code"}):
            report.services_updated += 1
        else:
            report.services_unchanged += 1
