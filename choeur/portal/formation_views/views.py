"""The « Parcours de formation » (demo mode only): the page, the trainer's handout (printable, PDF) and the
one-click sign-in as a demonstration's persona. With CHOEUR_DEMO_MODE off (the default), all of it is a 404."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from choeur.portal.formation_views.parcours import DEMONSTRATIONS, DEMONSTRATIONS_BY_SLUG

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def demo_mode_required(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.CHOEUR_DEMO_MODE:
            raise Http404("Le mode démonstration n'est pas activé sur cette instance.")
        return view(request, *args, **kwargs)

    return wrapped


def _context(**extra):
    return {"demonstrations": DEMONSTRATIONS, "title": "Parcours de formation", "nav_section": "aide", **extra}


@demo_mode_required
def parcours_view(request):
    return render(request, "portal/formation/parcours.html", _context())


@demo_mode_required
def handout_pdf_view(request):
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string("portal/formation/handout.html", _context(generated_at=timezone.localtime()))
    pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=("data",))).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="choeur-parcours-de-formation.pdf"'
    return response


@demo_mode_required
@require_POST
def sign_in_view(request, slug):
    demonstration = DEMONSTRATIONS_BY_SLUG.get(slug)
    if demonstration is None:
        raise Http404("Démonstration inconnue.")
    user = get_user_model().objects.filter(email=demonstration.persona.email, is_active=True).first()
    if user is None:
        raise Http404("Le jeu de démonstration n'est pas chargé : lancez « choeur reset_demo ».")
    auth_login(request, user, backend=MODEL_BACKEND)
    return redirect(demonstration.start_url)
