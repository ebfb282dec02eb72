"""E-mails about structures: requests, decisions, roles and bank details. French, plain text.

Services call these from `transaction.on_commit`, so that a rolled-back action sends nothing. Each
recipient gets their own message: gestionnaires never see each other's addresses. Bank details are
always masked (`BankAccount.masked_iban`): an e-mail is not a safe place for a full IBAN.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

SITE_NAME = "Chœur"


def site_link(url_name: str, *args: Any) -> str:
    """An absolute link built on `settings.SITE_URL` (the request's Host header is not trusted)."""
    return settings.SITE_URL.rstrip("/") + reverse(url_name, args=args)


def email_send(*, to: str, template: str, context: dict[str, Any]) -> None:
    """Render `directory/emails/<template>_subject.txt` and `<template>.txt`, send them to one address."""
    context = {"site_url": settings.SITE_URL.rstrip("/"), "site_name": SITE_NAME, **context}
    subject = " ".join(render_to_string(f"directory/emails/{template}_subject.txt", context).split())
    body = render_to_string(f"directory/emails/{template}.txt", context)
    send_mail(subject, body, None, [to])


def _send_each(users: Iterable, *, template: str, context: dict[str, Any]) -> int:
    sent = 0
    seen: set[str] = set()
    for user in users:
        address = user.notification_email
        if not address or address in seen:
            continue
        seen.add(address)
        email_send(to=address, template=template, context={**context, "recipient": user})
        sent += 1
    return sent


def rattachement_requested_notify(*, rattachement, gestionnaires: Iterable) -> int:
    """Tell the structure's gestionnaires that someone asks to join it."""
    return _send_each(
        gestionnaires,
        template="rattachement_requested",
        context={
            "rattachement": rattachement,
            "structure": rattachement.structure,
            "requester": rattachement.user,
            "services": list(rattachement.services.all()),
            "link": site_link("portal:gestionnaire_rattachement", rattachement.pk),
        },
    )


def rattachement_decided_notify(*, rattachement) -> None:
    """Tell the requester the gestionnaire's decision (with the reason of a refusal)."""
    email_send(
        to=rattachement.user.notification_email,
        template="rattachement_decided",
        context={
            "rattachement": rattachement,
            "structure": rattachement.structure,
            "user": rattachement.user,
            "validated": rattachement.status == "VALIDEE",
            "link": site_link("portal:structures"),
        },
    )


def rattachement_deactivated_notify(*, rattachement, by) -> None:
    email_send(
        to=rattachement.user.notification_email,
        template="rattachement_deactivated",
        context={"structure": rattachement.structure, "user": rattachement.user, "by": by},
    )


def role_changed_notify(*, rattachement, by) -> None:
    """Tell a person their role on a structure changed (promotion, demotion, transfer, appointment)."""
    email_send(
        to=rattachement.user.notification_email,
        template="role_changed",
        context={
            "structure": rattachement.structure,
            "user": rattachement.user,
            "role": rattachement.get_role_display(),
            "by": by,
            "link": site_link("portal:structure_detail", rattachement.structure_id),
        },
    )


def bank_account_changed_notify(
    *, bank_account, change: str, by, gestionnaires: Iterable, previous_masked_iban: str = ""
) -> int:
    """Warn every gestionnaire of a change of bank details: a fraudster who took over one account must
    not be able to divert payments silently."""
    return _send_each(
        gestionnaires,
        template="bank_account_changed",
        context={
            "structure": bank_account.structure,
            "bank_account": bank_account,
            "change": change,
            "by": by,
            "at": timezone.localtime(),
            "masked_iban": bank_account.masked_iban,
            "previous_masked_iban": previous_masked_iban,
            "link": site_link("portal:structure_bank_accounts", bank_account.structure_id),
        },
    )


def subscription_requested_notify(*, subscription, gestionnaires: Iterable) -> int:
    return _send_each(
        gestionnaires,
        template="subscription_requested",
        context={
            "subscription": subscription,
            "structure": subscription.espace.structure,
            "requester": subscription.rattachement.user,
            "link": site_link("portal:gestionnaire_subscriptions"),
        },
    )


def subscription_decided_notify(*, subscription) -> None:
    user = subscription.rattachement.user
    email_send(
        to=user.notification_email,
        template="subscription_decided",
        context={
            "subscription": subscription,
            "structure": subscription.espace.structure,
            "user": user,
            "validated": subscription.status == "VALIDEE",
            "link": site_link("portal:structure_espaces", subscription.espace.structure_id),
        },
    )
