"""Account services: registration, activation, profile, passwords and two-factor authentication.

Every function here is the one place its rule lives; the portal only translates `ApplicationError`
into French form errors. E-mails leave after the transaction commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from choeur.accounts.emails import email_send, site_link
from choeur.accounts.models import AccountActivation, User
from choeur.accounts.tokens import token_new
from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError

BACKUP_CODES_COUNT = 10
TOTP_DEVICE_NAME = "Application d'authentification"
STATIC_DEVICE_NAME = "Codes de secours"
# A second activation e-mail within this delay is not sent: it stops the resend form from being used
# to flood someone's mailbox, and the first link is still valid anyway.
ACTIVATION_RESEND_MIN_SECONDS = 60

_PHONE_ALLOWED = re.compile(r"^\+?[0-9 .()\-]+$")


# ---------------------------------------------------------------------------------------------------
# Input normalisation shared by registration and profile
# ---------------------------------------------------------------------------------------------------


def _email_normalize(email: str, *, field: str, label: str) -> str:
    email = (email or "").strip().lower()
    if not email:
        raise ApplicationError(f"Saisissez {label}.", field=field, code="email_obligatoire")
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            f"{label[0].upper()}{label[1:]} « {email} » n'est pas valide : vérifiez-la "
            "(exemple : prenom.nom@exemple.fr).",
            field=field,
            code="email_invalide",
        ) from None
    return email


def _name_clean(value: str, *, field: str, label: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise ApplicationError(f"Saisissez votre {label}.", field=field, code=f"{field}_obligatoire")
    if len(value) > 150:
        raise ApplicationError(f"Votre {label} dépasse 150 caractères : abrégez-le.", field=field, code="trop_long")
    return value


def _phone_clean(phone: str) -> str:
    """Accept the usual ways of writing a phone number; keep it as typed (spaces normalised)."""
    phone = " ".join((phone or "").split())
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if not _PHONE_ALLOWED.match(phone) or not 6 <= len(digits) <= 15 or len(phone) > 30:
        raise ApplicationError(
            "Le numéro de téléphone n'est pas valide : utilisez uniquement des chiffres, des espaces et "
            "éventuellement « + » pour l'indicatif (exemple : 01 23 45 67 89 ou +33 1 23 45 67 89).",
            field="phone",
            code="telephone_invalide",
        )
    return phone


def _password_validate(password: str, *, user: User, field: str) -> None:
    """Django's validators (12 characters at least, not common, not numeric, not like the name)."""
    if not password:
        raise ApplicationError("Saisissez un mot de passe.", field=field, code="mot_de_passe_obligatoire")
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        messages = list(exc.messages)
        raise ApplicationError(
            " ".join(messages), field=field, code="mot_de_passe_refuse", extra={"messages": messages}
        ) from None


# ---------------------------------------------------------------------------------------------------
# Registration and activation
# ---------------------------------------------------------------------------------------------------


def user_register(*, email: str, first_name: str, last_name: str, phone: str = "") -> User:
    """Create an inactive account and send its activation link.

    The account has no usable password until the person follows the link and chooses one. An address
    already registered is refused with a message inviting to log in or reset the password; no duplicate
    is ever created (the unique constraint settles a race between two submissions).
    """
    email = _email_normalize(email, field="email", label="votre adresse électronique")
    first_name = _name_clean(first_name, field="first_name", label="prénom")
    last_name = _name_clean(last_name, field="last_name", label="nom")
    phone = _phone_clean(phone)

    taken = ApplicationError(
        "Un compte existe déjà avec cette adresse électronique. Connectez-vous, ou réinitialisez votre mot de "
        "passe si vous l'avez oublié ; si vous n'avez pas activé ce compte, demandez un nouveau lien d'activation.",
        field="email",
        code="email_deja_inscrit",
    )
    if User.objects.filter(email__iexact=email).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=None, first_name=first_name, last_name=last_name, phone=phone, is_active=False
            )
            audit_log(action="accounts.user.registered", actor=user, target=user, data={"email": email})
            activation_send(user=user)
    except IntegrityError:
        raise taken from None
    return user


def activation_send(*, user: User) -> str:
    """Create a new activation link for an inactive account and e-mail it. Returns the token.

    Earlier links stay valid until they expire: the person may click whichever e-mail they open first.
    """
    if user.is_active:
        raise ApplicationError(
            "Ce compte est déjà activé : connectez-vous avec votre adresse électronique et votre mot de passe.",
            code="compte_deja_active",
        )
    token, token_hash = token_new()
    with transaction.atomic():
        activation = AccountActivation.objects.create(user=user, token_hash=token_hash)
        audit_log(action="accounts.activation.sent", actor=None, target=user, data={"activation_id": activation.pk})
        link = site_link("portal:activate", token)
        minutes = settings.CHOEUR_ACTIVATION_TIMEOUT_SECONDS // 60
        transaction.on_commit(
            lambda: email_send(
                to=user.email,
                template="activation",
                context={
                    "user": user,
                    "link": link,
                    "minutes": minutes,
                    "resend_link": site_link("portal:activation_resend"),
                },
            )
        )
    return token


def activation_resend(*, email: str) -> bool:
    """Send a new link if `email` belongs to an account awaiting activation.

    Returns whether an e-mail left, for logging and tests only: the page shows the same message either
    way, so the form does not tell strangers which addresses are registered.
    """
    email = _email_normalize(email, field="email", label="votre adresse électronique")
    user = User.objects.filter(email__iexact=email, is_active=False).first()
    if user is None or user.has_usable_password():
        # Unknown, already active, or deactivated by an administrator (who had chosen a password).
        return False
    recent = timezone.now() - timedelta(seconds=ACTIVATION_RESEND_MIN_SECONDS)
    if user.activations.filter(created_at__gte=recent, used_at__isnull=True).exists():
        return False
    activation_send(user=user)
    return True


def activation_check(*, token: str) -> AccountActivation:
    """The activation matching `token`, if it can still be used; otherwise a distinct error per case.

    Codes: `activation_inconnue`, `activation_utilisee`, `activation_expiree` (the portal shows a
    different page for each).
    """
    activation = (
        AccountActivation.objects.select_related("user")
        .filter(token_hash=AccountActivation.hash_token(token or ""))
        .first()
    )
    if activation is None:
        raise ApplicationError(
            "Ce lien d'activation est inconnu. Vérifiez que vous avez copié le lien complet depuis le courriel, "
            "ou demandez un nouveau lien.",
            code="activation_inconnue",
        )
    if activation.used_at is not None or activation.user.is_active or activation.user.has_usable_password():
        raise ApplicationError(
            "Ce lien d'activation a déjà été utilisé : votre compte est activé. Connectez-vous avec votre adresse "
            "électronique et votre mot de passe.",
            code="activation_utilisee",
        )
    if activation.is_expired():
        minutes = settings.CHOEUR_ACTIVATION_TIMEOUT_SECONDS // 60
        raise ApplicationError(
            f"Ce lien d'activation a expiré : il n'est valable que {minutes} minutes. Saisissez votre adresse "
            "électronique pour recevoir un nouveau lien.",
            code="activation_expiree",
        )
    return activation


def user_activate(*, token: str, password: str) -> User:
    """Use an activation link: set the chosen password and activate the account. The link works once."""
    activation = activation_check(token=token)
    user = activation.user
    _password_validate(password, user=user, field="password1")
    with transaction.atomic():
        # The conditional update is what makes the link single-use when two tabs submit at once.
        claimed = AccountActivation.objects.filter(pk=activation.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if claimed != 1:
            raise ApplicationError(
                "Ce lien d'activation a déjà été utilisé : votre compte est activé. Connectez-vous.",
                code="activation_utilisee",
            )
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        audit_log(action="accounts.user.activated", actor=user, target=user, data={"activation_id": activation.pk})
    return user


# ---------------------------------------------------------------------------------------------------
# Profile and passwords
# ---------------------------------------------------------------------------------------------------


def user_update_profile(
    *, user: User, first_name: str, last_name: str, phone: str = "", contact_email: str = ""
) -> User:
    """Change names, phone and the contact address (where notifications go).

    The login address is not changed here. When the contact address changes, the previous one is told,
    so that a hijacked session cannot silently divert notifications.
    """
    first_name = _name_clean(first_name, field="first_name", label="prénom")
    last_name = _name_clean(last_name, field="last_name", label="nom")
    phone = _phone_clean(phone)
    contact_email = (contact_email or "").strip()
    if contact_email:
        contact_email = _email_normalize(contact_email, field="contact_email", label="l'adresse de contact")

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        previous_notification_email = user.notification_email
        previous_contact = user.contact_email
        changes = {}
        for field, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("phone", phone),
            ("contact_email", contact_email),
        ):
            if getattr(user, field) != value:
                changes[field] = value
                setattr(user, field, value)
        if not changes:
            return user
        user.save(update_fields=list(changes))
        if "contact_email" in changes:
            audit_log(
                action="accounts.user.contact_email_changed",
                actor=user,
                target=user,
                data={"old": previous_contact, "new": contact_email},
            )
            new_notification_email = user.notification_email
            if previous_notification_email != new_notification_email:
                transaction.on_commit(
                    lambda: email_send(
                        to=previous_notification_email,
                        template="contact_email_changed",
                        context={"user": user, "new_email": new_notification_email},
                    )
                )
        other = sorted(set(changes) - {"contact_email"})
        if other:
            audit_log(action="accounts.user.profile_updated", actor=user, target=user, data={"fields": other})
    return user


def user_set_password(*, user: User, password: str, reason: str, field: str = "new_password1") -> User:
    """Give the user a new password (after a reset link or a change) and tell them by e-mail.

    After a reset the login lock-out is lifted: proving control of the mailbox is exactly what the
    lock-out page asks for.
    """
    _password_validate(password, user=user, field=field)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_log(action="accounts.user.password_changed", actor=user, target=user, data={"reason": reason})
        transaction.on_commit(
            lambda: email_send(to=user.notification_email, template="password_changed", context={"user": user})
        )
    if reason == "reset":
        axes_reset(username=user.email)
    return user


def user_change_password(*, user: User, old_password: str, new_password: str) -> User:
    """Change the password of a logged-in user, who must type the current one."""
    if not old_password or not user.check_password(old_password):
        raise ApplicationError(
            "Votre mot de passe actuel est incorrect : saisissez-le à nouveau.",
            field="old_password",
            code="mot_de_passe_actuel",
        )
    if old_password == new_password:
        raise ApplicationError(
            "Le nouveau mot de passe doit être différent de l'actuel.",
            field="new_password1",
            code="mot_de_passe_identique",
        )
    return user_set_password(user=user, password=new_password, reason="change")


def login_username_normalize(request, credentials) -> str | None:
    """`AXES_USERNAME_CALLABLE`: count failed logins per address whatever the capitals typed."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    return username.strip().lower() if isinstance(username, str) else username


# ---------------------------------------------------------------------------------------------------
# Two-factor authentication (TOTP, with single-use backup codes)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    """Outcome of checking a code: the device that accepted it, or a French message saying why not."""

    device: Device | None
    message: str = ""


def otp_code_normalize(code: str) -> str:
    # Authenticator apps show "123 456"; backup codes are printed in lower case: accept both typings.
    return re.sub(r"[\s\-]", "", code or "").lower()


def otp_has_device(*, user: User) -> bool:
    """True when the user has a confirmed second factor (and must therefore give a code at login)."""
    return user.is_authenticated and user_has_device(user, confirmed=True)


def otp_code_check(*, user: User, code: str, devices: list[Device] | None = None) -> CodeCheck:
    """Check a TOTP or backup code against the user's confirmed devices (or the given ones).

    Runs in its own transaction that commits even when the code is wrong: the failure counter (django-otp
    throttling, which doubles the waiting time after each failure) must survive the caller's rollback.
    """
    code = otp_code_normalize(code)
    if not code:
        return CodeCheck(None, "Saisissez le code à 6 chiffres affiché par votre application, ou un code de secours.")
    throttled_until = None
    with transaction.atomic():
        candidates = devices if devices is not None else list(devices_for_user(user, confirmed=True, for_verify=True))
        for device in candidates:
            allowed, data = device.verify_is_allowed()
            if not allowed:
                throttled_until = (data or {}).get("locked_until")
                continue
            if device.verify_token(code):
                return CodeCheck(device)
    if throttled_until is not None:
        seconds = max(1, int((throttled_until - timezone.now()).total_seconds()) + 1)
        return CodeCheck(
            None, f"Trop de codes erronés : attendez {seconds} seconde{'s' if seconds > 1 else ''} avant de réessayer."
        )
    return CodeCheck(
        None,
        "Ce code est incorrect ou a expiré. Saisissez le code actuellement affiché par votre application "
        "(il change toutes les 30 secondes), ou un code de secours inutilisé.",
    )


def totp_device_start(*, user: User) -> TOTPDevice:
    """The unconfirmed TOTP device to enrol: the pending one if the user reloads the page, else a new one."""
    if otp_has_device(user=user):
        raise ApplicationError(
            "La double authentification est déjà activée sur votre compte. Désactivez-la d'abord pour changer "
            "d'application.",
            code="double_authentification_active",
        )
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm enrolment with a first code from the app; returns new backup codes, to show only once."""
    if device.user_id != user.pk or device.confirmed:
        raise ApplicationError(
            "Cette inscription n'est plus en cours : recommencez l'activation de la double authentification.",
            code="inscription_introuvable",
        )
    check = otp_code_check(user=user, code=code, devices=[device])
    if check.device is None:
        raise ApplicationError(check.message, field="code", code="code_incorrect")
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _backup_codes_replace(user=user)
        audit_log(action="accounts.otp.enrolled", actor=user, target=user, data={"device_id": device.pk})
        transaction.on_commit(
            lambda: email_send(to=user.notification_email, template="two_factor_enabled", context={"user": user})
        )
    device.confirmed = True
    return codes


def _backup_codes_replace(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=STATIC_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    return codes


def backup_codes_regenerate(*, user: User, code: str) -> list[str]:
    """Replace the backup codes (the old ones stop working); a current code is required."""
    if not otp_has_device(user=user):
        raise ApplicationError("Activez d'abord la double authentification.", code="double_authentification_inactive")
    check = otp_code_check(user=user, code=code)
    if check.device is None:
        raise ApplicationError(check.message, field="code", code="code_incorrect")
    with transaction.atomic():
        codes = _backup_codes_replace(user=user)
        audit_log(action="accounts.otp.backup_codes_regenerated", actor=user, target=user)
    return codes


def otp_disable(*, user: User, code: str) -> None:
    """Remove every second-factor device of the user; a current TOTP or backup code is required."""
    if not otp_has_device(user=user):
        raise ApplicationError(
            "La double authentification n'est pas activée sur votre compte.", code="double_authentification_inactive"
        )
    check = otp_code_check(user=user, code=code)
    if check.device is None:
        raise ApplicationError(check.message, field="code", code="code_incorrect")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_log(action="accounts.otp.disabled", actor=user, target=user)
        transaction.on_commit(
            lambda: email_send(to=user.notification_email, template="two_factor_disabled", context={"user": user})
        )
