"""Writes of works invoices: the fiche d'identité du marché, dossiers de facturation, the deposit of each
document and the MOE's and MOA's answers (chorus-pro.md §4, §6.4).

Every deposit is checked against the fiche marché first: a document out of order, into a dossier of another
market, by a structure not on the sheet, under a cadre the sheet does not give it, or outside its delay, is
refused with a French message naming the document expected next and who deposits it.

Each document is an ordinary invoice (supplier: the company to be paid; MOE, MOA and recipient: from the
sheet), drafted and sent through the invoices services and moved through `invoice_transition`, so that the
history, the audit and the side effects are those of every other invoice. `by` is the person acting, or None
when the API layer already authenticated the structure.

Locks: marché → dossier → invoice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.directory.enums import EspaceCode
from choeur.directory.models import Service, Structure
from choeur.directory.selectors import user_can
from choeur.invoices.cadres import cadre_rule
from choeur.invoices.computations import format_amount, to_decimal
from choeur.invoices.enums import Cadre, Channel, InvoiceStatus, ModeDepot, PaymentMode, TypeTva
from choeur.invoices.models import Invoice
from choeur.invoices.services import LINE_FIELDS, invoice_draft_create, invoice_send
from choeur.invoices.workflow import invoice_transition
from choeur.works import circuit
from choeur.works.circuit import ENTREPRISE, Step
from choeur.works.enums import (
    AMOUNT_ERROR_EXPLANATION,
    COMPANY_ROLES,
    DEFAULT_CADRES,
    DossierKind,
    DossierStatus,
    EventKind,
    PartyRole,
    RefusalReason,
)
from choeur.works.models import Dossier, DossierEvent, DossierPiece, Marche, MarcheParty, PieceCorrection
from choeur.works.selectors import (
    LineComparison,
    compare_lines,
    describe_expected,
    describe_step,
    expected_steps,
    party_for_actor,
    validating_structure,
)
from choeur.works.workflow import AT_MOA, AT_MOE, PENDING

# --- Permissions ---------------------------------------------------------------------------------------


def _require_can_act(by, structure: Structure) -> None:
    if by is None:
        return
    if not user_can(by, structure, EspaceCode.FACTURES_TRAVAUX, write=True):
        raise PermissionDeniedError(
            f"Vous n'avez pas le droit d'agir pour {structure.designation} dans l'espace « Factures de travaux » : "
            "il faut y être abonné avec l'habilitation « modification ». Demandez-le au gestionnaire de la structure."
        )


def _date(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y") if value else ""


def _cadre(value) -> Cadre:
    if isinstance(value, Cadre):
        return value
    try:
        return Cadre.from_code(str(value))
    except ValueError as exc:
        raise ApplicationError(str(exc), field="cadre", code="cadre_inconnu") from None


# --- Fiche d'identité du marché -------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyInput:
    """One party as entered on the sheet. `works_for` names the structure a sous-traitant works for (the
    titulaire or a cotraitant); `cadres` None means the role's usual cadres."""

    role: str
    structure: Structure
    service: Service | None = None
    works_for: Structure | None = None
    paiement_direct: bool = False
    cadres: Sequence[str] | None = None


def _party_input(value) -> PartyInput:
    if isinstance(value, PartyInput):
        return value
    data = dict(value)

    def _obj(model, key):
        item = data.get(key)
        if item in (None, ""):
            return None
        if isinstance(item, model):
            return item
        found = model.objects.filter(pk=item).first()
        if found is None:
            raise ApplicationError(f"Fiche du marché : {key} « {item} » introuvable.", field=key)
        return found

    return PartyInput(
        role=str(data.get("role") or ""),
        structure=_obj(Structure, "structure"),
        service=_obj(Service, "service"),
        works_for=_obj(Structure, "works_for"),
        paiement_direct=bool(data.get("paiement_direct")),
        cadres=data.get("cadres"),
    )


def _check_parties(parties: list[PartyInput]) -> None:
    """The rules of a fiche marché, each refused with what to fix."""
    by_role: dict[str, list[PartyInput]] = {}
    seen = set()
    for party in parties:
        if party.role not in PartyRole.values:
            raise ApplicationError(f"Fiche du marché : rôle inconnu « {party.role} ».", field="parties")
        if party.structure is None:
            raise ApplicationError(
                f"Fiche du marché : choisissez la structure du rôle « {PartyRole(party.role).label} ».",
                field="parties",
            )
        key = (party.role, party.structure.pk)
        if key in seen:
            raise ApplicationError(
                f"Fiche du marché : {party.structure.designation} figure deux fois comme "
                f"{PartyRole(party.role).label.lower()}.",
                field="parties",
            )
        seen.add(key)
        by_role.setdefault(party.role, []).append(party)
        if party.service is not None and party.service.structure_id != party.structure.pk:
            raise ApplicationError(
                f"Fiche du marché : le service {party.service.code} n'appartient pas à {party.structure.designation}.",
                field="parties",
            )
        allowed = DEFAULT_CADRES[party.role]
        for code in party.cadres or ():
            cadre = _cadre(code)
            if cadre not in allowed:
                raise ApplicationError(
                    f"Fiche du marché : le cadre {cadre.code} n'est pas utilisable par "
                    f"{PartyRole(party.role).label.lower()} ({party.structure.designation}) ; cadres possibles : "
                    f"{', '.join(c.code for c in allowed)}.",
                    field="parties",
                )
    moas = by_role.get(PartyRole.MOA, [])
    if len(moas) != 1:
        raise ApplicationError("Fiche du marché : indiquez une et une seule maîtrise d'ouvrage.", field="parties")
    moa = moas[0].structure
    if not (moa.is_public and moa.is_moa):
        raise ApplicationError(
            f"Fiche du marché : {moa.designation} doit être une structure publique déclarée maîtrise d'ouvrage (MOA) "
            "dans l'annuaire ; son gestionnaire coche « maîtrise d'ouvrage » dans la fiche de la structure.",
            field="parties",
        )
    moes = by_role.get(PartyRole.MOE, [])
    if len(moes) > 1:
        raise ApplicationError("Fiche du marché : un marché a au plus une maîtrise d'œuvre.", field="parties")
    if moes and not moes[0].structure.is_moe:
        raise ApplicationError(
            f"Fiche du marché : {moes[0].structure.designation} n'est pas déclarée maîtrise d'œuvre (MOE) dans "
            "l'annuaire ; son gestionnaire coche « maîtrise d'œuvre » dans la fiche de la structure.",
            field="parties",
        )
    holders = by_role.get(PartyRole.TITULAIRE, []) + by_role.get(PartyRole.MANDATAIRE, [])
    if len(holders) != 1:
        raise ApplicationError(
            "Fiche du marché : indiquez le titulaire du marché, ou, pour un groupement, son mandataire (un seul).",
            field="parties",
        )
    if by_role.get(PartyRole.COTRAITANT) and not by_role.get(PartyRole.MANDATAIRE):
        raise ApplicationError(
            "Fiche du marché : des cotraitants supposent un groupement ; désignez son mandataire "
            "(et non un titulaire).",
            field="parties",
        )
    contractors = {p.structure.pk for p in holders + by_role.get(PartyRole.COTRAITANT, [])}
    for party in by_role.get(PartyRole.SOUS_TRAITANT, []):
        if not party.paiement_direct:
            raise ApplicationError(
                f"Fiche du marché : {party.structure.designation} n'est pas en paiement direct ; seuls les "
                "sous-traitants payés directement facturent sur la plateforme et figurent sur la fiche.",
                field="parties",
            )
        if party.works_for is None or party.works_for.pk not in contractors:
            raise ApplicationError(
                f"Fiche du marché : indiquez pour quel titulaire ou cotraitant du marché travaille le sous-traitant "
                f"{party.structure.designation}.",
                field="parties",
            )


def _save_parties(marche: Marche, parties: list[PartyInput]) -> None:
    existing = {(p.role, p.structure_id): p for p in marche.parties.all()}
    wanted = {(p.role, p.structure.pk) for p in parties}
    for key, party in existing.items():
        if key not in wanted:
            if party.dossiers.exists():
                raise ApplicationError(
                    f"Fiche du marché : {party.structure.designation} a déjà des dossiers de facturation sur ce "
                    "marché ; elle ne peut pas être retirée de la fiche.",
                    field="parties",
                )
            party.delete()
    saved: dict[int, MarcheParty] = {}
    # Contractors first, so that sous-traitants can point at them.
    for item in sorted(parties, key=lambda p: p.role == PartyRole.SOUS_TRAITANT):
        party = existing.get((item.role, item.structure.pk)) or MarcheParty(
            marche=marche, role=item.role, structure=item.structure
        )
        party.service = item.service
        party.paiement_direct = item.paiement_direct
        party.cadres = [_cadre(c).value for c in (item.cadres or DEFAULT_CADRES[item.role])]
        party.works_for = None
        if item.role == PartyRole.SOUS_TRAITANT and item.works_for is not None:
            party.works_for = saved.get(item.works_for.pk)
        party.save()
        if item.role != PartyRole.SOUS_TRAITANT:
            saved.setdefault(item.structure.pk, party)


def _require_moa_or_moe(parties: list[PartyInput], structure: Structure) -> None:
    if not any(p.structure.pk == structure.pk and p.role in (PartyRole.MOA, PartyRole.MOE) for p in parties):
        raise PermissionDeniedError(
            f"La fiche d'identité du marché est saisie par la maîtrise d'ouvrage ou la maîtrise d'œuvre : "
            f"{structure.designation} doit y figurer dans l'un de ces rôles."
        )


def _check_numero(numero: str, moa: Structure, exclude: int | None = None) -> str:
    numero = (numero or "").strip()
    if not numero:
        raise ApplicationError("Numéro de marché : obligatoire.", field="numero")
    if len(numero) > 50:
        raise ApplicationError("Numéro de marché : 50 caractères au plus.", field="numero")
    clash = Marche.objects.filter(numero=numero, parties__role=PartyRole.MOA, parties__structure=moa)
    if exclude:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ApplicationError(
            f"Numéro de marché : le marché {numero} de {moa.designation} a déjà sa fiche ; modifiez-la plutôt.",
            field="numero",
        )
    return numero


def marche_create(
    *,
    by,
    structure: Structure,
    numero: str,
    objet: str,
    parties: Sequence,
    numero_engagement: str = "",
) -> Marche:
    """Enter the fiche d'identité of a works contract, as its MOA or MOE (`structure`)."""
    _require_can_act(by, structure)
    items = [_party_input(p) for p in parties]
    _check_parties(items)
    _require_moa_or_moe(items, structure)
    moa = next(p.structure for p in items if p.role == PartyRole.MOA)
    if not (objet or "").strip():
        raise ApplicationError("Objet du marché : obligatoire.", field="objet")
    with transaction.atomic():
        marche = Marche.objects.create(
            numero=_check_numero(numero, moa),
            objet=objet.strip()[:255],
            numero_engagement=(numero_engagement or "").strip()[:50],
            created_by=by if getattr(by, "pk", None) else None,
            created_by_structure=structure,
        )
        _save_parties(marche, items)
        audit_log(
            action="works.marche.create",
            actor=by,
            structure_id=structure.pk,
            target=marche,
            data={"numero": marche.numero, "parties": [[p.role, p.structure.identifier] for p in items]},
        )
    return marche


def marche_update(
    *,
    marche: Marche,
    by,
    structure: Structure,
    numero: str | None = None,
    objet: str | None = None,
    numero_engagement: str | None = None,
    parties: Sequence | None = None,
) -> Marche:
    """Change the sheet (the MOA or MOE of the market). Parties with dossiers cannot be removed."""
    _require_can_act(by, structure)
    with transaction.atomic():
        locked = Marche.objects.select_for_update().get(pk=marche.pk)
        current = [
            PartyInput(p.role, p.structure, p.service, p.works_for.structure if p.works_for else None,
                       p.paiement_direct, p.cadres)
            for p in locked.parties.select_related("structure", "service", "works_for__structure")
        ]  # fmt: skip
        _require_moa_or_moe(current, structure)
        items = [_party_input(p) for p in parties] if parties is not None else current
        _check_parties(items)
        _require_moa_or_moe(items, structure)
        moa = next(p.structure for p in items if p.role == PartyRole.MOA)
        if numero is not None:
            locked.numero = _check_numero(numero, moa, exclude=locked.pk)
        if objet is not None:
            if not objet.strip():
                raise ApplicationError("Objet du marché : obligatoire.", field="objet")
            locked.objet = objet.strip()[:255]
        if numero_engagement is not None:
            locked.numero_engagement = numero_engagement.strip()[:50]
        locked.save()
        if parties is not None:
            _save_parties(locked, items)
        audit_log(
            action="works.marche.update",
            actor=by,
            structure_id=structure.pk,
            target=locked,
            data={"numero": locked.numero, "parties": [[p.role, p.structure.identifier] for p in items]},
        )
    return locked


# --- Dossiers -------------------------------------------------------------------------------------------


def _parties_of(marche: Marche, structure: Structure) -> list[MarcheParty]:
    return [p for p in marche.parties.all() if p.structure_id == structure.pk]


def _not_a_party(marche: Marche, structure: Structure, expected: str) -> ApplicationError:
    message = (
        f"{structure.designation} n'est pas partie au marché {marche.numero} : seules les structures inscrites "
        "sur la fiche d'identité du marché y déposent des pièces."
    )
    if expected:
        message += f" Pièce attendue : {expected}."
    return PermissionDeniedError(message)


def dossier_create(*, marche: Marche, kind: str, company: Structure, by, structure: Structure) -> Dossier:
    """Open a dossier de facturation for `company` (a titulaire, mandataire, cotraitant or sous-traitant of
    the market). Its first document is deposited with `works_piece_deposit`."""
    _require_can_act(by, structure)
    if kind not in DossierKind.values:
        raise ApplicationError(f"Nature de dossier inconnue : « {kind} ».", field="kind")
    with transaction.atomic():
        locked = Marche.objects.select_for_update().get(pk=marche.pk)
        if not _parties_of(locked, structure):
            raise _not_a_party(locked, structure, "")
        party = next((p for p in _parties_of(locked, company) if p.role in COMPANY_ROLES), None)
        if party is None:
            raise ApplicationError(
                f"{company.designation} n'est ni titulaire, ni cotraitant, ni sous-traitant en paiement direct du "
                f"marché {locked.numero} : elle ne peut pas avoir de dossier de facturation.",
                field="company",
            )
        if kind == DossierKind.FINAL:
            existing = Dossier.objects.filter(marche=locked, company=party, kind=DossierKind.FINAL).exclude(
                status=DossierStatus.REFUSE
            )
            if existing.exists():
                raise ApplicationError(
                    f"Le décompte final de {company.designation} pour le marché {locked.numero} a déjà son dossier "
                    f"(n° {existing.first().sequence}) : poursuivez-le.",
                    field="kind",
                )
        sequence = (Dossier.objects.filter(marche=locked).aggregate(m=Max("sequence"))["m"] or 0) + 1
        dossier = Dossier.objects.create(
            marche=locked,
            company=party,
            kind=kind,
            sequence=sequence,
            created_by=by if getattr(by, "pk", None) else None,
        )
        audit_log(
            action="works.dossier.create",
            actor=by,
            structure_id=structure.pk,
            target=dossier,
            data={"marche": locked.numero, "sequence": sequence, "nature": kind, "entreprise": company.identifier},
        )
    return dossier


# --- Deposits -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """The MOE's (or MOA's) document computed from the previous one: its lines and, per changed line, why."""

    lines: list[dict]
    reasons: dict[int, str]
    comparison: list[LineComparison]

    @property
    def changed(self) -> list[LineComparison]:
        return [row for row in self.comparison if row.changed]


def _lines_of(invoice: Invoice) -> list[dict]:
    return [{name: getattr(line, name) for name in LINE_FIELDS} for line in invoice.lines.all()]


def works_moe_correct(
    *, dossier: Dossier, corrections: Mapping | None = None, require_reasons: bool = True
) -> Correction:
    """Line-by-line corrections of the last document of the dossier: `{position: {"quantity", "unit_price_ht",
    "reason"}}` (quantity and price optional). Returns the corrected lines; nothing is saved. A changed amount
    needs its reason (the company is told, and may contest it), unless `require_reasons` is False (a preview)."""
    last = dossier.last_piece
    if last is None:
        raise ApplicationError("Le dossier n'a encore aucune pièce à corriger.")
    lines = _lines_of(last.invoice)
    reasons: dict[int, str] = {}
    for raw_position, change in (corrections or {}).items():
        try:
            position = int(raw_position)
        except (TypeError, ValueError):
            raise ApplicationError(f"Correction : numéro de ligne « {raw_position} » invalide.") from None
        if not 1 <= position <= len(lines):
            raise ApplicationError(
                f"Correction : la ligne {position} n'existe pas (le document précédent a {len(lines)} lignes).",
                field=f"corrections.{position}",
            )
        line = lines[position - 1]
        for name, label in (("quantity", "quantité"), ("unit_price_ht", "prix unitaire HT")):
            value = change.get(name)
            if value not in (None, ""):
                try:
                    line[name] = to_decimal(value, label=label)
                except ValueError as exc:
                    raise ApplicationError(f"Ligne {position} : {exc}", field=f"corrections.{position}") from None
        reason = str(change.get("reason") or "").strip()
        if reason:
            reasons[position] = reason[:500]
    comparison = compare_lines(_lines_of(last.invoice), lines, reasons=reasons, type_tva=last.invoice.type_tva)
    if require_reasons:
        _require_reasons(comparison)
    return Correction(lines=lines, reasons=reasons, comparison=comparison)


def _require_reasons(comparison: list[LineComparison]) -> None:
    for row in comparison:
        if row.changed and not row.reason:
            raise ApplicationError(
                f"Ligne {row.position} ({row.designation}) : le montant passe de {format_amount(row.original_net_ht)} "
                f"à {format_amount(row.net_ht)} ; indiquez la raison de la correction (l'entreprise en est "
                "informée et peut la contester pendant 30 jours).",
                field=f"corrections.{row.position}",
                code="raison_obligatoire",
            )


def _bank_account(company: MarcheParty, predecessor: DossierPiece | None):
    if predecessor is not None and predecessor.invoice.supplier_bank_account_id:
        return predecessor.invoice.supplier_bank_account
    return company.structure.bank_accounts.filter(is_active=True).order_by("id").first()


EDITABLE_DATA = ("number", "invoice_date", "comment", "type_tva", "motif_exoneration", "supplier_bank_account")


def _invoice_fields(*, dossier: Dossier, cadre: Cadre, predecessor: DossierPiece | None, channel: str, data) -> dict:
    marche = dossier.marche
    moa, moe, company = marche.moa, marche.moe, dossier.company
    previous = predecessor.invoice if predecessor else None
    unknown = sorted(set(data) - set(EDITABLE_DATA))
    if unknown:
        raise ApplicationError(f"Donnée inconnue pour une pièce de travaux : {', '.join(unknown)}.", field=unknown[0])
    fields = {
        "cadre": cadre.value,
        "mode_depot": ModeDepot.SAISIE_API if channel == Channel.API else ModeDepot.UPLOAD_PORTAIL,
        "recipient": moa.structure,
        "recipient_service": moa.service,
        "moa": moa.structure,
        "moa_service": moa.service,
        "moe": moe.structure if moe else None,
        "moe_service": moe.service if moe else None,
        "numero_marche": marche.numero,
        "numero_engagement": marche.numero_engagement,
        "supplier_service": company.service,
        "supplier_bank_account": _bank_account(company, predecessor),
        "payment_mode": PaymentMode.VIREMENT,
        "type_tva": previous.type_tva if previous else TypeTva.TVA_SUR_DEBIT,
        "motif_exoneration": previous.motif_exoneration if previous else "",
        "invoice_date": timezone.localdate(),
        # Unique per supplier: one document of each cadre per dossier.
        "number": f"{cadre.code}-{dossier.pk:06d}",
    }
    if cadre in circuit.TITULAIRE_VALIDATION:
        fields.update(_valideurs_of(dossier))
    fields.update({key: value for key, value in data.items() if value not in (None, "")})
    return fields


def _valideurs_of(dossier: Dossier) -> dict:
    """The valideurs of a sous-traitant's draft, from the fiche: the party it works for (the titulaire, or a
    cotraitant), then, for a sous-traitant of a cotraitant, the mandataire (level 2)."""
    company = dossier.company
    level_1 = company.works_for or dossier.marche.titulaire
    fields = {"valideur": level_1.structure, "valideur_service": level_1.service}
    if level_1.role == PartyRole.COTRAITANT:
        mandataire = dossier.marche.party(PartyRole.MANDATAIRE)
        if mandataire is not None:
            fields.update(valideur2=mandataire.structure, valideur2_service=mandataire.service)
    return fields


def _check_deposit(*, dossier: Dossier, cadre: Cadre, structure: Structure, now: datetime) -> tuple[Step, MarcheParty]:
    """The fiche marché's checks of one deposit; returns the step it fulfils and the depositing party."""
    marche = dossier.marche
    expected = describe_expected(dossier)
    parties = _parties_of(marche, structure)
    if not parties:
        raise _not_a_party(marche, structure, expected)
    if dossier.status == DossierStatus.REFUSE:
        last = dossier.last_piece
        raise ApplicationError(
            f"Le circuit du dossier {dossier.reference} est arrêté : la pièce {last.cadre_code} n° "
            f"{last.invoice.number} a été refusée ({last.invoice.get_status_display().lower()}). Déposez un "
            "nouveau projet de décompte dans un nouveau dossier.",
            code="dossier_arrete",
        )
    if dossier.waiting_for == circuit.VALIDEUR:
        last = dossier.last_piece
        valideur = validating_structure(dossier)
        raise ApplicationError(
            f"La pièce {last.cadre_code} n° {last.invoice.number} du sous-traitant attend la validation de "
            f"{valideur.designation if valideur else 'son titulaire'}"
            + (f", au plus tard le {_date(dossier.deadline)} (validation tacite ensuite)" if dossier.deadline else "")
            + f" : rien ne peut être déposé dans le dossier {dossier.reference} avant. Attendu : {expected}.",
            code="attente_validation_titulaire",
        )
    steps = expected_steps(dossier)
    if not steps:
        raise ApplicationError(
            f"Le dossier {dossier.reference} est complet : sa dernière pièce ({Cadre(dossier.stage).code}) est chez "
            "le service payeur. Ouvrez un nouveau dossier pour le paiement suivant.",
            code="dossier_complet",
        )
    step = next((s for s in steps if s.cadre == cadre), None)
    if step is None:
        raise ApplicationError(
            f"Pièce hors de l'ordre du dossier {dossier.reference} : le cadre {cadre.code} n'est pas attendu ici. "
            f"Pièce attendue ensuite : {expected}.",
            field="cadre",
            code="piece_hors_ordre",
        )
    actor = party_for_actor(dossier, step.actor)
    party = next((p for p in parties if actor is not None and p.pk == actor.pk), None)
    if party is None:
        raise PermissionDeniedError(
            f"La pièce {cadre.code} de ce dossier se dépose par "
            f"{actor.structure.designation if actor else circuit.ACTOR_LABELS[step.actor]}, pas par "
            f"{structure.designation}. Pièce attendue : {describe_step(step, actor)}."
        )
    if cadre.value not in party.cadres:
        planned = ", ".join(Cadre(c).code for c in party.cadres) or "aucun"
        raise ApplicationError(
            f"Le cadre {cadre.code} n'est pas prévu pour {structure.designation} sur la fiche du marché "
            f"{marche.numero} (cadres prévus : {planned}). La maîtrise d'ouvrage ou d'œuvre peut modifier la fiche.",
            field="cadre",
            code="cadre_hors_fiche",
        )
    if step.not_before is not None:
        anchor = _tacit_anchor(dossier, cadre)
        opens_at = anchor.invoice.deposited_at + step.not_before if anchor else None
        if opens_at is not None and now < opens_at:
            raise ApplicationError(
                f"Procédure tacite : le cadre {cadre.code} ne peut être déposé qu'à partir du {_date(opens_at)} "
                f"({step.not_before.days} jours après la pièce {anchor.cadre_code} n° {anchor.invoice.number}, "
                "sans réponse dans ce délai).",
                field="cadre",
                code="delai_non_echu",
            )
    return step, party


def _tacit_anchor(dossier: Dossier, cadre: Cadre) -> DossierPiece | None:
    """The document the tacit delay runs from: the final draft for A22, the A22 for A23."""
    pieces = dossier.pieces_in_order()
    if cadre == Cadre.A22:
        return next((p for p in pieces if Cadre(p.cadre) in circuit.FINAL_DRAFTS), None)
    return next((p for p in reversed(pieces) if p.cadre == Cadre.A22), None)


def _event(dossier, kind, message, *, by=None, structure=None, piece=None, data=None) -> DossierEvent:
    return DossierEvent.objects.create(
        dossier=dossier,
        kind=kind,
        piece=piece,
        actor_user=by if getattr(by, "pk", None) else None,
        actor_structure=structure,
        message=message,
        data=data or {},
    )


def _refresh_dossier(dossier: Dossier, *, piece: DossierPiece, route: str, now: datetime) -> None:
    """Stage, whose turn, the deadline of the step and the payment clock, after `piece` was deposited."""
    cadre = Cadre(piece.cadre)
    dossier.stage = cadre.value
    dossier.waiting_for = circuit.WAITING_FOR[route]
    dossier.deadline = None
    if route == "mettre_a_disposition":
        dossier.status = DossierStatus.TRANSMIS_PAYEUR
    elif route == "soumettre_valideur":
        # The titulaire's 15 days; the MOE's 7 days and the payment clock start once it validated.
        dossier.deadline = now + circuit.VALIDATION_DELAY
    elif route == "mettre_a_disposition_moe" and dossier.kind == DossierKind.MENSUEL:
        dossier.moe_received_at = now
        dossier.moe_deadline = now + circuit.MOE_DELAY
        dossier.deadline = dossier.moe_deadline
        dossier.reminders_sent = []
    elif dossier.kind == DossierKind.FINAL and cadre in (*circuit.FINAL_DRAFTS, Cadre.A17):
        # The décompte général is due within 30 days of the final draft.
        anchor = _tacit_anchor(dossier, Cadre.A22)
        dossier.deadline = (anchor.invoice.deposited_at if anchor else now) + circuit.TACIT_DG_DELAY
    elif cadre == Cadre.A22:
        dossier.deadline = now + circuit.TACIT_DGD_DELAY
    elif dossier.waiting_for == PartyRole.MOA and dossier.kind == DossierKind.MENSUEL:
        started = dossier.moe_received_at or now
        moa = dossier.marche.moa
        dossier.deadline = started + timedelta(days=moa.structure.effective_payment_delay_days)
    dossier.save()


def works_piece_deposit(
    *,
    cadre,
    by,
    structure: Structure,
    dossier: Dossier | None = None,
    marche: Marche | None = None,
    data: Mapping | None = None,
    lines: Sequence | None = None,
    corrections: Mapping | None = None,
    channel: str = Channel.PORTAIL,
) -> DossierPiece:
    """Deposit the next document of a dossier (or the first one of a new dossier of `marche`).

    Pre-filled from the fiche marché and the previous document (its lines, when `lines` is None). A MOE or MOA
    document that changes an amount of the previous one needs the reason of each change (`corrections`:
    `{position: reason}` or `{position: {"reason": …}}`); the company is told and has 30 days to contest.
    """
    cadre = _cadre(cadre)
    if not cadre_rule(cadre).is_works:
        raise ApplicationError(
            f"Le cadre {cadre.code} n'est pas un cadre de travaux : déposez cette facture dans « Factures émises ».",
            field="cadre",
        )
    if dossier is None and marche is None:
        raise ApplicationError("Indiquez le marché ou le dossier de facturation de la pièce.", field="marche")
    _require_can_act(by, structure)
    data = dict(data or {})
    now = timezone.now()
    with transaction.atomic():
        if dossier is None:
            dossier = _open_dossier_for(marche=marche, cadre=cadre, by=by, structure=structure)
        dossier = (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("marche", "company__structure", "company__service")
            .get(pk=dossier.pk)
        )
        if marche is not None and dossier.marche_id != marche.pk:
            raise ApplicationError(
                f"Le dossier {dossier.reference} appartient au marché {dossier.marche.numero}, pas au marché "
                f"{marche.numero} : déposez la pièce dans un dossier de ce marché.",
                field="dossier",
                code="dossier_autre_marche",
            )
        step, party = _check_deposit(dossier=dossier, cadre=cadre, structure=structure, now=now)
        predecessor = dossier.last_piece
        fields = _invoice_fields(dossier=dossier, cadre=cadre, predecessor=predecessor, channel=channel, data=data)
        if lines is None:
            if predecessor is None:
                raise ApplicationError("Indiquez au moins une ligne (désignation, quantité, prix unitaire HT).",
                                       field="lines")  # fmt: skip
            lines = _lines_of(predecessor.invoice)
        lines = [dict(line) if isinstance(line, Mapping) else line for line in lines]
        comparison: list[LineComparison] = []
        if predecessor is not None and step.actor != ENTREPRISE:
            reasons = {
                int(k): str(v.get("reason", "") if isinstance(v, Mapping) else v).strip()
                for k, v in (corrections or {}).items()
            }
            comparison = compare_lines(
                _lines_of(predecessor.invoice), lines, reasons=reasons, type_tva=fields["type_tva"]
            )
            _require_reasons(comparison)
        invoice = invoice_draft_create(supplier=dossier.company.structure, by=None, lines=lines, **fields)
        label = f"{by.email} ({structure.designation})" if getattr(by, "email", "") else structure.designation
        invoice = invoice_send(invoice=invoice, by=None, channel=channel, by_label=label)
        route = circuit.ROUTES[cadre]
        route_data = {"dossier": dossier.reference}
        if route == "mettre_a_disposition_moe" and dossier.kind == DossierKind.MENSUEL:
            # The payment clock of a works payment starts at the MOE's reception, as time-stamped here.
            route_data["debut_delai_paiement"] = now.isoformat()
        elif route == "soumettre_valideur":
            route_data["niveau"] = 1
        elif route == "mettre_a_disposition" and dossier.moe_received_at:
            # The payer's document carries the start of the clock too, so that its own history tells it.
            route_data["debut_delai_paiement"] = dossier.moe_received_at.isoformat()
        invoice = invoice_transition(invoice=invoice, transition=route, channel=Channel.SYSTEME, data=route_data)
        if predecessor is not None:
            _close_pending(dossier, cadre=cadre, next_number=invoice.number)
        piece = DossierPiece.objects.create(
            dossier=dossier,
            invoice=invoice,
            cadre=cadre.value,
            position=(predecessor.position + 1) if predecessor else 1,
            predecessor=predecessor,
            depositor_role=party.role,
            depositor=structure,
            deposited_by=by if getattr(by, "pk", None) else None,
        )
        changed = [row for row in comparison if row.changed]
        PieceCorrection.objects.bulk_create(
            PieceCorrection(
                piece=piece,
                position=row.position,
                designation=row.designation[:255],
                original_net_ht=row.original_net_ht,
                corrected_net_ht=row.net_ht,
                reason=row.reason,
            )
            for row in changed
        )
        _refresh_dossier(dossier, piece=piece, route=route, now=now)
        rule = cadre_rule(cadre)
        _event(
            dossier,
            EventKind.DEPOT,
            f"{cadre.code} — {rule.label} n° {invoice.number} déposée par {structure.designation} "
            f"({format_amount(invoice.total_ttc)} TTC) ; transmise à : {rule.next_actor}.",
            by=by,
            structure=structure,
            piece=piece,
            data={"cadre": cadre.code, "numero": invoice.number, "statut": invoice.status},
        )
        if changed:
            dossier.contest_deadline = now + circuit.CONTEST_DELAY
            dossier.contested_at = None
            dossier.contest_reason = ""
            dossier.save(update_fields=["contest_deadline", "contested_at", "contest_reason", "updated_at"])
            details = " ; ".join(
                f"ligne {row.position} ({row.designation}) : {format_amount(row.original_net_ht)} → "
                f"{format_amount(row.net_ht)} HT, {row.reason}"
                for row in changed
            )
            _event(
                dossier,
                EventKind.CORRECTION,
                f"{structure.designation} a corrigé {len(changed)} montant(s) : {details}. "
                f"{dossier.company.structure.designation} peut contester ces corrections jusqu'au "
                f"{_date(dossier.contest_deadline)}.",
                by=by,
                structure=structure,
                piece=piece,
                data={"lignes": [row.position for row in changed]},
            )
        audit_log(
            action="works.piece.deposit",
            actor=by,
            actor_label="" if by else label,
            structure_id=structure.pk,
            target=invoice,
            data={
                "dossier": dossier.reference,
                "cadre": cadre.code,
                "numero": invoice.number,
                "corrections": [row.position for row in changed],
            },
        )
    return piece


def _open_dossier_for(*, marche: Marche, cadre: Cadre, by, structure: Structure) -> Dossier:
    """The dossier a first document opens: the depositing company's, of the kind the cadre says."""
    marche = Marche.objects.prefetch_related("parties__structure").get(pk=marche.pk)
    parties = _parties_of(marche, structure)
    company = next((p for p in parties if p.role in COMPANY_ROLES), None)
    has_moe = marche.moe is not None
    if company is None:
        holder = marche.titulaire
        first = circuit.start_steps(kind=DossierKind.MENSUEL, company_role=holder.role, has_moe=has_moe)
        expected = " ou ".join(describe_step(s, holder) for s in first)
        if not parties:
            raise _not_a_party(marche, structure, expected)
        raise ApplicationError(
            f"Un dossier de facturation s'ouvre par une pièce de l'entreprise : {structure.designation} est "
            f"{parties[0].get_role_display().lower()} du marché {marche.numero}. Pièce attendue : {expected}.",
            field="cadre",
            code="piece_hors_ordre",
        )
    starts = circuit.start_steps(kind=None, company_role=company.role, has_moe=has_moe)
    if cadre not in [s.cadre for s in starts]:
        expected = " ou ".join(describe_step(s, company) for s in starts)
        raise ApplicationError(
            f"Pièce hors de l'ordre : un dossier de facturation ne commence pas par le cadre {cadre.code}. "
            f"Pièce attendue pour ouvrir un dossier : {expected}.",
            field="cadre",
            code="piece_hors_ordre",
        )
    return dossier_create(marche=marche, kind=circuit.START_KIND[cadre], company=structure, by=by, structure=structure)


def _close_pending(dossier: Dossier, *, cadre: Cadre, next_number: str) -> None:
    """The previous documents still waiting become ASSOCIEE (or REMPLACEE_PAR_A22 in the tacit procedure)."""
    transition = "remplacer_par_a22" if cadre == Cadre.A22 else "associer"
    for piece in dossier.pieces.select_related("invoice").filter(invoice__status__in=PENDING):
        invoice_transition(
            invoice=piece.invoice,
            transition=transition,
            channel=Channel.SYSTEME,
            data={"piece_suivante": next_number, "cadre_suivant": cadre.code},
        )


# --- The MOE's and MOA's answers ---------------------------------------------------------------------------


def _pending_piece(dossier: Dossier, role: str, statuses) -> DossierPiece:
    last = dossier.last_piece
    if dossier.status != DossierStatus.EN_COURS or last is None or last.invoice.status not in statuses:
        who = "la maîtrise d'œuvre" if role == PartyRole.MOE else "la maîtrise d'ouvrage"
        expected = describe_expected(dossier)
        state = f"dernière pièce : {last.cadre_code}, {last.invoice.get_status_display().lower()}" if last else "vide"
        raise ApplicationError(
            f"Le dossier {dossier.reference} n'attend pas de réponse de {who} ({state})."
            + (f" Pièce attendue : {expected}." if expected else ""),
            code="etape_inattendue",
        )
    return last


def _require_role(dossier: Dossier, structure: Structure, role: str) -> None:
    party = dossier.marche.party(role)
    if party is None or party.structure_id != structure.pk:
        who = party.structure.designation if party else "(aucune sur la fiche)"
        raise PermissionDeniedError(
            f"Action réservée à la {PartyRole(role).label.lower()} du marché {dossier.marche.numero} : {who}."
        )


def works_moe_take(*, dossier: Dossier, by, structure: Structure, channel: str = Channel.PORTAIL) -> DossierPiece:
    """The MOE takes the company's draft into account (MISE_A_DISPOSITION_MOE → PRISE_EN_COMPTE_MOE)."""
    _require_can_act(by, structure)
    _require_role(dossier, structure, PartyRole.MOE)
    piece = _pending_piece(dossier, PartyRole.MOE, AT_MOE)
    if piece.invoice.status == InvoiceStatus.MISE_A_DISPOSITION_MOE:
        with transaction.atomic():
            invoice_transition(
                invoice=piece.invoice, transition="prendre_en_compte_moe", actor=by, actor_structure=structure,
                channel=channel,
            )  # fmt: skip
            _event(dossier, EventKind.PRISE_EN_COMPTE,
                   f"{structure.designation} (maîtrise d'œuvre) a pris en compte la pièce {piece.cadre_code} n° "
                   f"{piece.invoice.number}.", by=by, structure=structure, piece=piece)  # fmt: skip
        piece.invoice.refresh_from_db()
    return piece


def works_moe_transmit(
    *,
    dossier: Dossier,
    by,
    structure: Structure,
    corrections: Mapping | None = None,
    data: Mapping | None = None,
    channel: str = Channel.PORTAIL,
) -> DossierPiece:
    """The MOE issues its document from the company's draft — A15 état d'acompte (A17 projet de décompte
    général at the end of the contract) — with its line corrections, and transmits it to the MOA."""
    _require_can_act(by, structure)
    _require_role(dossier, structure, PartyRole.MOE)
    piece = _pending_piece(dossier, PartyRole.MOE, AT_MOE)
    correction = works_moe_correct(dossier=dossier, corrections=corrections)
    cadre = Cadre.A17 if dossier.kind == DossierKind.FINAL else Cadre.A15
    with transaction.atomic():
        if piece.invoice.status == InvoiceStatus.MISE_A_DISPOSITION_MOE:
            works_moe_take(dossier=dossier, by=by, structure=structure, channel=channel)
        return works_piece_deposit(
            dossier=dossier,
            cadre=cadre,
            by=by,
            structure=structure,
            data=data,
            lines=correction.lines,
            corrections=correction.reasons,
            channel=channel,
        )


def _check_refusal(reason: str, comment: str) -> RefusalReason:
    if reason == RefusalReason.ERREUR_MONTANT:
        raise ApplicationError(AMOUNT_ERROR_EXPLANATION, field="reason", code="erreur_montant_non_motif_de_refus")
    if reason not in RefusalReason.values:
        allowed = ", ".join(f"{r.value} ({r.label})" for r in RefusalReason if r != RefusalReason.ERREUR_MONTANT)
        raise ApplicationError(f"Motif de refus : choisissez parmi {allowed}.", field="reason")
    if reason == RefusalReason.AUTRE and not (comment or "").strip():
        raise ApplicationError("Motif de refus « Autre » : précisez-le en commentaire.", field="comment")
    return RefusalReason(reason)


def _refuse(*, dossier, by, structure, reason, comment, channel, role, statuses, transition) -> DossierPiece:
    _require_can_act(by, structure)
    motif = _check_refusal(reason, comment)
    _require_role(dossier, structure, role)
    piece = _pending_piece(dossier, role, statuses)
    with transaction.atomic():
        invoice_transition(
            invoice=piece.invoice,
            transition=transition,
            actor=by,
            actor_structure=structure,
            channel=channel,
            motif=motif.label,
            comment=comment or "",
            data={"code_motif": motif.value, "dossier": dossier.reference},
        )
        Dossier.objects.filter(pk=dossier.pk).update(
            status=DossierStatus.REFUSE, waiting_for="", deadline=None, updated_at=timezone.now()
        )
        _event(
            dossier,
            EventKind.REFUS,
            f"{structure.designation} ({PartyRole(role).label.lower()}) a refusé la pièce {piece.cadre_code} n° "
            f"{piece.invoice.number} : {motif.label}{f' — {comment}' if comment else ''}. Le circuit du dossier "
            "est arrêté.",
            by=by,
            structure=structure,
            piece=piece,
            data={"code_motif": motif.value},
        )
        audit_log(
            action=f"works.piece.{transition}",
            actor=by,
            structure_id=structure.pk,
            target=piece.invoice,
            data={"dossier": dossier.reference, "motif": motif.value},
        )
    dossier.refresh_from_db()
    return piece


def works_moe_refuse(
    *, dossier: Dossier, by, structure: Structure, reason: str, comment: str = "", channel: str = Channel.PORTAIL
) -> DossierPiece:
    """The MOE refuses the company's draft: the circuit stops. A wrong amount is corrected, never refused."""
    return _refuse(
        dossier=dossier, by=by, structure=structure, reason=reason, comment=comment, channel=channel,
        role=PartyRole.MOE, statuses=AT_MOE, transition="refuser_moe",
    )  # fmt: skip


def works_moa_refuse(
    *, dossier: Dossier, by, structure: Structure, reason: str, comment: str = "", channel: str = Channel.PORTAIL
) -> DossierPiece:
    """The MOA refuses the document it received: the circuit stops."""
    return _refuse(
        dossier=dossier, by=by, structure=structure, reason=reason, comment=comment, channel=channel,
        role=PartyRole.MOA, statuses=AT_MOA, transition="refuser_moa",
    )  # fmt: skip


def works_moa_validate(
    *,
    dossier: Dossier,
    by,
    structure: Structure,
    corrections: Mapping | None = None,
    data: Mapping | None = None,
    channel: str = Channel.PORTAIL,
) -> DossierPiece:
    """The MOA validates: A19 état d'acompte validé, to the payer's « Factures reçues » (A20 décompte général,
    notified to the company, at the end of the contract)."""
    _require_can_act(by, structure)
    _require_role(dossier, structure, PartyRole.MOA)
    piece = _pending_piece(dossier, PartyRole.MOA, AT_MOA)
    correction = works_moe_correct(dossier=dossier, corrections=corrections)
    cadre = Cadre.A20 if dossier.kind == DossierKind.FINAL else Cadre.A19
    with transaction.atomic():
        if piece.invoice.status in (InvoiceStatus.TRANSMISE_MOA, InvoiceStatus.MISE_A_DISPOSITION_MOA):
            invoice_transition(
                invoice=piece.invoice, transition="prendre_en_compte_moa", actor=by, actor_structure=structure,
                channel=channel,
            )  # fmt: skip
        new = works_piece_deposit(
            dossier=dossier,
            cadre=cadre,
            by=by,
            structure=structure,
            data=data,
            lines=correction.lines,
            corrections=correction.reasons,
            channel=channel,
        )
        _event(
            dossier,
            EventKind.VALIDATION,
            f"{structure.designation} (maîtrise d'ouvrage) a validé : {new.cadre_code} n° {new.invoice.number}"
            + (
                " transmise au service payeur."
                if cadre == Cadre.A19
                else " notifiée à l'entreprise, qui la signe (A8)."
            ),
            by=by,
            structure=structure,
            piece=new,
        )
    return new


def works_contest(*, dossier: Dossier, by, structure: Structure, reason: str) -> Dossier:
    """The company contests the amounts the MOE (or MOA) corrected, within 30 days."""
    _require_can_act(by, structure)
    if dossier.company.structure_id != structure.pk:
        raise PermissionDeniedError(
            f"Seule l'entreprise du dossier ({dossier.company.structure.designation}) conteste ses corrections."
        )
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Contestation : expliquez ce que vous contestez et pourquoi.", field="reason")
    now = timezone.now()
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if locked.contest_deadline is None:
            raise ApplicationError("Aucun montant de ce dossier n'a été corrigé : il n'y a rien à contester.")
        if locked.contested_at is not None:
            raise ApplicationError(
                f"Les corrections de ce dossier ont déjà été contestées le {_date(locked.contested_at)}."
            )
        if now > locked.contest_deadline:
            raise ApplicationError(
                f"Le délai de contestation a expiré le {_date(locked.contest_deadline)} (30 jours après la "
                "correction) : les montants corrigés sont réputés acceptés.",
                code="delai_expire",
            )
        locked.contested_at = now
        locked.contest_reason = reason[:2000]
        locked.save(update_fields=["contested_at", "contest_reason", "updated_at"])
        _event(
            locked,
            EventKind.CONTESTATION,
            f"{structure.designation} conteste les corrections : {reason}",
            by=by,
            structure=structure,
        )
        audit_log(
            action="works.dossier.contest", actor=by, structure_id=structure.pk, target=locked,
            data={"dossier": locked.reference},
        )  # fmt: skip
    return locked


def works_recycle(
    *,
    piece: DossierPiece,
    by,
    structure: Structure,
    recipient: Structure,
    recipient_service: Service | None = None,
    numero_engagement: str = "",
    channel: str = Channel.PORTAIL,
) -> DossierPiece:
    """The company recycles a document the payer sent back (A_RECYCLER): new routing data, same number; the
    document then goes where its cadre sends it again (the invoices routing leaves works cadres alone)."""
    from choeur.invoices.lifecycle import invoice_recycle

    with transaction.atomic():
        invoice = invoice_recycle(
            invoice=piece.invoice,
            by=by,
            structure=structure,
            recipient=recipient,
            recipient_service=recipient_service,
            numero_engagement=numero_engagement,
            channel=channel,
        )
        if invoice.status == InvoiceStatus.DEPOSEE:
            invoice_transition(
                invoice=invoice,
                transition=circuit.ROUTES[Cadre(piece.cadre)],
                channel=Channel.SYSTEME,
                data={"dossier": piece.dossier.reference, "recyclage": True},
            )
        _event(
            piece.dossier,
            EventKind.DEPOT,
            f"{structure.designation} a recyclé la pièce {piece.cadre_code} n° {invoice.number} (nouvelles données "
            f"d'acheminement : {recipient.designation}).",
            by=by,
            structure=structure,
            piece=piece,
        )
    piece.invoice.refresh_from_db()
    return piece


# --- Reminders -------------------------------------------------------------------------------------------

REMINDER_SOON = "J-2"
REMINDER_LATE = "DEPASSE"


def works_send_reminders(*, now: datetime | None = None) -> int:
    """Remind the MOE of drafts whose 7 days end within two days, then once when the delay is over. Idempotent:
    each reminder is sent once per dossier and step (the periodic job may catch up after a downtime)."""
    now = now or timezone.now()
    sent = 0
    candidates = Dossier.objects.filter(
        status=DossierStatus.EN_COURS,
        waiting_for=PartyRole.MOE,
        moe_deadline__isnull=False,
        moe_deadline__lte=now + timedelta(days=2),
    ).select_related("marche", "company__structure")
    for dossier in candidates:
        kind = REMINDER_LATE if dossier.moe_deadline <= now else REMINDER_SOON
        with transaction.atomic():
            locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
            if kind in locked.reminders_sent or locked.waiting_for != PartyRole.MOE:
                continue
            locked.reminders_sent = [*locked.reminders_sent, kind]
            locked.save(update_fields=["reminders_sent", "updated_at"])
            moe = dossier.marche.moe
            when = _date(dossier.moe_deadline)
            message = (
                f"Rappel à {moe.structure.designation} : le délai de 7 jours pour traiter le projet de décompte de "
                f"{dossier.company.structure.designation} (dossier {dossier.reference}) "
                + (f"a expiré le {when}." if kind == REMINDER_LATE else f"expire le {when}.")
            )
            _event(locked, EventKind.RAPPEL, message, structure=moe.structure, data={"rappel": kind})
            audit_log(
                action="works.dossier.reminder", structure_id=moe.structure_id, target=locked,
                data={"dossier": dossier.reference, "rappel": kind},
            )  # fmt: skip
            sent += 1
    return sent
