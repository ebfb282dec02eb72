"""An optional read replica (CHOEUR_READ_REPLICA_URL): reads that tolerate a little lag go to it.

Reads go to the replica only inside `replica_reads()` — opened by `ReplicaReadsMiddleware` around the requests
listed in CHOEUR_READ_REPLICA_PATHS (dashboards, search, API reads) — and even then never:
- inside a transaction on the primary (what was just written must be read back from where it was written);
- for sessions, accounts, OAuth tokens, login lock-outs and the task queue, which must be current: a token
  issued a millisecond ago on the primary has to authenticate the call that follows.
Every write goes to the primary; migrations run on the primary only (the replica copies them).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_ALIAS = "replica"
PRIMARY_ONLY_APPS = frozenset(
    {"sessions", "auth", "accounts", "oauth2_provider", "axes", "otp_totp", "otp_static", "django_tasks_db"}
)
_replica_on: ContextVar[bool] = ContextVar("choeur_replica_reads", default=False)


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Let the reads of this block go to the replica (when one is configured)."""
    token = _replica_on.set(REPLICA_ALIAS in settings.DATABASES)
    try:
        yield
    finally:
        _replica_on.reset(token)


class ReadReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _replica_on.get() or model._meta.app_label in PRIMARY_ONLY_APPS:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return REPLICA_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaReadsMiddleware:
    """Opens `replica_reads()` for requests matching CHOEUR_READ_REPLICA_PATHS.

    Each pattern is a regular expression matched against « METHOD /path », e.g. ``^GET /api/v1/`` or
    ``^POST /cpro/factures/v1/consulter`` (Chorus Pro's reads are POST)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.patterns = [re.compile(pattern) for pattern in settings.CHOEUR_READ_REPLICA_PATHS]

    def __call__(self, request):
        line = f"{request.method} {request.path}"
        if any(pattern.search(line) for pattern in self.patterns):
            with replica_reads():
                return self.get_response(request)
        return self.get_response(request)
