from django.http import Http404
from django.shortcuts import render

from choeur.invoices.enums import Cadre
from choeur.portal.aide_views.cadres import CADRE_HELP, cadre_choose
from choeur.portal.aide_views.forms import CadreChooserForm
from choeur.portal.aide_views.pages import help_pages, help_search


def aide_page(request, slug="index"):
    page = help_pages().get(slug)
    if page is None:
        raise Http404("Page d'aide inconnue.")
    return render(request, "portal/aide/page.html", {
        "title": page.title, "page": page, "pages": help_pages().values(), "nav_section": "aide",
    })  # fmt: skip


def aide_search(request):
    query = request.GET.get("q", "").strip()
    results = help_search(query) if query else []
    return render(request, "portal/aide/search.html", {
        "title": "Rechercher dans l'aide", "query": query, "results": results, "nav_section": "aide",
    })  # fmt: skip


def aide_cadre(request):
    form = CadreChooserForm(request.GET or None)
    cadre = help_item = None
    reason = ""
    if form.is_bound and form.is_valid():
        cadre, reason = cadre_choose(**form.cleaned_data)
        help_item = CADRE_HELP[cadre] if cadre else None
    return render(request, "portal/aide/cadre.html", {
        "title": "Quel cadre de facturation choisir ?", "form": form, "cadre": cadre and Cadre(cadre),
        "help": help_item, "reason": reason, "nav_section": "aide",
    })  # fmt: skip
