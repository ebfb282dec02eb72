"""Placeholder views, replaced by the real ones."""

from django.shortcuts import render


def annuaire(request):
    return render(request, "portal/placeholder.html", {"title": "annuaire"})
