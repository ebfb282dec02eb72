"""Step 3 of the saisie: lines, document-level allowances and charges, prepaid amount, totals computed live."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from choeur.core.errors import ApplicationError
from choeur.invoices.computations import compute_totals, format_rate
from choeur.invoices.enums import ModeDepot
from choeur.invoices.models import Invoice
from choeur.invoices.services import (
    invoice_draft_update,
    invoice_precheck,
)
from choeur.portal.invoices_views.common import (
    TOTAL_FIELDS,
    _action,
    _add_error,
    _after_save,
    _blocking,
    _int,
    _issued_or_404,
    _money,
    _next_step_data,
    _number_text,
    _recompute_totals,
    _step_context,
    _wants_check,
)
from choeur.portal.invoices_views.forms import (
    ALLOWANCE_CHARGE_FIELDS,
    LINE_FIELDS,
    NATURE_CHARGE,
    VAT_RATE_HINTS,
    AllowanceChargeForm,
    AllowanceChargeFormSet,
    DiscountForm,
    LineForm,
    LineFormSet,
)


def _raw_rows(data) -> list[dict]:
    try:
        total = min(int(data.get("lines-TOTAL_FORMS", 0)), 500)
    except ValueError:
        total = 0
    return [{name: data.get(f"lines-{i}-{name}", "") for name in LINE_FIELDS} for i in range(total)]


def _raw_allowance_charges(data) -> list[dict]:
    try:
        total = min(int(data.get("ac-TOTAL_FORMS", 0)), 100)
    except ValueError:
        total = 0
    return [{name: data.get(f"ac-{i}-{name}", "") for name in ALLOWANCE_CHARGE_FIELDS} for i in range(total)]


def _allowance_charges_of(invoice: Invoice) -> list[dict]:
    return [
        {
            "nature": NATURE_CHARGE if row.is_charge else "remise",
            "reason": row.reason,
            "amount": _number_text(row.amount),
            "vat_rate": _number_text(row.vat_rate) if row.vat_rate is not None else "",
        }
        for row in invoice.allowance_charges.filter(line__isnull=True).order_by("position")
    ]


def _unbound_lines(rows: list[dict]):
    return LineFormSet(prefix="lines", initial=rows or [{"unit": "C62", "quantity": "1", "vat_rate": "20"}])


def _rows_of(invoice: Invoice) -> list[dict]:
    return [
        {
            "reference": line.reference,
            "designation": line.designation,
            "quantity": _number_text(line.quantity),
            "unit": line.unit,
            "unit_price_ht": _number_text(line.unit_price_ht),
            "discount_ht": _number_text(line.discount_ht) if line.discount_ht else "",
            "vat_rate": _number_text(line.vat_rate),
        }
        for line in invoice.lines.order_by("position")
    ]


def _typed_allowance_charges(ac_formset) -> list[dict]:
    items = []
    for form in ac_formset.forms:
        probe = form if form.is_bound else AllowanceChargeForm(data=dict(form.initial))
        if probe.is_valid() and not probe.is_blank():
            items.append(probe.item())
    return items


def _totals_context(invoice: Invoice, formset, remise, ac_formset=None, prepaid=None) -> dict:
    """Per-row nets and the invoice totals, computed on the server from what is typed (valid rows)."""
    nets, lines = [], []
    for form in formset.forms:
        probe = form if form.is_bound else LineForm(data=dict(form.initial))
        if not probe.is_valid() or probe.is_blank():
            nets.append("—")
            continue
        line = probe.line()
        try:
            nets.append(_money(compute_totals([line], type_tva=invoice.type_tva).total_ht, invoice.currency))
        except ValueError:
            nets.append("—")
            continue
        lines.append(line)
    context = {"nets": nets, "currency": invoice.currency, "has_lines": bool(lines)}
    try:
        totals = compute_totals(
            lines,
            type_tva=invoice.type_tva,
            remise_globale_ttc=remise or None,
            allowance_charges=_typed_allowance_charges(ac_formset) if ac_formset is not None else (),
            prepaid_amount=prepaid,
        )
    except ValueError:
        return context
    cur = invoice.currency
    context.update(
        vat_rows=[
            {
                "rate": format_rate(row.rate),
                "category": row.category,
                "base": _money(row.base_ht, cur),
                "vat": _money(row.vat_amount, cur),
            }
            for row in totals.vat_breakdown
        ],
        line_total=_money(totals.line_total_ht, cur),
        allowances=_money(totals.allowance_total_ht, cur) if totals.allowance_total_ht else "",
        charges=_money(totals.charge_total_ht, cur) if totals.charge_total_ht else "",
        total_ht=_money(totals.total_ht, cur),
        total_tva=_money(totals.total_tva, cur),
        total_ttc=_money(totals.total_ttc, cur),
        prepaid=_money(totals.prepaid_amount, cur) if totals.prepaid_amount else "",
        remise=_money(totals.remise_globale_ttc, cur) if totals.remise_globale_ttc else "",
        net=_money(totals.montant_a_payer, cur),
    )
    if invoice.mode_depot == ModeDepot.UPLOAD_PORTAIL and invoice.total_ttc is not None:
        declared = {name: getattr(invoice, name) for name in TOTAL_FIELDS}
        computed = {name: getattr(totals, name) for name in TOTAL_FIELDS}
        context["declared"] = {
            "total_ht": _money(declared["total_ht"], cur),
            "total_tva": _money(declared["total_tva"], cur),
            "total_ttc": _money(declared["total_ttc"], cur),
            "net": _money(declared["montant_a_payer"], cur),
            "differs": any(declared[n] is not None and declared[n] != computed[n] for n in TOTAL_FIELDS),
        }
    return context


def _step_lines(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    status = 200
    if request.method == "POST":
        action = _action(request)
        rows = _raw_rows(request.POST)
        ac_rows = _raw_allowance_charges(request.POST)
        discount = DiscountForm(request.POST)
        if action in ("add_line", "add_ac") or action.startswith(("remove_line:", "remove_ac:")):
            # Rows are added or removed on the re-displayed form; nothing is lost and nothing saved yet.
            if action == "add_line":
                rows.append({"unit": "C62", "quantity": "1", "vat_rate": rows[-1]["vat_rate"] if rows else "20"})
            elif action == "add_ac":
                ac_rows.append({"nature": "remise", "vat_rate": rows[-1]["vat_rate"] if rows else "20"})
            else:
                target = rows if action.startswith("remove_line:") else ac_rows
                index = _int(action.split(":", 1)[1])
                if index is not None and 0 <= index < len(target):
                    target.pop(index)
            formset = _unbound_lines(rows)
            ac_formset = AllowanceChargeFormSet(prefix="ac", initial=ac_rows)
            discount.is_valid()
        else:
            formset = LineFormSet(request.POST, prefix="lines")
            # A form posted without the remises block (an older page) leaves the remises as they are.
            ac_posted = "ac-TOTAL_FORMS" in request.POST
            ac_formset = (
                AllowanceChargeFormSet(request.POST, prefix="ac")
                if ac_posted
                else AllowanceChargeFormSet(prefix="ac", initial=_allowance_charges_of(invoice))
            )
            if formset.is_valid() and (not ac_posted or ac_formset.is_valid()) and discount.is_valid():
                lines = formset.lines()
                try:
                    invoice = invoice_draft_update(
                        invoice=invoice,
                        by=request.user,
                        data={
                            **discount.draft_data(),
                            **_recompute_totals(invoice),
                            **_next_step_data(invoice, 3, action),
                        },
                        lines=lines,
                        allowance_charges=ac_formset.items() if ac_posted else None,
                    )
                except ApplicationError as exc:
                    _line_error(formset, discount, exc.field or "", exc.message, ac_formset)
                else:
                    if action != "next":
                        return _after_save(request, invoice, 3, action)
                    blocking = _blocking(invoice_precheck(invoice=invoice), 3)
                    if not blocking:
                        return _after_save(request, invoice, 3, action)
                    for finding in blocking:
                        _line_error(formset, discount, finding.field, finding.message, ac_formset)
                    messages.warning(request, "Brouillon enregistré. Corrigez les points signalés pour continuer.")
            has_errors = (
                formset.total_error_count()
                or (ac_posted and ac_formset.total_error_count())
                or discount.errors
                or formset.non_form_errors()
            )
            status = 400 if has_errors else 200
    else:
        formset = _unbound_lines(_rows_of(invoice))
        ac_formset = AllowanceChargeFormSet(prefix="ac", initial=_allowance_charges_of(invoice))
        discount = DiscountForm(
            initial={
                "remise_globale_ttc": _number_text(invoice.remise_globale_ttc) if invoice.remise_globale_ttc else "",
                "motif_remise_globale": invoice.motif_remise_globale,
                "prepaid_amount": _number_text(invoice.prepaid_amount) if invoice.prepaid_amount else "",
            }
        )
        if _wants_check(request):
            for finding in _blocking(invoice_precheck(invoice=invoice), 3):
                _line_error(formset, discount, finding.field, finding.message, ac_formset)
    remise = _remise_of(discount, invoice)
    context = _step_context(
        invoice,
        3,
        formset=formset,
        ac_formset=ac_formset,
        discount=discount,
        totals=_totals_context(invoice, formset, remise, ac_formset, _prepaid_of(discount, invoice)),
        vat_rates=[rate.replace(".", ",") for rate in VAT_RATE_HINTS],
        lines_errors=getattr(formset, "_choeur_errors", []),
    )
    return render(request, "portal/invoices/step_lines.html", context, status=status)


def _prepaid_of(discount: DiscountForm, invoice: Invoice):
    if discount.is_bound:
        return discount.cleaned_data.get("prepaid_amount") if discount.is_valid() else None
    return invoice.prepaid_amount


def _remise_of(discount: DiscountForm, invoice: Invoice):
    if discount.is_bound:
        return discount.cleaned_data.get("remise_globale_ttc") if discount.is_valid() else None
    return invoice.remise_globale_ttc


def _line_error(formset, discount, field: str, message: str, ac_formset=None) -> None:
    """Put an error on the line row it names (`lines.<index>.<field>`, index among the non-blank rows), or
    on the remise/charge row (`allowance_charges.<index>`)."""
    if field in discount.fields:
        _add_error(discount, field, message)
        return
    parts = field.split(".")
    if parts[0] == "allowance_charges" and ac_formset is not None and len(parts) >= 2 and parts[1].isdigit():
        filled = [form for form in ac_formset.forms if not (form.is_bound and form.is_valid() and form.is_blank())]
        if int(parts[1]) < len(filled):
            _add_error(filled[int(parts[1])], None, message)
            return
    if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit():
        filled = [form for form in formset.forms if not _form_blank(form)]
        index = int(parts[1])
        if index < len(filled):
            form = filled[index]
            name = parts[2] if len(parts) > 2 and parts[2] in form.fields else None
            _add_error(form, name, message)
            return
    errors = getattr(formset, "_choeur_errors", [])
    if message not in errors:
        errors.append(message)
    formset._choeur_errors = errors


def _form_blank(form) -> bool:
    if form.is_bound:
        return form.is_valid() and form.is_blank()
    return not any(v not in (None, "") for k, v in form.initial.items() if k not in ("unit", "quantity", "vat_rate"))


@login_required
@require_POST
def invoice_draft_totals(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: the totals block (and each row's net amount, out of band) for the lines as typed, computed
    on the server with the same functions as the sending."""
    invoice = _issued_or_404(request, pk)
    formset = LineFormSet(request.POST, prefix="lines")
    formset.is_valid()
    ac_formset = (
        AllowanceChargeFormSet(request.POST, prefix="ac")
        if "ac-TOTAL_FORMS" in request.POST
        else AllowanceChargeFormSet(prefix="ac", initial=_allowance_charges_of(invoice))
    )
    ac_formset.is_valid()
    discount = DiscountForm(request.POST)
    valid = discount.is_valid()
    remise = discount.cleaned_data.get("remise_globale_ttc") if valid else None
    prepaid = discount.cleaned_data.get("prepaid_amount") if valid else None
    response = render(
        request,
        "portal/invoices/_totals.html",
        {"totals": _totals_context(invoice, formset, remise, ac_formset, prepaid), "oob": True, "invoice": invoice},
    )
    response["Cache-Control"] = "no-store"
    return response
