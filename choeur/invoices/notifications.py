"""Telling people that an invoice moved: e-mail and the in-app notification centre.

Suppliers' first complaint about invoicing portals is not knowing where their invoice is (platform-notes
§6.4). On every status change (chorus-pro.md §6.2):
- the supplier's contact address (`Structure.email`) gets an e-mail, as Chorus Pro does;
- every person subscribed to the espace concerned of each party — « Factures émises » for the supplier,
  « Factures reçues » for the recipient once the invoice reached it, « Factures à valider » for the
  valideur whose turn it is, « Factures de travaux » for the MOE and MOA — gets an in-app notification
  and, as they chose per structure and espace, an e-mail at once, a weekly digest, or nothing.
The person who acted is not told about their own action. A recipient that does not report « mise en
paiement » does not have it announced to the supplier.

`notify_status_change` runs in the side-effect task after the commit; the unique constraints of
Notification make a re-run harmless (nobody is told twice).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from choeur.core.errors import ApplicationError, NotFoundError
from choeur.directory.enums import GESTIONNAIRE_ROLES, EspaceCode, SubscriptionStatus
from choeur.directory.models import Rattachement, Structure, StructureEspace
from choeur.invoices.enums import PRE_RECIPIENT_STATUSES, InvoiceStatus, NotificationFrequency
from choeur.invoices.models import Invoice, InvoiceStatusChange, Notification, NotificationPreference
from choeur.invoices.selectors import structures_of, user_can

logger = logging.getLogger(__name__)

S = InvoiceStatus
F = NotificationFrequency
DEFAULT_FREQUENCY = F.IMMEDIATE
SITE_NAME = "Chœur"
# The espaces in which invoices are followed (the others carry no invoice notification).
INVOICE_ESPACES = (
    EspaceCode.FACTURES_EMISES,
    EspaceCode.FACTURES_RECUES,
    EspaceCode.FACTURES_A_VALIDER,
    EspaceCode.FACTURES_TRAVAUX,
)
# Steps the platform passes through in the same instant as the next one: announcing them would double
# every e-mail of a sending for no information.
TRANSIENT_STATUSES = (S.DEPOSEE, S.EN_COURS_ACHEMINEMENT)

# What the supplier (or the recipient) should expect next, shown in the e-mail.
NEXT_STEP = {
    S.DEPOSEE: "La plateforme achemine la facture vers son destinataire.",
    S.MISE_A_DISPOSITION: "Le destinataire traite la facture : service fait, mandatement puis mise en paiement.",
    S.A_VALIDER_1: "Le valideur a 15 jours pour valider la facture ; sans réponse, elle est validée tacitement.",
    S.A_VALIDER_2: "Le valideur de niveau 2 a 15 jours pour valider la facture.",
    S.A_RECYCLER: "Le fournisseur corrige le destinataire, le service ou le numéro d'engagement et recycle "
    "la facture (même numéro).",
    S.SUSPENDUE: "Le fournisseur complète la facture (pièces jointes ou commentaire) ; le délai de paiement est "
    "suspendu jusque-là.",
    S.REJETEE: "La facture est annulée : le fournisseur prend connaissance du rejet et émet, s'il y a lieu, une "
    "nouvelle facture.",
    S.COMPLETEE: "Le destinataire reprend le traitement de la facture complétée.",
    S.SERVICE_FAIT: "Le destinataire mandate la facture puis la transmet au comptable.",
    S.MANDATEE: "Le comptable public prend en charge le mandat puis met la facture en paiement.",
    S.MISE_A_DISPOSITION_COMPTABLE: "Le comptable public comptabilise puis met la facture en paiement.",
    S.COMPTABILISEE: "Le comptable public met la facture en paiement.",
    S.MISE_EN_PAIEMENT: "Le paiement est ordonné : le virement arrive sous quelques jours.",
}


@dataclass(frozen=True)
class Audience:
    structure: Structure
    espace: str


# --- Who is concerned ---------------------------------------------------------------------------------------


def _mise_en_paiement_hidden(invoice: Invoice) -> bool:
    from choeur.invoices.lifecycle import payment_status_hidden

    return payment_status_hidden(invoice)


def audiences_for(change: InvoiceStatusChange) -> list[Audience]:
    """The (structure, espace) pairs concerned by one status change."""
    invoice = change.invoice
    audiences = []
    hidden_from_supplier = change.to_status == S.MISE_EN_PAIEMENT and _mise_en_paiement_hidden(invoice)
    if not hidden_from_supplier:
        audiences.append(Audience(invoice.supplier, EspaceCode.FACTURES_EMISES))
    if invoice.recipient_id and change.to_status not in PRE_RECIPIENT_STATUSES:
        audiences.append(Audience(invoice.recipient, EspaceCode.FACTURES_RECUES))
    if invoice.valideur_id and change.to_status == S.A_VALIDER_1:
        audiences.append(Audience(invoice.valideur, EspaceCode.FACTURES_A_VALIDER))
    if invoice.valideur2_id and change.to_status == S.A_VALIDER_2:
        audiences.append(Audience(invoice.valideur2, EspaceCode.FACTURES_A_VALIDER))
    for party in (invoice.moe, invoice.moa):
        if party is not None:
            audiences.append(Audience(party, EspaceCode.FACTURES_TRAVAUX))
    seen, unique = set(), []
    for audience in audiences:
        key = (audience.structure.pk, audience.espace)
        if key not in seen:
            seen.add(key)
            unique.append(audience)
    return unique


def subscribers(structure: Structure, espace: str) -> list:
    """Active people who follow `espace` of `structure`: gestionnaires when the espace is open, others with a
    validated subscription to it (the same rule as `user_can` for reading)."""
    if not StructureEspace.objects.filter(structure=structure, code=espace, is_open=True).exists():
        return []
    rattachements = (
        Rattachement.objects.validated()
        .filter(structure=structure, user__is_active=True)
        .filter(
            Q(role__in=GESTIONNAIRE_ROLES)
            | Q(subscriptions__espace__code=espace, subscriptions__status=SubscriptionStatus.VALIDEE)
        )
        .select_related("user")
        .distinct()
    )
    return [r.user for r in rattachements]


def _frequencies(users: list, structure: Structure, espace: str) -> dict[int, str]:
    chosen = dict(
        NotificationPreference.objects.filter(user__in=users, structure=structure, espace=espace).values_list(
            "user_id", "frequency"
        )
    )
    return {user.pk: chosen.get(user.pk, DEFAULT_FREQUENCY) for user in users}


# --- Rendering -----------------------------------------------------------------------------------------------


def site_link(url_name: str, *args) -> str:
    """An absolute link on `settings.SITE_URL` (never the request's Host). Invoices know no portal module;
    a name the portal does not define falls back to the home page."""
    base = settings.SITE_URL.rstrip("/")
    try:
        return base + reverse(url_name, args=args)
    except NoReverseMatch:
        return base + "/"


def invoice_link(invoice: Invoice) -> str:
    return site_link("portal:invoice_detail", invoice.pk)


def _change_context(change: InvoiceStatusChange) -> dict:
    from choeur.invoices.lifecycle import motif_label

    invoice = change.invoice
    return {
        "site_name": SITE_NAME,
        "site_url": settings.SITE_URL.rstrip("/"),
        "invoice": invoice,
        "change": change,
        "status_label": S(change.to_status).label,
        "motif_label": motif_label(change.transition, change.motif) if change.motif else "",
        "next_step": NEXT_STEP.get(change.to_status, ""),
        "link": invoice_link(invoice),
        "preferences_link": site_link("portal:notification_preferences"),
        "when": timezone.localtime(change.created_at),
    }


def _title(change: InvoiceStatusChange) -> str:
    return f"Facture {change.invoice.number} : {S(change.to_status).label.lower()}"


def _send(*, to: str, subject: str, text: str, html: str = "") -> None:
    message = EmailMultiAlternatives(subject, text, None, [to])
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def _send_change_email(notification: Notification, context: dict) -> None:
    address = notification.email or notification.user.notification_email
    if not address:
        return
    espace_label = EspaceCode(notification.espace).label if notification.espace in EspaceCode.values else ""
    context = {
        **context,
        "person": notification.user,
        "structure": notification.structure,
        "espace_label": espace_label,
    }
    text = render_to_string("invoices/emails/status_changed.txt", context)
    html = render_to_string("invoices/emails/status_changed.html", context)
    _send(to=address, subject=f"[{SITE_NAME}] {notification.title}", text=text, html=html)


# --- The side effect of a status change ----------------------------------------------------------------------


def _create_once(**fields) -> Notification | None:
    """The row, or None if a previous run of the task already made it."""
    try:
        with transaction.atomic():
            return Notification.objects.create(**fields)
    except IntegrityError:
        return None


def notify_status_change(change: InvoiceStatusChange) -> list[Notification]:
    """Create the notifications of one status change and send the immediate e-mails. Returns the new rows."""
    invoice = change.invoice
    if (
        change.to_status in TRANSIENT_STATUSES
        and InvoiceStatusChange.objects.filter(invoice=invoice, pk__gt=change.pk).exists()
    ):
        return []
    context = _change_context(change)
    title = _title(change)
    body = change.comment
    created: list[Notification] = []
    emailed: set[str] = set()

    hidden = change.to_status == S.MISE_EN_PAIEMENT and _mise_en_paiement_hidden(invoice)
    contact = (invoice.supplier.email or "").strip()
    if contact and not hidden:
        row = _create_once(
            email=contact,
            structure=invoice.supplier,
            espace=EspaceCode.FACTURES_EMISES,
            invoice=invoice,
            status_change=change,
            title=title,
            body=body,
            url=context["link"],
            frequency=F.IMMEDIATE,
        )
        if row is not None:
            _send_change_email(row, context)
            row.emailed_at = timezone.now()
            row.save(update_fields=["emailed_at"])
            created.append(row)
        emailed.add(contact.lower())

    notified_users: set[int] = set()
    for audience in audiences_for(change):
        users = [u for u in subscribers(audience.structure, audience.espace) if u.pk != change.actor_user_id]
        users = [u for u in users if u.pk not in notified_users]
        frequencies = _frequencies(users, audience.structure, audience.espace)
        for user in users:
            frequency = frequencies[user.pk]
            if frequency == F.NONE:
                continue
            notified_users.add(user.pk)
            row = _create_once(
                user=user,
                structure=audience.structure,
                espace=audience.espace,
                invoice=invoice,
                status_change=change,
                title=title,
                body=body,
                url=context["link"],
                frequency=frequency,
            )
            if row is None:
                continue
            created.append(row)
            if frequency == F.IMMEDIATE:
                address = (user.notification_email or "").lower()
                if address and address not in emailed:
                    _send_change_email(row, context)
                    emailed.add(address)
                row.emailed_at = timezone.now()
                row.save(update_fields=["emailed_at"])
    return created


# --- Weekly digest ---------------------------------------------------------------------------------------------


def notifications_send_digests(*, now=None) -> int:
    """E-mail every person their notifications waiting for the weekly digest; returns the e-mails sent."""
    now = now or timezone.now()
    pending = (
        Notification.objects.filter(frequency=F.WEEKLY, emailed_at__isnull=True, user__isnull=False)
        .select_related("user", "invoice", "structure")
        .order_by("user_id", "created_at", "id")
    )
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for notification in pending:
        by_user[notification.user_id].append(notification)
    sent = 0
    for rows in by_user.values():
        user = rows[0].user
        with transaction.atomic():
            # Claim the rows first: a digest that failed to send is retried next week, never sent twice.
            claimed = Notification.objects.filter(pk__in=[r.pk for r in rows], emailed_at__isnull=True).update(
                emailed_at=now
            )
            if not claimed or not user.is_active or not user.notification_email:
                continue
            context = {
                "site_name": SITE_NAME,
                "person": user,
                "notifications": rows,
                "count": len(rows),
                "centre_link": site_link("portal:notifications"),
                "preferences_link": site_link("portal:notification_preferences"),
            }
            text = render_to_string("invoices/emails/digest.txt", context)
            html = render_to_string("invoices/emails/digest.html", context)
            _send(
                to=user.notification_email,
                subject=f"[{SITE_NAME}] Votre récapitulatif de la semaine : {len(rows)} changement(s) de statut",
                text=text,
                html=html,
            )
            sent += 1
    return sent


# --- Notification centre --------------------------------------------------------------------------------------


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """The person's in-app notifications, newest first, limited to invoices they may still see."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    queryset = Notification.objects.filter(user=user, structure__in=structures_of(user)).select_related(
        "invoice", "structure", "status_change"
    )
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def notifications_unread_count(*, user) -> int:
    return notifications_for(user=user, unread_only=True).count()


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the person's notifications as read (all of them when `ids` is None); returns how many changed."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())


def notification_get_for_user(*, user, notification_id: int) -> Notification:
    notification = notifications_for(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFoundError("Notification introuvable.")
    return notification


# --- Preferences ------------------------------------------------------------------------------------------------


@dataclass
class PreferenceRow:
    structure: Structure
    espace: str
    espace_label: str
    frequency: str

    @property
    def key(self) -> str:
        return f"{self.structure.pk}:{self.espace}"


def notification_preferences_for(*, user) -> list[PreferenceRow]:
    """One row per (structure, invoice espace) the person may read, with their frequency (or the default)."""
    chosen = {(p.structure_id, p.espace): p.frequency for p in NotificationPreference.objects.filter(user=user)}
    rows = []
    for structure in structures_of(user).order_by("raison_sociale", "pk"):
        for espace in INVOICE_ESPACES:
            if user_can(user, structure, espace):
                rows.append(
                    PreferenceRow(
                        structure=structure,
                        espace=espace,
                        espace_label=EspaceCode(espace).label,
                        frequency=chosen.get((structure.pk, espace), DEFAULT_FREQUENCY),
                    )
                )
    return rows


def notification_preference_set(*, user, structure: Structure, espace: str, frequency: str) -> NotificationPreference:
    """Set how the person hears about `espace` of `structure`."""
    if frequency not in F.values:
        raise ApplicationError(
            f"Fréquence « {frequency} » inconnue : choisissez {', '.join(str(label) for label in F.labels)}.",
            field="frequency",
        )
    if espace not in INVOICE_ESPACES:
        raise ApplicationError(f"Espace « {espace} » : il ne porte pas de notification de facture.", field="espace")
    if not user_can(user, structure, espace):
        raise NotFoundError("Structure introuvable, ou vous n'avez pas accès à cet espace.")
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, structure=structure, espace=espace, defaults={"frequency": frequency}
    )
    return preference
