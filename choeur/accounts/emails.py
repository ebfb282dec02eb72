"""E-mails about a person's account. French, plain text, sent through Django's e-mail backend.

Callers send them from `transaction.on_commit` so that a rolled-back action sends nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse


def site_link(url_name: str, *args: Any) -> str:
    """An absolute link for an e-mail, built on `settings.SITE_URL` (the request's host is not trusted)."""
    return settings.SITE_URL.rstrip("/") + reverse(url_name, args=args)


def email_send(*, to: str, template: str, context: dict[str, Any]) -> None:
    """Render `accounts/emails/<template>_subject.txt` and `<template>.txt` and send them to one address."""
    context = {"site_url": settings.SITE_URL.rstrip("/"), "site_name": "Chœur", **context}
    subject = " ".join(render_to_string(f"accounts/emails/{template}_subject.txt", context).split())
    body = render_to_string(f"accounts/emails/{template}.txt", context)
    send_mail(subject, body, None, [to])
