"""E-mail notifications of sollicitations and the event sent to the API (feed, webhooks).

After the commit of a creation or of an action, the other side is told: the recipient structure's people
(or the platform's administrators for support) when the sender acted, the sender when the recipient did.
Each person's frequency is their invoices' notification preference for the pseudo-espace « SOLLICITATIONS »
of their structure (immediate by default, weekly digest, or none); a not-connected sender is e-mailed at once.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from choeur.core.errors import ApplicationError, NotFoundError
from choeur.directory.models import Rattachement, Structure
from choeur.invoices.enums import NotificationFrequency as F
from choeur.invoices.models import NotificationPreference
from choeur.sollicitations.enums import RecipientKind, SollicitationRole, SollicitationStatus
from choeur.sollicitations.models import Sollicitation, SollicitationNotification
from choeur.sollicitations.signals import sollicitation_event

ESPACE = "SOLLICITATIONS"
DEFAULT_FREQUENCY = F.IMMEDIATE
SITE_NAME = "Chœur"
ACTION_TITLES = {
    "creer": "nouvelle sollicitation",
    "prendre_en_charge": "prise en charge",
    "demander_complement": "un complément vous est demandé",
    "completer": "complément reçu",
    "repondre": "réponse reçue",
    "transferer": "transférée",
    "relancer": "relancée par l'émetteur",
    "cloturer": "clôturée",
}


def sollicitation_link(sollicitation: Sollicitation) -> str:
    base = settings.SITE_URL.rstrip("/")
    try:
        return base + reverse("portal:sollicitation_detail", args=[sollicitation.pk])
    except NoReverseMatch:
        return base + "/"


def _recipient_people(sollicitation: Sollicitation) -> list[tuple[object, Structure | None]]:
    if sollicitation.recipient_kind == RecipientKind.SUPPORT:
        return [(u, None) for u in get_user_model().objects.filter(is_staff=True, is_active=True)]
    rattachements = (
        Rattachement.objects.validated()
        .filter(structure=sollicitation.recipient_structure, user__is_active=True)
        .select_related("user")
    )
    return [(r.user, sollicitation.recipient_structure) for r in rattachements]


def _frequency(user, structure: Structure | None) -> str:
    if structure is None:
        return DEFAULT_FREQUENCY
    chosen = (
        NotificationPreference.objects.filter(user=user, structure=structure, espace=ESPACE)
        .values_list("frequency", flat=True)
        .first()
    )
    return chosen or DEFAULT_FREQUENCY


def _send(*, to: str, subject: str, context: dict) -> None:
    text = render_to_string("sollicitations/emails/event.txt", context)
    EmailMultiAlternatives(subject, text, None, [to]).send()


def _create_once(**fields) -> SollicitationNotification | None:
    try:
        with transaction.atomic():
            return SollicitationNotification.objects.create(**fields)
    except IntegrityError:
        return None


def notify_event(*, sollicitation: Sollicitation, action: str, actor, actor_role: str, event_key: str, body: str = ""):
    """Create the notifications of one event and send the immediate e-mails; returns the new rows."""
    sollicitation = Sollicitation.objects.select_related(
        "sender_user", "sender_structure", "recipient_structure", "recipient_service", "category", "subcategory"
    ).get(pk=sollicitation.pk)
    title = f"Sollicitation {sollicitation.numero} : {ACTION_TITLES.get(action, action)}"
    link = sollicitation_link(sollicitation)
    context = {
        "site_name": SITE_NAME,
        "sollicitation": sollicitation,
        "title": title,
        "body": body,
        "link": link,
        "status_label": SollicitationStatus(sollicitation.status).label,
    }
    if actor_role == SollicitationRole.EMETTEUR:
        people = _recipient_people(sollicitation)
        addresses = []
    else:
        sender = sollicitation.sender_user
        people = [(sender, sollicitation.sender_structure)] if sender is not None and sender.is_active else []
        addresses = [] if sender is not None or not sollicitation.sender_email else [sollicitation.sender_email]
    created = []
    actor_id = getattr(actor, "pk", None)
    for user, structure in people:
        if user.pk == actor_id:
            continue
        frequency = _frequency(user, structure)
        if frequency == F.NONE:
            continue
        row = _create_once(
            user=user, sollicitation=sollicitation, event_key=event_key, title=title, body=body[:2000], url=link,
            frequency=frequency,
        )  # fmt: skip
        if row is None:
            continue
        created.append(row)
        if frequency == F.IMMEDIATE and user.notification_email:
            _send(to=user.notification_email, subject=f"[{SITE_NAME}] {title}", context={**context, "person": user})
            row.emailed_at = timezone.now()
            row.save(update_fields=["emailed_at"])
    for address in addresses:
        row = _create_once(
            email=address, sollicitation=sollicitation, event_key=event_key, title=title, body=body[:2000], url=link,
            frequency=F.IMMEDIATE,
        )  # fmt: skip
        if row is not None:
            _send(to=address, subject=f"[{SITE_NAME}] {title}", context=context)
            row.emailed_at = timezone.now()
            row.save(update_fields=["emailed_at"])
            created.append(row)
    return created


def sollicitation_event_on_commit(*, sollicitation, action: str, actor, actor_role: str, event_key: str, body=""):
    """After the commit: notify the other side, then tell the API (signal `sollicitation_event`)."""

    def run():
        notify_event(
            sollicitation=sollicitation, action=action, actor=actor, actor_role=actor_role, event_key=event_key,
            body=body,
        )  # fmt: skip
        sollicitation_event.send(
            sender=Sollicitation, sollicitation=Sollicitation.objects.get(pk=sollicitation.pk), action=action,
            actor_role=actor_role, event_key=event_key,
        )  # fmt: skip

    transaction.on_commit(run)


def sollicitation_notifications_send_digests(*, now=None) -> int:
    """E-mail every person their sollicitation notifications waiting for the weekly digest."""
    now = now or timezone.now()
    pending = (
        SollicitationNotification.objects.filter(frequency=F.WEEKLY, emailed_at__isnull=True, user__isnull=False)
        .select_related("user", "sollicitation")
        .order_by("user_id", "created_at", "id")
    )
    by_user = defaultdict(list)
    for row in pending:
        by_user[row.user_id].append(row)
    sent = 0
    for rows in by_user.values():
        user = rows[0].user
        with transaction.atomic():
            claimed = SollicitationNotification.objects.filter(
                pk__in=[r.pk for r in rows], emailed_at__isnull=True
            ).update(emailed_at=now)
            if not claimed or not user.is_active or not user.notification_email:
                continue
            text = render_to_string(
                "sollicitations/emails/digest.txt",
                {"site_name": SITE_NAME, "person": user, "notifications": rows, "count": len(rows)},
            )
            EmailMultiAlternatives(
                f"[{SITE_NAME}] Vos sollicitations de la semaine : {len(rows)} événement(s)",
                text,
                None,
                [user.notification_email],
            ).send()
            sent += 1
    return sent


def sollicitation_preference_get(*, user, structure: Structure) -> str:
    return _frequency(user, structure)


def sollicitation_preference_set(*, user, structure: Structure, frequency: str) -> NotificationPreference:
    """How the person hears about the sollicitations of `structure` (sent or received)."""
    if frequency not in F.values:
        raise ApplicationError(
            f"Fréquence « {frequency} » inconnue : choisissez {', '.join(str(label) for label in F.labels)}.",
            field="frequency",
        )
    if not Structure.objects.of_user(user).filter(pk=structure.pk).exists():
        raise NotFoundError("Structure introuvable, ou vous n'y êtes pas rattaché(e).")
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, structure=structure, espace=ESPACE, defaults={"frequency": frequency}
    )
    return preference
