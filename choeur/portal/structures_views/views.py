"""Placeholder views, replaced by the real ones."""

from django.shortcuts import render


def structures(request):
    return render(request, "portal/placeholder.html", {"title": "structures"})


def gestionnaire(request):
    return render(request, "portal/placeholder.html", {"title": "gestionnaire"})
