"""Raccordement API: technical accounts (the `cpro-account` header) and OAuth2 clients (PISTE-style
client_credentials), created by the gestionnaires of a structure.

Both credentials follow the same rules:
- the secret is generated here, returned once to the caller (the page shows it once) and only its hash is
  stored: a lost secret is replaced, never recovered;
- they expire (424 days by default, Chorus Pro's rule for technical-account passwords) and can be revoked;
- every change is written to the gestionnaire history (ManagerAction) and the audit log, never the secret.

Technical-account logins follow Chorus Pro's shape, `TECH_1_<12 random characters>@cpro.choeur`
(Chorus Pro uses `TECH_1_…@cpro.fr`; the domain is ours so that nobody mistakes one for the other).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.core.throttle import Backoff
from choeur.directory.models import ApiClient, ManagerAction, Structure, TechnicalAccount
from choeur.directory.selectors import (
    is_gestionnaire,
    is_gestionnaire_principal,
    structure_get_for_manager,
    structures_managed_by,
)

# Chorus Pro makes technical-account passwords expire every 424 days (14 months); API clients get the
# same lifetime so that a structure renews both at once.
TECHNICAL_ACCOUNT_VALIDITY = timedelta(days=424)
API_CLIENT_VALIDITY = timedelta(days=424)

TECHNICAL_LOGIN_PREFIX = "TECH_1_"
TECHNICAL_LOGIN_DOMAIN = "cpro.choeur"
_LOGIN_ALPHABET = string.ascii_uppercase + string.digits
_LOGIN_RANDOM_LENGTH = 12
API_CLIENT_LABEL_MAX = 100
RESET_PRINCIPAL_ONLY_MESSAGE = (
    "Seul le gestionnaire principal de la structure peut réinitialiser le mot de passe d'un compte technique "
    "(règle de Chorus Pro). Demandez-le à votre gestionnaire principal."
)

# Hashed once at import: authenticating an unknown login still costs one hash check, so response times
# do not tell an attacker which logins exist.
_DUMMY_HASH: str | None = None


@dataclass(frozen=True)
class IssuedTechnicalAccount:
    """A technical account with its plaintext password, which exists only in this object."""

    account: TechnicalAccount
    password: str


@dataclass(frozen=True)
class IssuedApiClient:
    """An API client with its plaintext client secret, which exists only in this object."""

    client: ApiClient
    client_id: str
    client_secret: str


# ---------------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------------


def raccordement_can_manage(*, user, structure: Structure) -> bool:
    """Gestionnaires (principal or secondaire) of the structure manage its API credentials."""
    return bool(getattr(user, "is_active", False)) and is_gestionnaire(user=user, structure=structure)


def _require_gestionnaire(*, user, structure: Structure, principal_only: bool = False) -> None:
    if not raccordement_can_manage(user=user, structure=structure):
        raise PermissionDeniedError(
            f"Seuls les gestionnaires de la structure « {structure.designation} » peuvent gérer ses "
            "raccordements API. Demandez à son gestionnaire principal de vous nommer gestionnaire."
        )
    if principal_only and not is_gestionnaire_principal(user=user, structure=structure):
        raise PermissionDeniedError(RESET_PRINCIPAL_ONLY_MESSAGE)


def _record(*, structure: Structure, by, action: str, description: str, target, data: dict) -> None:
    ManagerAction.objects.create(structure=structure, actor=by, action=action, description=description)
    audit_log(action=f"directory.{action}", actor=by, structure_id=structure.pk, target=target, data=data)


# ---------------------------------------------------------------------------------------------------
# Technical accounts
# ---------------------------------------------------------------------------------------------------


def technical_login_new() -> str:
    """A fresh login in Chorus Pro's style, `TECH_1_<12 upper-case letters or digits>@cpro.choeur`."""
    while True:
        random_part = "".join(secrets.choice(_LOGIN_ALPHABET) for _ in range(_LOGIN_RANDOM_LENGTH))
        login = f"{TECHNICAL_LOGIN_PREFIX}{random_part}@{TECHNICAL_LOGIN_DOMAIN}"
        if not TechnicalAccount.objects.filter(login=login).exists():
            return login


def technical_password_new() -> str:
    # 32 URL-safe characters (192 bits): the password travels in a header, so avoid characters that need
    # quoting; ':' is excluded because the header is base64("login:password").
    return secrets.token_urlsafe(24)


def technical_account_create(
    *,
    structure: Structure,
    by,
    login: str | None = None,
    password: str | None = None,
    validity: timedelta = TECHNICAL_ACCOUNT_VALIDITY,
    check_permission: bool = True,
) -> IssuedTechnicalAccount:
    """Create a technical account for `structure`; return it with its password, to be shown once.

    `login`/`password` are given only by the demo data set (fixed, public demo credentials) and
    `check_permission=False` only by platform commands run by an administrator.
    """
    if check_permission:
        _require_gestionnaire(user=by, structure=structure)
    if not structure.is_active:
        raise ApplicationError("La structure est inactive : on ne peut pas lui créer de compte technique.")
    if login is not None and TechnicalAccount.objects.filter(login=login).exists():
        raise ApplicationError(f"L'identifiant de compte technique « {login} » existe déjà.", field="login")
    password = password or technical_password_new()
    if ":" in password:
        raise ApplicationError("Le mot de passe d'un compte technique ne peut pas contenir « : ».", field="password")
    now = timezone.now()
    with transaction.atomic():
        account = TechnicalAccount.objects.create(
            structure=structure,
            login=login or technical_login_new(),
            password_hash=make_password(password),
            created_by=by if getattr(by, "pk", None) else None,
            created_at=now,
            expires_at=now + validity,
        )
        _record(
            structure=structure,
            by=by,
            action="technical_account.created",
            description=f"Création du compte technique {account.login} (expire le {account.expires_at:%d/%m/%Y}).",
            target=account,
            data={"login": account.login, "expires_at": account.expires_at.isoformat()},
        )
    return IssuedTechnicalAccount(account=account, password=password)


def technical_account_revoke(*, account: TechnicalAccount, by) -> TechnicalAccount:
    """Revoke a technical account at once; calls made with it are refused from now on."""
    with transaction.atomic():
        account = TechnicalAccount.objects.select_for_update().select_related("structure").get(pk=account.pk)
        _require_gestionnaire(user=by, structure=account.structure)
        if account.revoked_at is not None:
            raise ApplicationError(f"Le compte technique {account.login} est déjà révoqué.")
        account.revoked_at = timezone.now()
        account.save(update_fields=["revoked_at"])
        cache.delete(_verified_key(account))
        _record(
            structure=account.structure,
            by=by,
            action="technical_account.revoked",
            description=f"Révocation du compte technique {account.login}.",
            target=account,
            data={"login": account.login},
        )
    return account


def technical_account_reset_password(
    *, account: TechnicalAccount, by, validity: timedelta = TECHNICAL_ACCOUNT_VALIDITY
) -> IssuedTechnicalAccount:
    """Give a technical account a new password (shown once) and a new expiry date.

    Only the gestionnaire principal may do it, as on Chorus Pro. A revoked account stays revoked: create
    a new one instead.
    """
    with transaction.atomic():
        account = TechnicalAccount.objects.select_for_update().select_related("structure").get(pk=account.pk)
        _require_gestionnaire(user=by, structure=account.structure, principal_only=True)
        if account.revoked_at is not None:
            raise ApplicationError(
                f"Le compte technique {account.login} est révoqué : créez un nouveau compte technique."
            )
        password = technical_password_new()
        now = timezone.now()
        account.password_hash = make_password(password)
        account.expires_at = now + validity
        account.save(update_fields=["password_hash", "expires_at"])
        cache.delete(_verified_key(account))
        _record(
            structure=account.structure,
            by=by,
            action="technical_account.password_reset",
            description=(
                f"Réinitialisation du mot de passe du compte technique {account.login} "
                f"(nouvelle expiration le {account.expires_at:%d/%m/%Y})."
            ),
            target=account,
            data={"login": account.login, "expires_at": account.expires_at.isoformat()},
        )
    return IssuedTechnicalAccount(account=account, password=password)


def technical_account_authenticate(*, login: str, password: str) -> TechnicalAccount | None:
    """The technical account behind a `cpro-account` header, or None (unknown login, wrong password,
    expired, revoked, or inactive structure). Records the time of use."""
    global _DUMMY_HASH
    login = (login or "").strip()
    account = (
        TechnicalAccount.objects.select_related("structure").filter(login__iexact=login).first() if login else None
    )
    if account is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = make_password(secrets.token_urlsafe(16))
        check_password(password or "", _DUMMY_HASH)
        return None
    if not _password_matches(account, password or ""):
        return None
    if not account.is_usable or not account.structure.is_active:
        return None
    now = timezone.now()
    # Every API call carries the header: write the time of use at most once a minute, not on every read.
    if account.last_used_at is None or now - account.last_used_at >= LAST_USED_PRECISION:
        TechnicalAccount.objects.filter(pk=account.pk).update(last_used_at=now)
        account.last_used_at = now
    return account


# Verifying a password with the password hasher costs ~100 ms by design, and every Chorus client sends the
# technical password on every call. A verified password is remembered as a keyed digest (HMAC-SHA256 under
# SECRET_KEY) of the account, its stored hash and the password: the cache never holds the password, a
# digest is worthless without SECRET_KEY, and a new password (a new stored hash) no longer matches it.
VERIFIED_PASSWORD_SECONDS = 3600
LAST_USED_PRECISION = timedelta(minutes=1)


def _verified_key(account: TechnicalAccount) -> str:
    return f"choeur:technical-account:verified:{account.pk}"


def _password_digest(account: TechnicalAccount, password: str) -> str:
    message = f"{account.pk}\x00{account.password_hash}\x00{password}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _password_matches(account: TechnicalAccount, password: str) -> bool:
    digest = _password_digest(account, password)
    remembered = cache.get(_verified_key(account))
    if isinstance(remembered, str) and hmac.compare_digest(remembered, digest):
        return True
    if not check_password(password, account.password_hash):
        return False
    cache.set(_verified_key(account), digest, VERIFIED_PASSWORD_SECONDS)
    return True


# Bad passwords of one technical account (by login, known or not): five free mistakes, then 1 s, 2 s, 4 s…
# up to 15 minutes during which even the right password waits (answered 429 by the API, without hashing).
TECHNICAL_ACCOUNT_BACKOFF = Backoff(scope="cpro-account", free_failures=5, max_wait_seconds=900)


def technical_account_locked_for(account: TechnicalAccount) -> int | None:
    """Seconds the account is still closed after repeated bad passwords, or None."""
    return TECHNICAL_ACCOUNT_BACKOFF.retry_after(account.login)


def technical_account_failures(account: TechnicalAccount) -> int:
    return TECHNICAL_ACCOUNT_BACKOFF.failures(account.login)


def technical_account_unlock(*, account: TechnicalAccount, by) -> TechnicalAccount:
    """Lift the back-off of an account closed by bad passwords (a gestionnaire who has fixed the
    integration's password should not wait up to 15 minutes)."""
    _require_gestionnaire(user=by, structure=account.structure)
    failures = technical_account_failures(account)
    if not failures:
        raise ApplicationError(f"Le compte technique {account.login} n'est pas verrouillé.")
    TECHNICAL_ACCOUNT_BACKOFF.reset(account.login)
    _record(
        structure=account.structure,
        by=by,
        action="technical_account.unlocked",
        description=f"Déverrouillage du compte technique {account.login} après {failures} mots de passe erronés.",
        target=account,
        data={"login": account.login, "failures": failures},
    )
    return account


def technical_account_status(account: TechnicalAccount, *, now: datetime | None = None) -> str:
    """« Active », « Expiré » or « Révoqué », for pages and exports."""
    now = now or timezone.now()
    if account.revoked_at is not None:
        return "Révoqué"
    if account.expires_at <= now:
        return "Expiré"
    return "Actif"


# ---------------------------------------------------------------------------------------------------
# OAuth2 clients (client_credentials)
# ---------------------------------------------------------------------------------------------------


def client_secret_new() -> str:
    return secrets.token_urlsafe(36)


def api_client_create(
    *,
    structure: Structure,
    by,
    label: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    validity: timedelta = API_CLIENT_VALIDITY,
    check_permission: bool = True,
) -> IssuedApiClient:
    """Create an OAuth2 client (client_credentials grant) for `structure`; return it with its client
    secret, to be shown once. The toolkit's Application stores only the hash of the secret.

    `client_id`/`client_secret` are given only by the demo data set.
    """
    if check_permission:
        _require_gestionnaire(user=by, structure=structure)
    label = " ".join((label or "").split())
    if not label:
        raise ApplicationError(
            "Donnez un nom à ce client API (par exemple le nom de votre logiciel de facturation).", field="label"
        )
    if len(label) > API_CLIENT_LABEL_MAX:
        raise ApplicationError(
            f"Le nom du client API dépasse {API_CLIENT_LABEL_MAX} caractères : abrégez-le.", field="label"
        )
    if not structure.is_active:
        raise ApplicationError("La structure est inactive : on ne peut pas lui créer de client API.")
    if client_id is not None and Application.objects.filter(client_id=client_id).exists():
        raise ApplicationError(f"Le client_id « {client_id} » existe déjà.", field="client_id")
    secret = client_secret or client_secret_new()
    now = timezone.now()
    with transaction.atomic():
        application = Application(
            name=f"{label} — {structure.designation}"[:255],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            hash_client_secret=True,
            client_secret=secret,
        )
        if client_id is not None:
            application.client_id = client_id
        application.save()
        client = ApiClient.objects.create(
            structure=structure,
            application=application,
            label=label,
            created_by=by if getattr(by, "pk", None) else None,
            created_at=now,
            expires_at=now + validity,
        )
        _record(
            structure=structure,
            by=by,
            action="api_client.created",
            description=(
                f"Création du client API « {label} » (client_id {application.client_id}, "
                f"expire le {client.expires_at:%d/%m/%Y})."
            ),
            target=client,
            data={"client_id": application.client_id, "label": label, "expires_at": client.expires_at.isoformat()},
        )
    return IssuedApiClient(client=client, client_id=application.client_id, client_secret=secret)


def _application_tokens_delete(application: Application) -> int:
    """Delete every token issued to the application, so a revocation takes effect at once rather than
    when the last access token expires."""
    RefreshToken.objects.filter(application=application).delete()
    deleted, _ = AccessToken.objects.filter(application=application).delete()
    return deleted


def api_client_revoke(*, client: ApiClient, by) -> ApiClient:
    """Revoke an API client: no new token, and its current access tokens are deleted."""
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().select_related("structure", "application").get(pk=client.pk)
        _require_gestionnaire(user=by, structure=client.structure)
        if client.revoked_at is not None:
            raise ApplicationError(f"Le client API « {client.label} » est déjà révoqué.")
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        tokens = _application_tokens_delete(client.application)
        _record(
            structure=client.structure,
            by=by,
            action="api_client.revoked",
            description=f"Révocation du client API « {client.label} » (client_id {client.application.client_id}).",
            target=client,
            data={"client_id": client.application.client_id, "access_tokens_deleted": tokens},
        )
    return client


def api_client_status(client: ApiClient, *, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if client.revoked_at is not None:
        return "Révoqué"
    if client.expires_at <= now:
        return "Expiré"
    return "Actif"


def api_client_for_application(application: Application | None) -> ApiClient | None:
    """The ApiClient wrapping a toolkit Application (None for applications created outside Chœur)."""
    if application is None:
        return None
    return ApiClient.objects.select_related("structure").filter(application=application).first()


def api_client_mark_used(client: ApiClient) -> None:
    """Record that the client just obtained a token (shown as « dernière utilisation »)."""
    now = timezone.now()
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    client.last_used_at = now


# ---------------------------------------------------------------------------------------------------
# Reads for the Raccordement pages
# ---------------------------------------------------------------------------------------------------


def raccordement_structures(*, user):
    """The active structures whose API credentials `user` manages."""
    return structures_managed_by(user=user).filter(is_active=True).order_by("raison_sociale")


def raccordement_structure_get(*, user, structure_id: int) -> Structure:
    """A structure the user manages, or an error: NotFound when the user has no link to it at all (no
    leak of its existence), PermissionDenied when they are attached without being gestionnaire."""
    return structure_get_for_manager(user=user, structure_id=structure_id)


def technical_accounts_of(structure: Structure):
    return TechnicalAccount.objects.filter(structure=structure).order_by("-created_at", "-pk")


def api_clients_of(structure: Structure):
    return ApiClient.objects.filter(structure=structure).select_related("application").order_by("-created_at", "-pk")
