"""The home page: what Chœur is for each kind of visitor, with the way in; signed-in users get their own
shortcuts, with what waits for them (counts read only for the espaces open to them)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from choeur.invoices import search
from choeur.invoices.lifecycle import rejections_pending
from choeur.invoices.validation_circuit import validation_queue
from choeur.portal.context_processors import NavigationRights
from choeur.works.enums import PartyRole
from choeur.works.selectors import works_queue


@dataclass
class Shortcut:
    title: str
    detail: str
    url: str
    count: int | None = None


def _shortcuts(request: HttpRequest) -> list[Shortcut]:
    user, nav = request.user, NavigationRights(request.user)
    shortcuts = []
    if nav.received:
        synthesis = search.received_synthesis(search.dashboard_queryset(user=user, side=search.RECEIVED))
        shortcuts.append(
            Shortcut(
                "Factures reçues à traiter",
                "Mises à disposition ou complétées par le fournisseur",
                reverse("portal:invoices_received") + "?statut=a_traiter",
                synthesis.to_process,
            )
        )
    if nav.to_validate:
        shortcuts.append(
            Shortcut(
                "Factures à valider",
                "Sous-traitants et cotraitants qui attendent votre validation",
                reverse("portal:invoices_to_validate"),
                validation_queue(user=user).count(),
            )
        )
    if nav.works:
        shortcuts.append(
            Shortcut(
                "Travaux à valider",
                "Projets de décompte et états d'acompte qui vous attendent",
                reverse("portal:works_queue"),
                works_queue(user=user, role=PartyRole.MOE).count()
                + works_queue(user=user, role=PartyRole.MOA).count(),
            )
        )
    if nav.issued:
        synthesis = search.issued_synthesis(search.dashboard_queryset(user=user, side=search.ISSUED), drafts_shown=0)
        shortcuts += [
            Shortcut(
                "Factures émises à reprendre",
                "Suspendues à compléter ou à recycler",
                reverse("portal:invoices_issued"),
                synthesis.suspended + synthesis.to_recycle,
            ),
            Shortcut(
                "Rejets à prendre en compte",
                "Factures rejetées dont vous n'avez pas encore pris connaissance",
                reverse("portal:invoices_issued") + "?statut=REJETEE",
                rejections_pending(user=user).count(),
            ),
            Shortcut(
                "Brouillons",
                "Factures commencées, à terminer puis envoyer",
                reverse("portal:invoices_issued") + "?statut=brouillons",
                synthesis.drafts_count,
            ),  # fmt: skip
            Shortcut(
                "Saisir une facture",
                "Le formulaire en cinq étapes, ou le dépôt d'un PDF ou d'un XML",
                reverse("portal:invoice_new"),
            ),  # fmt: skip
        ]
    if not shortcuts:
        shortcuts.append(
            Shortcut(
                "Rejoindre ou créer une structure",
                "Pour facturer ou recevoir des factures, rattachez-vous à votre entreprise ou à votre entité",
                reverse("portal:structures"),
            )
        )
    return shortcuts


def home(request: HttpRequest) -> HttpResponse:
    context = {"title": "Accueil"}
    if request.user.is_authenticated:
        context["shortcuts"] = _shortcuts(request)
    return render(request, "portal/home.html", context)
