"""Secrets sent by e-mail. The database keeps only their SHA-256, so a leaked dump opens no account."""

import secrets

from choeur.accounts.models import AccountActivation

# 32 random bytes: far beyond guessing, short enough for an e-mail link.
TOKEN_BYTES = 32


def token_new() -> tuple[str, str]:
    """A fresh URL-safe token and the hash to store for it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, AccountActivation.hash_token(token)
