"""The public annuaire of public structures (no login): search, then a structure's required parameters and
active services, so a supplier knows what to put on the invoice."""

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from choeur.core.errors import NotFoundError
from choeur.directory.annuaire import (
    annuaire_search,
    annuaire_services,
    annuaire_structure_get,
    structure_routing_requirements,
    structure_routing_summary,
)
from choeur.portal.annuaire_views.forms import AnnuaireSearchForm

RESULTS_PER_PAGE = 20
SERVICES_PER_PAGE = 25


def _page(request: HttpRequest, queryset, per_page: int):
    paginator = Paginator(queryset, per_page)
    page_obj = paginator.get_page(request.GET.get("page"))
    page_obj.pages_list = list(paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1))
    return page_obj


def annuaire(request: HttpRequest) -> HttpResponse:
    form = AnnuaireSearchForm(request.GET or None)
    searched = bool(request.GET) and form.is_valid() and any(form.cleaned_data.values())
    page_obj = None
    if searched:
        structures = annuaire_search(
            name=form.cleaned_data["q"], siret=form.cleaned_data["siret"], location=form.cleaned_data["lieu"]
        )
        page_obj = _page(request, structures, RESULTS_PER_PAGE)
    context = {
        "title": "Annuaire des structures publiques",
        "nav_section": "annuaire",
        "form": form,
        "searched": searched,
        "page_obj": page_obj,
    }
    # HTMX live search replaces only the results; without JavaScript the whole page comes back.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "portal/annuaire/_results.html" if partial else "portal/annuaire/search.html"
    return render(request, template, context)


def annuaire_detail(request: HttpRequest, structure_id: int) -> HttpResponse:
    try:
        structure = annuaire_structure_get(structure_id=structure_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from None
    return render(
        request,
        "portal/annuaire/detail.html",
        {
            "title": structure.designation,
            "nav_section": "annuaire",
            "structure": structure,
            "summary": structure_routing_summary(structure),
            "requirements": structure_routing_requirements(structure),
            "page_obj": _page(request, annuaire_services(structure), SERVICES_PER_PAGE),
        },
    )
