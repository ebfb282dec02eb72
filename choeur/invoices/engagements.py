"""Writes on engagements juridiques (EJ): manual entry, CSV/XLSX import, the PDF of an EJ, and the CSV export.

The EJ is the buyer's referential (`directory.EngagementJuridique`); its writes live here because an EJ's PDF
goes through the same file checks and storage as invoice attachments (`invoices.services.check_file`), and
because what remains of an EJ is read from the invoices that carry its number (`selectors.py`).

Who may write: a person of the public structure with the espace « Engagements » or « Factures reçues » in
modification (`by=None` is the API, which has already bounded the structure to the caller).
"""

from __future__ import annotations

import csv
import datetime
import io
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.core.files import file_store, sniff_mime
from choeur.directory.enums import EngagementState, EngagementType, EspaceCode
from choeur.directory.models import EngagementJuridique, Service, Structure
from choeur.directory.selectors import user_can
from choeur.invoices.services import MAX_FILE_SIZE, check_file

NUMBER_MAX_LENGTH = 50  # numeroBonCommande: varchar(50) (chorus-pro.md §5.2)
MAX_IMPORT_ROWS = 5000
MAX_REPORTED_ERRORS = 30
MAX_AMOUNT = Decimal("10") ** 17
BUYER_ESPACES = (EspaceCode.ENGAGEMENTS, EspaceCode.FACTURES_RECUES)
SUPPLIER_ESPACES = (EspaceCode.ENGAGEMENTS, EspaceCode.FACTURES_EMISES)


def can_manage_engagements(*, user, structure: Structure) -> bool:
    """May `user` create, import or change the EJs of `structure` (a public structure)?"""
    if structure is None or not structure.is_public:
        return False
    return any(user_can(user, structure, code, write=True) for code in BUYER_ESPACES)


def _require_buyer(by, structure: Structure) -> None:
    if not structure.is_public:
        raise PermissionDeniedError(
            f"{structure.designation} n'est pas une structure publique : seules les structures publiques "
            "enregistrent des engagements juridiques."
        )
    if by is not None and not can_manage_engagements(user=by, structure=structure):
        raise PermissionDeniedError(
            f"Vous n'avez pas le droit d'enregistrer des engagements pour {structure.designation} : il faut "
            "l'espace « Engagements » ou « Factures reçues » avec l'habilitation « modification »."
        )


# --- Values -------------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case, no accents, words joined by « _ »: how headers and enum values are compared."""
    decomposed = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return "_".join(decomposed.lower().replace("'", " ").replace("-", " ").replace("°", " ").split())


_TYPES = {
    **{_fold(value): value for value in EngagementType.values},
    **{_fold(label): value for value, label in EngagementType.choices},
    "bc": EngagementType.BON_DE_COMMANDE,
    "commande": EngagementType.BON_DE_COMMANDE,
}
_STATES = {
    **{_fold(value): value for value in EngagementState.values},
    **{_fold(label): value for value, label in EngagementState.choices},
    "cloturee": EngagementState.CLOTURE,
    "annulee": EngagementState.ANNULE,
}


def parse_amount(value) -> Decimal | None:
    """« 12 345,67 », « 12345.67 » or a spreadsheet number; None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        amount = Decimal(str(value))
    else:
        text = str(value or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        text = text.removesuffix("€").removesuffix("EUR")
        if "," in text and "." in text:
            text = text.replace(".", "")  # 1.234,56
        text = text.replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            return None
    if not amount.is_finite():
        return None
    return amount


def parse_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value or "").strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


@dataclass
class EngagementData:
    """One EJ as entered or read from a file line, checked."""

    number: str
    type: str
    supplier: Structure
    service: Service | None
    amount_ttc: Decimal
    currency: str
    notified_on: datetime.date
    state: str
    numero_marche: str = ""
    label: str = ""

    def values(self) -> dict:
        return {
            "type": self.type,
            "supplier": self.supplier,
            "service": self.service,
            "amount_ttc": self.amount_ttc,
            "currency": self.currency,
            "notified_on": self.notified_on,
            "state": self.state,
            "numero_marche": self.numero_marche,
            "label": self.label,
        }


class _Problems(list):
    def add(self, field_name: str, message: str) -> None:
        self.append((field_name, message))


def _check(
    *, structure: Structure, raw: dict, problems: _Problems, suppliers: dict | None = None
) -> EngagementData | None:
    """The checked EJ of `raw` (strings or spreadsheet values), or None with `problems` saying what to fix."""
    number = str(raw.get("number") or "").strip()
    if not number:
        problems.add("number", "le numéro d'engagement est obligatoire")
    elif len(number) > NUMBER_MAX_LENGTH:
        problems.add("number", f"le numéro « {number[:60]} » compte {len(number)} caractères ; 50 au plus")
    type_raw = raw.get("type")
    type_value = _TYPES.get(_fold(type_raw)) if type_raw not in (None, "") else EngagementType.BON_DE_COMMANDE
    if type_value is None:
        problems.add(
            "type",
            f"le type « {str(type_raw)[:40]} » est inconnu ; utilisez "
            + ", ".join(f"« {label} »" for label in EngagementType.labels),
        )
    supplier = raw.get("supplier")
    if not isinstance(supplier, Structure):
        identifier = str(supplier or "").replace(" ", "").strip()
        if identifier.endswith(".0"):  # a SIRET typed as a number in a spreadsheet
            identifier = identifier[:-2]
        if not identifier:
            problems.add("supplier", "le SIRET du fournisseur est obligatoire")
            supplier = None
        else:
            cache = suppliers if suppliers is not None else {}
            if identifier not in cache:
                cache[identifier] = Structure.objects.filter(identifier=identifier).first()
            supplier = cache[identifier]
            if supplier is None:
                problems.add(
                    "supplier",
                    f"aucun fournisseur d'identifiant « {identifier[:20]} » dans l'annuaire de Chœur ; vérifiez le "
                    "SIRET ou demandez au fournisseur de créer sa structure",
                )
            elif not supplier.is_active:
                problems.add("supplier", f"le fournisseur {supplier.designation} est inactif sur Chœur")
                supplier = None
            elif supplier.pk == structure.pk:
                problems.add("supplier", "le fournisseur ne peut pas être la structure qui engage elle-même")
                supplier = None
    service = raw.get("service")
    if service not in (None, "") and not isinstance(service, Service):
        code = str(service).strip()
        service = structure.services.filter(code__iexact=code).first()
        if service is None:
            problems.add("service", f"le service exécutant « {code[:40]} » n'existe pas chez {structure.designation}")
    elif isinstance(service, Service) and service.structure_id != structure.pk:
        problems.add("service", f"le service {service.code} n'appartient pas à {structure.designation}")
        service = None
    amount_raw = raw.get("amount_ttc")
    amount = parse_amount(amount_raw) if amount_raw not in (None, "") else None
    if amount_raw in (None, ""):
        problems.add("amount_ttc", "le montant TTC est obligatoire")
    elif amount is None:
        problems.add("amount_ttc", f"le montant TTC « {str(amount_raw)[:30]} » n'est pas un nombre")
    elif amount <= 0:
        problems.add("amount_ttc", f"le montant TTC « {str(amount_raw)[:30]} » doit être positif")
    elif amount >= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        problems.add(
            "amount_ttc", f"le montant TTC « {str(amount_raw)[:30]} » a plus de deux décimales ou est trop grand"
        )
    currency = str(raw.get("currency") or "EUR").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        problems.add("currency", f"la devise « {currency[:10]} » n'est pas un code ISO 4217 à trois lettres (EUR)")
    date_raw = raw.get("notified_on")
    notified_on = parse_date(date_raw) if date_raw not in (None, "") else None
    if date_raw in (None, ""):
        problems.add("notified_on", "la date de notification est obligatoire")
    elif notified_on is None:
        problems.add(
            "notified_on", f"la date de notification « {str(date_raw)[:20]} » n'est pas une date (JJ/MM/AAAA)"
        )
    state_raw = raw.get("state")
    state = _STATES.get(_fold(state_raw)) if state_raw not in (None, "") else EngagementState.COMMANDE
    if state is None:
        problems.add(
            "state",
            f"l'état « {str(state_raw)[:30]} » est inconnu ; utilisez "
            + ", ".join(f"« {label} »" for label in EngagementState.labels),
        )
    numero_marche = str(raw.get("numero_marche") or "").strip()
    if len(numero_marche) > 50:
        problems.add("numero_marche", "le numéro de marché compte plus de 50 caractères")
    label = str(raw.get("label") or "").strip()
    if len(label) > 255:
        problems.add("label", "l'objet compte plus de 255 caractères")
    if problems:
        return None
    return EngagementData(
        number=number,
        type=type_value,
        supplier=supplier,
        service=service or None,
        amount_ttc=amount.quantize(Decimal("0.01")),
        currency=currency,
        notified_on=notified_on,
        state=state,
        numero_marche=numero_marche,
        label=label,
    )


def _checked_pdf(pdf: tuple[str, bytes] | None) -> tuple[str, str, bytes] | None:
    if pdf is None:
        return None
    name, content = pdf
    name, mime = check_file(name=name, content=content, field="document")
    if mime != "application/pdf":
        raise ApplicationError(
            f"PDF de l'engagement : « {name} » n'est pas un PDF ; joignez le bon de commande ou le marché en PDF.",
            field="document",
            code="piece_jointe_invalide",
        )
    return name, mime, content


# --- Manual entry ---------------------------------------------------------------------------------------


def engagement_create(
    *,
    by,
    structure: Structure,
    number: str,
    supplier: Structure | str,
    amount_ttc,
    notified_on,
    type: str = EngagementType.BON_DE_COMMANDE,
    service: Service | str | None = None,
    currency: str = "EUR",
    state: str = EngagementState.COMMANDE,
    numero_marche: str = "",
    label: str = "",
    pdf: tuple[str, bytes] | None = None,
) -> EngagementJuridique:
    """Record one EJ of `structure` (« Saisir un engagement »). A number the structure already has is refused:
    an import updates, a manual entry does not overwrite silently."""
    _require_buyer(by, structure)
    problems = _Problems()
    data = _check(
        structure=structure,
        raw={
            "number": number,
            "type": type,
            "supplier": supplier,
            "service": service,
            "amount_ttc": amount_ttc,
            "currency": currency,
            "notified_on": notified_on,
            "state": state,
            "numero_marche": numero_marche,
            "label": label,
        },
        problems=problems,
    )
    if data is None:
        field_name, message = problems[0]
        raise ApplicationError(
            "Engagement : " + " ; ".join(m for _, m in problems) + ".",
            field=field_name,
            code="engagement_invalide",
            extra={"errors": [{"field": f, "message": m} for f, m in problems]},
        )
    document = _checked_pdf(pdf)
    with transaction.atomic():
        Structure.objects.select_for_update().filter(pk=structure.pk).first()
        if EngagementJuridique.objects.filter(structure=structure, number__iexact=data.number).exists():
            raise ApplicationError(
                f"Numéro d'engagement : {structure.designation} a déjà un engagement « {data.number} ». "
                "Choisissez un autre numéro, ou modifiez l'engagement existant par un import.",
                field="number",
                code="engagement_doublon",
            )
        engagement = EngagementJuridique(
            structure=structure,
            number=data.number,
            created_by=by if getattr(by, "pk", None) else None,
            **data.values(),
        )
        if document is not None:
            name, mime, content = document
            engagement.document = file_store(content=content, mime_type=mime)
            engagement.document_name = name
        engagement.save()
        audit_log(
            action="directory.engagement.create",
            actor=by,
            structure_id=structure.pk,
            target=engagement,
            data={"numero": engagement.number, "montant_ttc": str(engagement.amount_ttc)},
        )
    return engagement


def engagement_document_set(*, by, engagement: EngagementJuridique, name: str, content: bytes) -> EngagementJuridique:
    """Attach (or replace) the PDF of an EJ: same checks and storage as invoice attachments, PDF only."""
    _require_buyer(by, engagement.structure)
    name, mime, content = _checked_pdf((name, content))
    with transaction.atomic():
        locked = EngagementJuridique.objects.select_for_update().get(pk=engagement.pk)
        locked.document = file_store(content=content, mime_type=mime)
        locked.document_name = name
        locked.save(update_fields=["document", "document_name", "updated_at"])
        audit_log(
            action="directory.engagement.document",
            actor=by,
            structure_id=locked.structure_id,
            target=locked,
            data={"nom": name, "sha256": locked.document.sha256},
        )
    return locked


# --- Import ---------------------------------------------------------------------------------------------

# Column headers, folded (`_fold`), to the EJ field they fill. The first name is the one the template uses.
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("numero_engagement", "numero", "numero_ej", "ej", "n_engagement", "numero_bon_de_commande"),
    "type": ("type", "type_engagement"),
    "supplier": ("siret_fournisseur", "fournisseur", "identifiant_fournisseur", "siret"),
    "service": ("code_service", "service", "service_executant", "code_service_executant"),
    "amount_ttc": ("montant_ttc", "montant", "montant_total_ttc"),
    "currency": ("devise",),
    "notified_on": ("date_notification", "date_de_notification", "notification", "date"),
    "state": ("etat",),
    "numero_marche": ("numero_marche", "marche"),
    "label": ("objet", "libelle"),
}
REQUIRED_COLUMNS = ("number", "supplier", "amount_ttc", "notified_on")
TEMPLATE_HEADERS = (
    "numero_engagement",
    "type",
    "siret_fournisseur",
    "code_service",
    "montant_ttc",
    "devise",
    "date_notification",
    "etat",
    "numero_marche",
    "objet",
)
_HEADER_TO_FIELD = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
_HEADER_STOP_WORDS = {"d", "de", "du", "des", "l", "la", "le", "en"}


def _fold_header(text) -> str:
    """« Numéro d'engagement », « SIRET du fournisseur » → numero_engagement, siret_fournisseur."""
    return "_".join(word for word in _fold(text).split("_") if word not in _HEADER_STOP_WORDS)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    def summary(self) -> str:
        return (
            f"{self.total} engagement(s) lu(s) : {len(self.created)} créé(s), {len(self.updated)} mis à jour, "
            f"{len(self.unchanged)} inchangé(s)."
        )


def _rows_csv(content: bytes) -> Iterator[list]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = text[:4096]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        delimiter = ";"
    yield from csv.reader(io.StringIO(text), delimiter=delimiter)


def _rows_xlsx(content: bytes) -> Iterator[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or disguised file
        raise ApplicationError(
            "Fichier : ce classeur XLSX ne s'ouvre pas (fichier endommagé ou autre format). Enregistrez-le de "
            "nouveau au format .xlsx, ou en CSV.",
            field="file",
            code="import_illisible",
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield ["" if value is None else value for value in row]
    finally:
        workbook.close()


def _read_rows(*, name: str, content: bytes) -> list[tuple[int, dict]]:
    """(line number as the spreadsheet shows it, raw values by field) of every non-empty data line."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ("csv", "xlsx", "txt"):
        raise ApplicationError(
            f"Fichier : « {name} » n'est ni un CSV ni un classeur XLSX ; importez un fichier .csv ou .xlsx.",
            field="file",
            code="import_format",
        )
    if not content:
        raise ApplicationError(f"Fichier : « {name} » est vide.", field="file", code="import_vide")
    if len(content) > MAX_FILE_SIZE:
        raise ApplicationError("Fichier : 10 Mo au plus ; découpez l'import.", field="file", code="import_trop_grand")
    if extension == "xlsx":
        if sniff_mime(content) != "application/zip":
            raise ApplicationError(
                f"Fichier : « {name} » porte l'extension .xlsx mais n'est pas un classeur XLSX.",
                field="file",
                code="import_illisible",
            )
        rows: Iterable[list] = _rows_xlsx(content)
    else:
        rows = _rows_csv(content)
    iterator = iter(rows)
    header_line = 0
    header: list = []
    for header_line, header in enumerate(iterator, start=1):  # noqa: B007 - the first non-empty line
        if any(str(cell).strip() for cell in header):
            break
    else:
        raise ApplicationError(f"Fichier : « {name} » ne contient aucune ligne.", field="file", code="import_vide")
    fields: list[str | None] = []
    unknown = []
    for cell in header:
        folded = _fold_header(cell)
        target = _HEADER_TO_FIELD.get(folded)
        if folded and target is None:
            unknown.append(str(cell).strip())
        fields.append(target)
    missing = [name for name in REQUIRED_COLUMNS if name not in fields]
    if missing:
        expected = ", ".join(COLUMNS[name][0] for name in missing)
        raise ApplicationError(
            f"Ligne {header_line} (en-tête) : colonne(s) manquante(s) : {expected}. L'en-tête attendu est : "
            f"{';'.join(TEMPLATE_HEADERS)}."
            + (f" Colonnes non reconnues : {', '.join(unknown[:5])}." if unknown else ""),
            field="file",
            code="import_entete",
        )
    read = []
    for line, row in enumerate(iterator, start=header_line + 1):
        if not any(str(cell).strip() for cell in row):
            continue
        if len(read) >= MAX_IMPORT_ROWS:
            raise ApplicationError(
                f"Fichier : plus de {MAX_IMPORT_ROWS} engagements ; découpez l'import en plusieurs fichiers.",
                field="file",
                code="import_trop_grand",
            )
        values = {}
        for index, target in enumerate(fields):
            if target is not None and index < len(row):
                value = row[index]
                values[target] = value.strip() if isinstance(value, str) else value
        read.append((line, values))
    if not read:
        raise ApplicationError(
            f"Fichier : « {name} » n'a que son en-tête ; ajoutez une ligne par engagement.",
            field="file",
            code="import_vide",
        )
    return read


def engagement_import(*, by, structure: Structure, name: str, content: bytes) -> ImportReport:
    """Import EJs of `structure` from a CSV or XLSX file, in one transaction.

    Idempotent: a number the structure already has is updated (or left unchanged), so importing the same file
    twice creates nothing. Every line is checked before anything is written; one bad line (or a number twice
    in the file) refuses the whole file with the French errors line by line in `extra["errors"]`.
    """
    _require_buyer(by, structure)
    rows = _read_rows(name=name, content=content)
    errors: list[dict] = []
    checked: list[tuple[int, EngagementData]] = []
    seen: dict[str, int] = {}
    suppliers: dict = {}
    for line, raw in rows:
        problems = _Problems()
        data = _check(structure=structure, raw=raw, problems=problems, suppliers=suppliers)
        number_key = str(raw.get("number") or "").strip().upper()
        if number_key and number_key in seen:
            problems.add(
                "number", f"le numéro « {str(raw.get('number')).strip()[:50]} » figure déjà ligne {seen[number_key]}"
            )
            data = None
        elif number_key:
            seen[number_key] = line
        for field_name, message in problems:
            errors.append({"line": line, "field": field_name, "message": f"ligne {line} : {message}"})
        if data is not None:
            checked.append((line, data))
    if errors:
        shown = [error["message"] for error in errors[:MAX_REPORTED_ERRORS]]
        more = len(errors) - len(shown)
        raise ApplicationError(
            f"Import refusé, rien n'a été enregistré : {len(errors)} erreur(s). "
            + " ; ".join(shown)
            + (f" ; et {more} autre(s)." if more else "."),
            field="file",
            code="import_lignes_invalides",
            extra={"errors": errors},
        )
    report = ImportReport()
    with transaction.atomic():
        Structure.objects.select_for_update().filter(pk=structure.pk).first()
        existing = {
            ej.number.upper(): ej for ej in EngagementJuridique.objects.select_for_update().filter(structure=structure)
        }
        creator = by if getattr(by, "pk", None) else None
        new, changed_rows, changed_fields = [], [], set()
        for _line, data in checked:
            current = existing.get(data.number.upper())
            if current is None:
                new.append(
                    EngagementJuridique(structure=structure, number=data.number, created_by=creator, **data.values())
                )
                report.created.append(data.number)
                continue
            changed = [
                name
                for name, value in data.values().items()
                if getattr(current, f"{name}_id" if name in ("supplier", "service") else name)
                != (getattr(value, "pk", None) if name in ("supplier", "service") else value)
            ]
            if not changed:
                report.unchanged.append(current.number)
                continue
            for name, value in data.values().items():
                setattr(current, name, value)
            current.updated_at = timezone.now()
            changed_rows.append(current)
            changed_fields.update(changed)
            report.updated.append(current.number)
        EngagementJuridique.objects.bulk_create(new, batch_size=500)
        if changed_rows:
            EngagementJuridique.objects.bulk_update(
                changed_rows, [*sorted(changed_fields), "updated_at"], batch_size=500
            )
        audit_log(
            action="directory.engagement.import",
            actor=by,
            structure_id=structure.pk,
            target=structure,
            data={
                "fichier": name[:100],
                "crees": len(report.created),
                "mis_a_jour": len(report.updated),
                "inchanges": len(report.unchanged),
            },
        )
    return report


# --- Export ---------------------------------------------------------------------------------------------

EXPORT_HEADERS = (
    "Numéro d'engagement",
    "Type",
    "Structure publique",
    "SIRET du fournisseur",
    "Fournisseur",
    "Code service",
    "Date de notification",
    "État",
    "Devise",
    "Montant TTC",
    "Facturé TTC",
    "Validé TTC",
    "Payé TTC",
    "Reste à facturer TTC",
    "Numéro de marché",
    "Objet",
)


def csv_safe(value) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection: = + - @ tab CR at the start)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def export_csv(rows: Sequence) -> Iterator[str]:
    """CSV of EJs with their consumption (`selectors.engagements_with_consumption` rows): UTF-8 with BOM, `;`,
    decimal comma, dd/mm/yyyy, as French spreadsheets read it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_HEADERS)
    yield "\ufeff" + flush()
    for row in rows:
        ej = row.engagement
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    ej.number,
                    ej.get_type_display(),
                    ej.structure.designation,
                    ej.supplier.identifier,
                    ej.supplier.designation,
                    ej.service.code if ej.service_id else "",
                    ej.notified_on,
                    ej.get_state_display(),
                    ej.currency,
                    ej.amount_ttc,
                    row.invoiced,
                    row.validated,
                    row.paid,
                    row.remaining,
                    ej.numero_marche,
                    ej.label,
                )
            ]
        )
        yield flush()
