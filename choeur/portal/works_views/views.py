"""« Factures de travaux »: dossiers de facturation, the MOE's work queue, the dossier page (the company's draft
beside the MOE's état d'acompte), the deposit of the next document, and the fiche d'identité du marché."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from choeur.core.errors import ApplicationError, NotFoundError
from choeur.directory.enums import EspaceCode
from choeur.directory.models import Structure
from choeur.directory.selectors import user_can
from choeur.invoices.enums import Cadre, Channel, InvoiceStatus
from choeur.invoices.selectors import structures_of
from choeur.portal.works_views.forms import (
    ContestForm,
    LineFormSet,
    MarcheForm,
    PieceForm,
    RefusalForm,
    ValideurDecisionForm,
)
from choeur.works import circuit
from choeur.works.enums import COMPANY_ROLES, DossierStatus, PartyRole
from choeur.works.models import Dossier, Marche
from choeur.works.selectors import (
    deadline_state,
    describe_expected,
    dossier_get_for_user,
    dossier_payment_clock,
    dossiers_visible_to,
    expected_steps,
    marche_get_for_user,
    marches_visible_to,
    party_for_actor,
    piece_comparison,
    validating_structure,
    works_queue,
    works_validation_queue,
)
from choeur.works.services import (
    marche_create,
    marche_update,
    works_contest,
    works_moa_refuse,
    works_moa_validate,
    works_moe_correct,
    works_moe_refuse,
    works_moe_transmit,
    works_piece_deposit,
)
from choeur.works.validation import works_valideur_decide
from choeur.works.workflow import AT_MOA, AT_MOE

PER_PAGE = 20
NAV = "works"
RECEIVED = (InvoiceStatus.MISE_A_DISPOSITION, InvoiceStatus.COMPLETEE)


def _acting(user) -> list[Structure]:
    """The structures the person may act for in « Factures de travaux »."""
    return [s for s in structures_of(user) if user_can(user, s, EspaceCode.FACTURES_TRAVAUX, write=True)]


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "portal/works/forbidden.html",
        {"title": "Accès refusé", "nav_section": NAV, "message": message},
        status=403,
    )


def _dossier_or_404(request: HttpRequest, dossier_id: int) -> Dossier:
    try:
        return dossier_get_for_user(user=request.user, dossier_id=dossier_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


def _invoice_url(invoice_id: int) -> str | None:
    # The invoice page belongs to another part of the portal.
    try:
        return reverse("portal:invoice_detail", args=[invoice_id])
    except NoReverseMatch:
        return None


def _actor_structure(user, dossier: Dossier, actor: str) -> Structure | None:
    """The structure through which `user` plays `actor` (ENTREPRISE, MOE, MOA) in this dossier, if any."""
    party = party_for_actor(dossier, actor)
    if party is None:
        return None
    return next((s for s in _acting(user) if s.pk == party.structure_id), None)


def _error(request: HttpRequest, exc: ApplicationError) -> None:
    messages.error(request, exc.message)


# --- Lists -------------------------------------------------------------------------------------------


@login_required
def dossier_list_view(request: HttpRequest) -> HttpResponse:
    dossiers = dossiers_visible_to(user=request.user)
    page_obj = Paginator(dossiers, PER_PAGE).get_page(request.GET.get("page"))
    acting = _acting(request.user)
    acting_ids = {s.pk for s in acting}
    can_deposit = any(
        p.role in COMPANY_ROLES and p.structure_id in acting_ids
        for marche in marches_visible_to(user=request.user)
        for p in marche.parties.all()
    )
    rows = [_dossier_row(d) for d in page_obj]
    return render(
        request,
        "portal/works/dossiers.html",
        {
            "title": "Factures de travaux",
            "nav_section": NAV,
            "page_obj": page_obj,
            "rows": rows,
            "can_deposit": can_deposit,
            "queue_count": works_queue(user=request.user).count(),
        },
    )


def _dossier_row(dossier: Dossier) -> dict:
    last = dossier.last_piece
    return {
        "dossier": dossier,
        "last": last,
        "waiting_for": circuit.ACTOR_LABELS.get(dossier.waiting_for, ""),
        "deadline_state": deadline_state(dossier.deadline),
    }


@login_required
def queue_view(request: HttpRequest) -> HttpResponse:
    """« Factures à valider des entreprises de travaux »: the MOE's queue (and the MOA's), by deadline."""
    moe_rows = [_dossier_row(d) for d in works_queue(user=request.user, role=PartyRole.MOE)]
    moa_rows = [_dossier_row(d) for d in works_queue(user=request.user, role=PartyRole.MOA)]
    valideur_rows = [_dossier_row(d) for d in works_validation_queue(user=request.user)]
    return render(
        request,
        "portal/works/queue.html",
        {
            "title": "Factures à valider des entreprises de travaux",
            "nav_section": NAV,
            "moe_rows": moe_rows,
            "moa_rows": moa_rows,
            "valideur_rows": valideur_rows,
        },
    )


# --- Dossier page ---------------------------------------------------------------------------------------


@login_required
def dossier_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    dossier = _dossier_or_404(request, dossier_id)
    refused = request.session.pop(_refusal_key(dossier.pk), None)
    extra = _refused_forms(dossier, refused) if refused else {}
    return render(request, "portal/works/dossier.html", _dossier_context(request, dossier, **extra))


# A refused form of the dossier page is answered by a redirect to the page, which shows it again as typed
# with what to fix (post/redirect/get: a reload re-posts nothing).
REFUSED_FORMS = {
    "refusal_form": lambda data, dossier: RefusalForm(data, prefix="refus"),
    "valideur_form": lambda data, dossier: ValideurDecisionForm(
        data, prefix="titulaire", cadre=dossier.last_piece.cadre_code
    ),
    "contest_form": lambda data, dossier: ContestForm(data, prefix="contestation"),
}


def _refusal_key(dossier_id: int) -> str:
    return f"works_refused:{dossier_id}"


def _refuse(request: HttpRequest, dossier: Dossier, kind: str, form=None) -> HttpResponse:
    data = request.POST.copy()
    data.pop("csrfmiddlewaretoken", None)
    errors = []
    if form is not None:  # errors the service added (they are not found again by validating the form)
        errors = [(None if f == "__all__" else f, str(m)) for f, messages_ in form.errors.items() for m in messages_]
    request.session[_refusal_key(dossier.pk)] = {"kind": kind, "data": data.urlencode(), "errors": errors}
    return redirect("portal:works_dossier", dossier_id=dossier.pk)


def _refused_forms(dossier: Dossier, refused: dict) -> dict:
    data = QueryDict(refused["data"])
    if refused["kind"] == "posted":
        return {"posted": data}
    make = REFUSED_FORMS.get(refused["kind"])
    if make is None or dossier.last_piece is None:
        return {}
    form = make(data, dossier)
    form.is_valid()
    known = {(None if f == "__all__" else f, str(m)) for f, messages_ in form.errors.items() for m in messages_}
    for field, message in refused.get("errors", []):
        if (field, message) not in known:
            form.add_error(field if field in form.fields else None, message)
    return {refused["kind"]: form}


def _dossier_context(request: HttpRequest, dossier: Dossier, **extra) -> dict:
    user = request.user
    pieces = dossier.pieces_in_order()
    last = pieces[-1] if pieces else None
    for piece in pieces:
        piece.url = _invoice_url(piece.invoice_id)
    # The MOE's (or MOA's) documents beside the one they follow, changed amounts highlighted.
    comparisons = [
        {"piece": piece, "rows": piece_comparison(piece)}
        for piece in pieces
        if piece.predecessor is not None and piece.depositor_role in (PartyRole.MOE, PartyRole.MOA)
    ]
    status = last.invoice.status if last else ""
    moe_structure = _actor_structure(user, dossier, PartyRole.MOE)
    moa_structure = _actor_structure(user, dossier, PartyRole.MOA)
    company_structure = _actor_structure(user, dossier, circuit.ENTREPRISE)
    en_cours = dossier.status == DossierStatus.EN_COURS
    moe_turn = bool(moe_structure and en_cours and status in AT_MOE)
    moa_turn = bool(moa_structure and en_cours and status in AT_MOA)
    # Steps deposited through the generic form (not the MOE's correction form nor the MOA's validation).
    next_steps = [
        step
        for step in expected_steps(dossier)
        if _actor_structure(user, dossier, step.actor) is not None
        and not (step.actor == PartyRole.MOE and moe_turn)
        and not (step.actor == PartyRole.MOA and moa_turn)
    ]
    contest_open = bool(
        company_structure
        and dossier.contest_deadline
        and dossier.contested_at is None
        and timezone.now() <= dossier.contest_deadline
    )
    valideur = validating_structure(dossier) if en_cours else None
    valideur_structure = next((s for s in _acting(user) if valideur and s.pk == valideur.pk), None)
    # A titulaire or mandataire follows the dossiers of the market's other companies without acting on them.
    read_only = not any((moe_structure, moa_structure, company_structure, valideur_structure)) and bool(
        _market_roles(user, dossier) & {PartyRole.TITULAIRE, PartyRole.MANDATAIRE}
    )
    valideur_form = extra.pop("valideur_form", None)
    if valideur_structure and valideur_form is None:
        valideur_form = ValideurDecisionForm(prefix="titulaire", cadre=last.cadre_code)
    payer = (
        moa_structure if moa_structure and user_can(user, moa_structure, EspaceCode.FACTURES_RECUES, True) else None
    )
    can_pay = bool(payer and last and status in RECEIVED and last.invoice.recipient_id == payer.pk)
    clock = dossier_payment_clock(dossier) if dossier.kind == "MENSUEL" else None
    return {
        "title": f"Dossier de facturation {dossier.reference}",
        "nav_section": NAV,
        "dossier": dossier,
        "marche": dossier.marche,
        "pieces": pieces,
        "last": last,
        "comparisons": comparisons,
        "events": list(dossier.events.select_related("actor_structure").order_by("-created_at", "-id")),
        "expected": describe_expected(dossier),
        "waiting_for": circuit.ACTOR_LABELS.get(dossier.waiting_for, ""),
        "deadline_state": deadline_state(dossier.deadline),
        "moe_deadline_state": deadline_state(dossier.moe_deadline) if dossier.waiting_for == PartyRole.MOE else "",
        "clock": clock,
        "moe_turn": moe_turn,
        "moa_turn": moa_turn,
        "next_steps": next_steps,
        "contest_open": contest_open,
        "can_pay": can_pay,
        "moe_rows": _moe_rows(last, extra.pop("posted", None)) if moe_turn or moa_turn else [],
        "refusal_form": RefusalForm(prefix="refus"),
        "valideur": valideur,
        "valideur_turn": valideur_structure is not None,
        "valideur_form": valideur_form,
        "read_only": read_only,
        "contest_form": ContestForm(prefix="contestation"),
        **extra,
    }


def _market_roles(user, dossier: Dossier) -> set[str]:
    mine = {s.pk for s in structures_of(user)}
    return {p.role for p in dossier.marche.parties.all() if p.structure_id in mine}


def _moe_rows(last, posted) -> list[dict]:
    """The lines of the document to correct, with what the person typed when the form came back refused."""
    posted = posted or {}
    return [
        {
            "line": line,
            "q": posted.get(f"q_{line.position}", _plain(line.quantity)),
            "p": posted.get(f"p_{line.position}", _plain(line.unit_price_ht)),
            "r": posted.get(f"r_{line.position}", ""),
        }
        for line in last.invoice.lines.all()
    ]


def _correction_input(request: HttpRequest, dossier: Dossier) -> dict:
    """`q_<n>`, `p_<n>`, `r_<n>`: corrected quantity, unit price and reason of line n, when filled in."""
    corrections = {}
    last = dossier.last_piece
    for line in last.invoice.lines.all() if last else ():
        n = line.position
        quantity = request.POST.get(f"q_{n}", "").strip()
        price = request.POST.get(f"p_{n}", "").strip()
        reason = request.POST.get(f"r_{n}", "").strip()
        change = {}
        if quantity and quantity.replace(",", ".") != _plain(line.quantity):
            change["quantity"] = quantity.replace(",", ".")
        if price and price.replace(",", ".") != _plain(line.unit_price_ht):
            change["unit_price_ht"] = price.replace(",", ".")
        if reason:
            change["reason"] = reason
        if change:
            corrections[n] = change
    return corrections


@login_required
@require_POST
def moe_transmit_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    dossier = _dossier_or_404(request, dossier_id)
    structure = _actor_structure(request.user, dossier, PartyRole.MOE)
    if structure is None:
        return _forbidden(request, "Seule la maîtrise d'œuvre du marché établit l'état d'acompte.")
    number = request.POST.get("number", "").strip()
    try:
        piece = works_moe_transmit(
            dossier=dossier,
            by=request.user,
            structure=structure,
            corrections=_correction_input(request, dossier),
            data={"number": number} if number else None,
        )
    except ApplicationError as exc:
        _error(request, exc)
        return _refuse(request, dossier, "posted")
    messages.success(
        request,
        f"{piece.cadre_code} n° {piece.invoice.number} établie et transmise à la maîtrise d'ouvrage"
        + (
            f" ; {piece.corrections.count()} montant(s) corrigé(s), l'entreprise en est informée."
            if piece.corrections.exists()
            else "."
        ),
    )
    return redirect("portal:works_dossier", dossier_id=dossier.pk)


@login_required
@require_POST
def moe_preview_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """The MOE's état d'acompte beside the company's draft, before it is issued (HTMX partial, or the page)."""
    dossier = _dossier_or_404(request, dossier_id)
    if _actor_structure(request.user, dossier, PartyRole.MOE) is None:
        return _forbidden(request, "Seule la maîtrise d'œuvre du marché établit l'état d'acompte.")
    preview = None
    error = ""
    try:
        preview = works_moe_correct(
            dossier=dossier, corrections=_correction_input(request, dossier), require_reasons=False
        )
    except ApplicationError as exc:
        error = exc.message
    context = {"preview": preview, "preview_error": error}
    if request.htmx:
        return render(request, "portal/works/_preview.html", context)
    return render(
        request, "portal/works/dossier.html", _dossier_context(request, dossier, posted=request.POST, **context)
    )


@login_required
@require_POST
def refuse_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    dossier = _dossier_or_404(request, dossier_id)
    form = RefusalForm(request.POST, prefix="refus")
    last = dossier.last_piece
    role = PartyRole.MOA if last and last.invoice.status in AT_MOA else PartyRole.MOE
    structure = _actor_structure(request.user, dossier, role)
    if structure is None:
        return _forbidden(request, "Seules la maîtrise d'œuvre et la maîtrise d'ouvrage du marché refusent une pièce.")
    if form.is_valid():
        refuse = works_moa_refuse if role == PartyRole.MOA else works_moe_refuse
        try:
            refuse(dossier=dossier, by=request.user, structure=structure, reason=form.cleaned_data["reason"],
                   comment=form.cleaned_data["comment"])  # fmt: skip
        except ApplicationError as exc:
            form.add_error("reason" if exc.field == "reason" else None, exc.message)
        else:
            messages.success(
                request, "Pièce refusée : le circuit du dossier est arrêté et l'entreprise en est informée."
            )
            return redirect("portal:works_dossier", dossier_id=dossier.pk)
    return _refuse(request, dossier, "refusal_form", form)


@login_required
@require_POST
def moa_validate_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    dossier = _dossier_or_404(request, dossier_id)
    structure = _actor_structure(request.user, dossier, PartyRole.MOA)
    if structure is None:
        return _forbidden(request, "Seule la maîtrise d'ouvrage du marché valide l'état d'acompte.")
    try:
        piece = works_moa_validate(dossier=dossier, by=request.user, structure=structure)
    except ApplicationError as exc:
        _error(request, exc)
        return redirect("portal:works_dossier", dossier_id=dossier.pk)
    if piece.cadre == Cadre.A19:
        messages.success(request, f"A19 n° {piece.invoice.number} validée : elle est dans les « Factures reçues ».")
    else:
        messages.success(request, f"{piece.cadre_code} n° {piece.invoice.number} notifiée à l'entreprise.")
    return redirect("portal:works_dossier", dossier_id=dossier.pk)


@login_required
@require_POST
def valideur_decide_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """The titulaire (or cotraitant, or mandataire) validates or refuses a sous-traitant's draft."""
    dossier = _dossier_or_404(request, dossier_id)
    valideur = validating_structure(dossier)
    structure = next((s for s in _acting(request.user) if valideur and s.pk == valideur.pk), None)
    if structure is None:
        return _forbidden(
            request, "Seul le titulaire désigné sur la fiche du marché valide le projet de décompte du sous-traitant."
        )
    last = dossier.last_piece
    form = ValideurDecisionForm(request.POST, prefix="titulaire", cadre=last.cadre_code)
    if form.is_valid():
        data = form.cleaned_data
        try:
            works_valideur_decide(
                dossier=dossier, by=request.user, structure=structure, decision=data["decision"],
                motif=data["motif"], comment=data["comment"], certified=data["certified"],
            )  # fmt: skip
        except ApplicationError as exc:
            form.add_error("motif" if exc.field == "motif" else None, exc.message)
        else:
            if data["decision"] == "VALIDATION":
                messages.success(request, f"Pièce {last.cadre_code} n° {last.invoice.number} validée.")
            else:
                messages.success(
                    request, "Pièce refusée : le circuit du dossier est arrêté et le sous-traitant en est informé."
                )
            return redirect("portal:works_dossier", dossier_id=dossier.pk)
    return _refuse(request, dossier, "valideur_form", form)


@login_required
@require_POST
def contest_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    dossier = _dossier_or_404(request, dossier_id)
    structure = _actor_structure(request.user, dossier, circuit.ENTREPRISE)
    if structure is None:
        return _forbidden(request, "Seule l'entreprise du dossier conteste les corrections.")
    form = ContestForm(request.POST, prefix="contestation")
    if form.is_valid():
        try:
            works_contest(dossier=dossier, by=request.user, structure=structure, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, "Contestation enregistrée : la maîtrise d'œuvre et la maîtrise d'ouvrage en sont informées."
            )
            return redirect("portal:works_dossier", dossier_id=dossier.pk)
    return _refuse(request, dossier, "contest_form", form)


@login_required
@require_POST
def pay_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """The payer marks the dossier's last document paid (the processing of « Factures reçues »)."""
    from choeur.invoices.lifecycle import invoice_process

    dossier = _dossier_or_404(request, dossier_id)
    structure = _actor_structure(request.user, dossier, PartyRole.MOA)
    last = dossier.last_piece
    if structure is None or last is None or last.invoice.recipient_id != structure.pk:
        return _forbidden(request, "Seul le service payeur de la pièce la met en paiement.")
    try:
        invoice_process(
            invoice=last.invoice,
            by=request.user,
            structure=structure,
            transition="mettre_en_paiement",
            expected_status=request.POST.get("expected_status") or None,
        )
    except ApplicationError as exc:
        _error(request, exc)
    else:
        messages.success(request, f"{last.cadre_code} n° {last.invoice.number} mise en paiement.")
    return redirect("portal:works_dossier", dossier_id=dossier.pk)


# --- Deposits --------------------------------------------------------------------------------------------


def _plain(value) -> str:
    """12000.000000 → « 12000 » (never « 1.2E+4 »)."""
    return format(value.normalize(), "f")


def _lines_initial(invoice) -> list[dict]:
    return [
        {
            "reference": line.reference,
            "designation": line.designation,
            "quantity": _plain(line.quantity),
            "unit": line.unit,
            "unit_price_ht": _plain(line.unit_price_ht),
            "vat_rate": _plain(line.vat_rate),
        }
        for line in invoice.lines.all()
    ]


def _posted_lines(formset) -> list[dict]:
    return [line for line in (form.as_line() for form in formset.forms) if line]


@login_required
def deposit_view(request: HttpRequest) -> HttpResponse:
    """The first document of a new dossier (projet de décompte mensuel or final), by a company of a market."""
    acting = {s.pk: s for s in _acting(request.user)}
    marches = [
        m for m in marches_visible_to(user=request.user)
        if any(p.role in COMPANY_ROLES and p.structure_id in acting for p in m.parties.all())
    ]  # fmt: skip
    if not marches:
        return _forbidden(
            request,
            "Pour déposer un projet de décompte, votre structure doit figurer comme entreprise (titulaire, cotraitant "
            "ou sous-traitant) sur la fiche d'un marché, et vous devez être abonné(e) à son espace « Factures de "
            "travaux » avec l'habilitation « modification ».",
        )
    companies = [acting[p.structure_id] for m in marches for p in m.parties.all()
                 if p.role in COMPANY_ROLES and p.structure_id in acting]  # fmt: skip
    companies = list({s.pk: s for s in companies}.values())
    starts = [Cadre.A4, Cadre.A5, Cadre.A6, Cadre.A7, Cadre.A10, Cadre.A11, Cadre.A13, Cadre.A14]
    initial_marche = request.GET.get("marche")
    form = PieceForm(
        request.POST or None,
        structures=companies,
        cadres=starts,
        marches=marches,
        initial={"marche": initial_marche, "cadre": Cadre.A4.value},
    )
    formset = LineFormSet(request.POST or None, prefix="lignes")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        marche = next(m for m in marches if m.pk == form.cleaned_data["marche"])
        piece = _deposit(request, form, formset, marche=marche, structure=acting[form.cleaned_data["structure"]])
        if piece is not None:
            return redirect("portal:works_dossier", dossier_id=piece.dossier_id)
    return render(
        request,
        "portal/works/deposit.html",
        {"title": "Déposer un projet de décompte", "nav_section": NAV, "form": form, "formset": formset},
        status=400 if request.method == "POST" else 200,
    )


def _deposit(request, form, formset, *, structure, marche=None, dossier=None):
    data = {
        "number": form.cleaned_data.get("number") or "",
        "invoice_date": form.cleaned_data.get("invoice_date"),
        "comment": form.cleaned_data.get("comment") or "",
        "type_tva": form.cleaned_data.get("type_tva") or "",
    }
    try:
        piece = works_piece_deposit(
            marche=marche,
            dossier=dossier,
            cadre=form.cleaned_data["cadre"],
            by=request.user,
            structure=structure,
            data=data,
            lines=_posted_lines(formset) or None,
            corrections={n: r for n, r in _reasons(request).items()},
            channel=Channel.PORTAIL,
        )
    except ApplicationError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return None
    messages.success(
        request,
        f"{piece.cadre_code} n° {piece.invoice.number} déposée ({piece.invoice.get_status_display().lower()}).",
    )
    return piece


def _reasons(request) -> dict[int, str]:
    reasons = {}
    for key, value in request.POST.items():
        if key.startswith("r_") and key[2:].isdigit() and value.strip():
            reasons[int(key[2:])] = value.strip()
    return reasons


@login_required
def piece_next_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """« Déposer la pièce de facturation suivante », pre-filled from the previous document."""
    dossier = _dossier_or_404(request, dossier_id)
    steps = [s for s in expected_steps(dossier) if _actor_structure(request.user, dossier, s.actor) is not None]
    if not steps:
        expected = describe_expected(dossier)
        return _forbidden(
            request,
            "Aucune pièce de ce dossier n'est attendue de vos structures."
            + (f" Pièce attendue : {expected}." if expected else " Le dossier est complet ou arrêté."),
        )
    structures = list({s.pk: s for s in (_actor_structure(request.user, dossier, st.actor) for st in steps)}.values())
    last = dossier.last_piece
    wanted = request.GET.get("cadre")
    form = PieceForm(
        request.POST or None,
        structures=structures,
        cadres=[s.cadre for s in steps],
        initial={"cadre": wanted or steps[0].cadre.value, "type_tva": last.invoice.type_tva if last else None},
    )
    formset = LineFormSet(
        request.POST or None, prefix="lignes", initial=_lines_initial(last.invoice) if last else None
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        structure = next(s for s in structures if s.pk == form.cleaned_data["structure"])
        piece = _deposit(request, form, formset, dossier=dossier, structure=structure)
        if piece is not None:
            return redirect("portal:works_dossier", dossier_id=dossier.pk)
    return render(
        request,
        "portal/works/deposit.html",
        {
            "title": "Déposer la pièce de facturation suivante",
            "nav_section": NAV,
            "form": form,
            "formset": formset,
            "dossier": dossier,
            "previous": last,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Fiche d'identité du marché ----------------------------------------------------------------------------


@login_required
def marche_list_view(request: HttpRequest) -> HttpResponse:
    marches = marches_visible_to(user=request.user)
    return render(
        request,
        "portal/works/marches.html",
        {
            "title": "Marchés de travaux",
            "nav_section": NAV,
            "marches": marches,
            "can_create": any(s.is_moe or (s.is_public and s.is_moa) for s in _acting(request.user)),
        },
    )


def _sheet_structures(user) -> list[Structure]:
    return [s for s in _acting(user) if s.is_moe or (s.is_public and s.is_moa)]


@login_required
def marche_create_view(request: HttpRequest) -> HttpResponse:
    structures = _sheet_structures(request.user)
    if not structures:
        return _forbidden(
            request,
            "La fiche d'identité d'un marché est saisie par sa maîtrise d'ouvrage ou sa maîtrise d'œuvre : aucune "
            "de vos structures ne l'est (ou vous n'avez pas l'habilitation « modification » de son espace "
            "« Factures de travaux »).",
        )
    form = MarcheForm(request.POST or None, structures=structures)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            marche = marche_create(
                by=request.user,
                structure=next(s for s in structures if s.pk == data["structure"]),
                numero=data["numero"],
                objet=data["objet"],
                numero_engagement=data["numero_engagement"],
                parties=data["parties"],
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Fiche du marché {marche.numero} enregistrée.")
            return redirect("portal:works_marche", marche_id=marche.pk)
    return render(
        request,
        "portal/works/marche_form.html",
        {"title": "Nouvelle fiche d'identité de marché", "nav_section": NAV, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def marche_view(request: HttpRequest, marche_id: int) -> HttpResponse:
    try:
        marche = marche_get_for_user(user=request.user, marche_id=marche_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from None
    editors = [
        s
        for s in _acting(request.user)
        if any(p.structure_id == s.pk and p.role in (PartyRole.MOA, PartyRole.MOE) for p in marche.parties.all())
    ]
    form = None
    if editors:
        form = MarcheForm(request.POST or None, structures=editors, initial=MarcheForm.initial_for(marche))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                marche_update(
                    marche=marche,
                    by=request.user,
                    structure=next(s for s in editors if s.pk == data["structure"]),
                    numero=data["numero"],
                    objet=data["objet"],
                    numero_engagement=data["numero_engagement"],
                    parties=data["parties"],
                )
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Fiche du marché {data['numero']} mise à jour.")
                return redirect("portal:works_marche", marche_id=marche.pk)
    elif request.method == "POST":
        return _forbidden(request, "Seules la maîtrise d'ouvrage et la maîtrise d'œuvre du marché modifient sa fiche.")
    return render(
        request,
        "portal/works/marche.html",
        {
            "title": f"Marché {marche.numero}",
            "nav_section": NAV,
            "marche": Marche.objects.prefetch_related("parties__structure", "parties__service").get(pk=marche.pk),
            "dossiers": dossiers_visible_to(user=request.user).filter(marche=marche),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )
