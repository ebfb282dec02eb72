"""Placeholder views, replaced by the real ones."""

from django.shortcuts import render


def raccordement(request):
    return render(request, "portal/placeholder.html", {"title": "raccordement"})
