"""Reads of works contracts and dossiers, always bounded to the structures of the person asking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from choeur.core.errors import NotFoundError
from choeur.directory.models import Structure
from choeur.invoices.computations import compute_line
from choeur.invoices.enums import Cadre, InvoiceStatus, TypeTva
from choeur.invoices.models import Invoice
from choeur.invoices.payment_clock import PaymentClock, compute_payment_clock
from choeur.invoices.selectors import structures_of
from choeur.works.circuit import ACTOR_LABELS, ENTREPRISE, VALIDEUR, Step, next_steps
from choeur.works.enums import DossierStatus, PartyRole
from choeur.works.models import Dossier, DossierPiece, Marche, MarcheParty

_PARTIES = Prefetch("parties", queryset=MarcheParty.objects.select_related("structure", "service", "works_for"))


def marches_visible_to(*, user) -> QuerySet[Marche]:
    """Markets one of the user's structures is party to."""
    return Marche.objects.of_structures(structures_of(user)).prefetch_related(_PARTIES).order_by("-created_at", "-id")


def marche_get_for_user(*, user, marche_id: int) -> Marche:
    marche = marches_visible_to(user=user).filter(pk=marche_id).first()
    if marche is None:
        raise NotFoundError("Marché introuvable, ou vous n'y êtes pas partie.")
    return marche


def marches_of_structure(*, structure: Structure) -> QuerySet[Marche]:
    return Marche.objects.of_structures([structure]).prefetch_related(_PARTIES)


def _dossiers(structures) -> QuerySet[Dossier]:
    return (
        Dossier.objects.of_structures(structures)
        .select_related("marche", "company__structure")
        .prefetch_related(Prefetch("marche__parties", queryset=MarcheParty.objects.select_related("structure")))
    )


def dossiers_visible_to(*, user, structure: Structure | None = None) -> QuerySet[Dossier]:
    """« Factures de travaux »: dossiers of the markets the user's structures are party to (cotraitants and
    sous-traitants see only their own), newest first."""
    structures = structures_of(user)
    if structure is not None:
        structures = structures.filter(pk=structure.pk)
    return _dossiers(structures).order_by("-created_at", "-id")


def dossiers_of_structure(*, structure: Structure) -> QuerySet[Dossier]:
    return _dossiers([structure]).order_by("-created_at", "-id")


def dossier_get_for_user(*, user, dossier_id: int) -> Dossier:
    """One dossier the user may see; NotFoundError otherwise (never « forbidden », which would leak it)."""
    dossier = dossiers_visible_to(user=user).filter(pk=dossier_id).first()
    if dossier is None:
        raise NotFoundError("Dossier de facturation introuvable, ou vous n'êtes pas partie à son marché.")
    return dossier


def works_queue(*, user, role: str = PartyRole.MOE) -> QuerySet[Dossier]:
    """« Factures à valider des entreprises de travaux »: dossiers waiting for one of the user's structures as
    MOE (or MOA), the most urgent deadline first."""
    structures = structures_of(user)
    return (
        Dossier.objects.filter(
            status=DossierStatus.EN_COURS,
            waiting_for=role,
            marche__parties__role=role,
            marche__parties__structure__in=structures,
        )
        .distinct()
        .select_related("marche", "company__structure")
        .order_by("deadline", "created_at", "id")
    )


def roles_in_marche(marche: Marche, structure: Structure) -> set[str]:
    return {p.role for p in marche.parties.all() if p.structure_id == structure.pk}


def party_for_actor(dossier: Dossier, actor: str) -> MarcheParty | None:
    """The party who acts at a step: the dossier's company, or the market's MOE or MOA."""
    if actor == ENTREPRISE:
        return dossier.company
    return dossier.marche.party(actor)


def expected_steps(dossier: Dossier) -> tuple[Step, ...]:
    """What may be deposited next in this dossier (nothing once stopped or with the payer)."""
    if dossier.status != DossierStatus.EN_COURS:
        return ()
    last = Cadre(dossier.stage) if dossier.stage else None
    return next_steps(
        last, kind=dossier.kind, company_role=dossier.company.role, has_moe=dossier.marche.moe is not None
    )


def describe_step(step: Step, party: MarcheParty | None) -> str:
    """« A15 (état d'acompte établi par la maîtrise d'œuvre), à déposer par Atelier Dubois (maîtrise d'œuvre) »."""
    from choeur.invoices.cadres import cadre_rule

    who = ACTOR_LABELS[step.actor]
    if party is not None:
        who = f"{party.structure.designation} ({party.get_role_display().lower()})"
    return f"{step.code} ({cadre_rule(step.cadre).label.lower()}), à déposer par {who}"


def describe_expected(dossier: Dossier) -> str:
    steps = expected_steps(dossier)
    if not steps:
        return ""
    expected = " ou ".join(describe_step(step, party_for_actor(dossier, step.actor)) for step in steps)
    if dossier.waiting_for == VALIDEUR:
        valideur = validating_structure(dossier)
        who = valideur.designation if valideur is not None else "le titulaire"
        expected = f"d'abord la validation du projet du sous-traitant par {who}, puis {expected}"
    return expected


def validating_structure(dossier: Dossier) -> Structure | None:
    """The valideur a sous-traitant's draft waits for (level 1 or 2), while the dossier waits for one."""
    if dossier.waiting_for != VALIDEUR:
        return None
    last = dossier.last_piece
    if last is None:
        return None
    if last.invoice.status == InvoiceStatus.A_VALIDER_2:
        return last.invoice.valideur2
    return last.invoice.valideur


def works_validation_queue(*, user) -> QuerySet[Dossier]:
    """Dossiers of sous-traitants whose draft waits for the validation of one of the user's structures (as
    titulaire, cotraitant or mandataire), the most urgent deadline first."""
    structures = structures_of(user)
    waiting = Invoice.objects.to_validate_by(structures).filter(works_piece__isnull=False)
    return (
        Dossier.objects.filter(status=DossierStatus.EN_COURS, waiting_for=VALIDEUR, pieces__invoice__in=waiting)
        .distinct()
        .select_related("marche", "company__structure")
        .order_by("deadline", "created_at", "id")
    )


@dataclass(frozen=True)
class LineComparison:
    position: int
    designation: str
    unit: str
    original_quantity: Decimal | None
    original_unit_price: Decimal | None
    original_net_ht: Decimal
    quantity: Decimal | None
    unit_price: Decimal | None
    net_ht: Decimal
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.net_ht != self.original_net_ht

    @property
    def difference(self) -> Decimal:
        return self.net_ht - self.original_net_ht


def compare_lines(
    original, corrected, *, reasons: dict[int, str] | None = None, type_tva=None
) -> list[LineComparison]:
    """Line-by-line comparison of two documents (lines as model objects or dicts), matched by position."""
    reasons = reasons or {}

    def _get(line, name):
        return line.get(name) if isinstance(line, dict) else getattr(line, name)

    def _net(line) -> Decimal:
        if not isinstance(line, dict):
            return line.line_net_ht
        return compute_line(
            quantity=Decimal(str(_get(line, "quantity") or 0)),
            unit_price_ht=Decimal(str(_get(line, "unit_price_ht") or 0)),
            discount_ht=Decimal(str(_get(line, "discount_ht") or 0)),
            vat_rate=Decimal(str(_get(line, "vat_rate") or 0)),
            type_tva=type_tva or TypeTva.TVA_SUR_DEBIT,
        ).net_ht

    by_position_before = {index + 1: line for index, line in enumerate(original)}
    by_position_after = {index + 1: line for index, line in enumerate(corrected)}
    rows = []
    for position in sorted(set(by_position_before) | set(by_position_after)):
        before = by_position_before.get(position)
        after = by_position_after.get(position)
        reference = after if after is not None else before
        rows.append(
            LineComparison(
                position=position,
                designation=str(_get(reference, "designation") or ""),
                unit=str(_get(reference, "unit") or ""),
                original_quantity=_get(before, "quantity") if before is not None else None,
                original_unit_price=_get(before, "unit_price_ht") if before is not None else None,
                original_net_ht=_net(before) if before is not None else Decimal("0.00"),
                quantity=_get(after, "quantity") if after is not None else None,
                unit_price=_get(after, "unit_price_ht") if after is not None else None,
                net_ht=_net(after) if after is not None else Decimal("0.00"),
                reason=reasons.get(position, ""),
            )
        )
    return rows


def piece_comparison(piece: DossierPiece) -> list[LineComparison]:
    """A MOE/MOA document beside the one it follows, with the reasons of the corrections."""
    if piece.predecessor is None:
        return compare_lines(list(piece.invoice.lines.all()), list(piece.invoice.lines.all()))
    reasons = {c.position: c.reason for c in piece.corrections.all()}
    return compare_lines(
        list(piece.predecessor.invoice.lines.all()),
        list(piece.invoice.lines.all()),
        reasons=reasons,
        type_tva=piece.invoice.type_tva,
    )


def dossier_payment_clock(dossier: Dossier, *, today=None) -> PaymentClock | None:
    """The legal payment clock of a monthly dossier, started at the MOE's reception of the company's draft
    (or at the first deposit when there is no MOE)."""
    first = dossier.pieces.select_related("invoice").order_by("position").first()
    started: datetime | None = dossier.moe_received_at or (first.invoice.deposited_at if first else None)
    if started is None:
        return None
    moa = dossier.marche.moa
    last = dossier.last_piece
    amount = (last.invoice.montant_a_payer or last.invoice.total_ttc or Decimal("0")) if last else Decimal("0")
    return compute_payment_clock(
        started_at=started,
        delay_days=moa.structure.effective_payment_delay_days if moa else 30,
        amount=amount,
        today=today or timezone.localdate(),
    )


def deadline_state(deadline: datetime | None, *, now: datetime | None = None) -> str:
    """« late », « soon » (two days or less) or « ok », for the badges of the queue."""
    if deadline is None:
        return "none"
    now = now or timezone.now()
    if deadline < now:
        return "late"
    if deadline - now <= timedelta(days=2):
        return "soon"
    return "ok"
