"""Placeholder views, replaced by the real ones."""

from django.shortcuts import render


def login(request):
    return render(request, "portal/placeholder.html", {"title": "login"})


def logout(request):
    return render(request, "portal/placeholder.html", {"title": "logout"})


def register(request):
    return render(request, "portal/placeholder.html", {"title": "register"})


def profile(request):
    return render(request, "portal/placeholder.html", {"title": "profile"})


def reauth(request):
    return render(request, "portal/placeholder.html", {"title": "reauth"})
