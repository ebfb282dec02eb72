"""Exponential back-off on failed credentials: `cpro-account` technical passwords and the OAuth2 token
endpoint's client secrets.

A key (a technical account's login, an OAuth2 client_id, an IP address) may fail a few times freely — a
mistyped secret, a client retrying; then every further failure closes the key for twice as long as the
previous one (1 s, 2 s, 4 s… up to a ceiling). While a key is closed its calls are answered 429 with
`Retry-After` *before* any password hashing, so that a burst of bad secrets neither guesses anything nor
loads the server. A success reopens the key. The policies are declared where they are used:
`directory.raccordement` (technical accounts, whose gestionnaire sees and lifts the lock) and `api.oauth`
(the token endpoint).

The counters live in Django's cache (shared by the server processes in production: Redis or the database
cache); they survive the window they cover by a margin, then vanish on their own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.core.cache import cache

# Failures forgotten after this long without a new one.
MEMORY_SECONDS = 3600


@dataclass(frozen=True)
class Backoff:
    """One back-off policy; `scope` separates the keys of two policies in the cache."""

    scope: str
    free_failures: int
    max_wait_seconds: int

    def _key(self, key: str) -> str:
        return f"choeur:throttle:{self.scope}:{key.strip().lower()[:200]}"

    def retry_after(self, key: str, *, now: float | None = None) -> int | None:
        """Seconds until `key` may try again, or None when it may try now."""
        state = cache.get(self._key(key))
        if not state:
            return None
        now = time.time() if now is None else now
        wait = state.get("until", 0) - now
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failures(self, key: str) -> int:
        state = cache.get(self._key(key))
        return int(state.get("failures", 0)) if state else 0

    def fail(self, key: str, *, now: float | None = None) -> int | None:
        """Count one failure of `key`; the seconds it is now closed for (None while failures are free)."""
        now = time.time() if now is None else now
        cache_key = self._key(key)
        state = cache.get(cache_key) or {"failures": 0, "until": 0}
        state["failures"] = int(state["failures"]) + 1
        beyond = state["failures"] - self.free_failures
        wait = min(self.max_wait_seconds, 2 ** (beyond - 1)) if beyond > 0 else 0
        if wait:
            state["until"] = now + wait
        cache.set(cache_key, state, timeout=MEMORY_SECONDS + self.max_wait_seconds)
        return wait or None

    def reset(self, key: str) -> None:
        cache.delete(self._key(key))
