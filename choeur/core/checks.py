"""Start-up checks on the production configuration, in French, saying what to set.

`choeur serve` runs them with the deploy tag and refuses to start on any error; `manage.py check --deploy`
shows them beside Django's own. The public-host check runs always: DEBUG on a public address shows stack
traces and settings to anyone.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5


def _is_public(host: str) -> bool:
    host = host.strip().lower()
    return not (host in _LOCAL_HOSTS or host.endswith(".localhost") or host == ".localhost")


@register(Tags.security)
def check_debug_on_public_host(app_configs, **kwargs):
    if not settings.DEBUG:
        return []
    public = [host for host in settings.ALLOWED_HOSTS if _is_public(host)]
    if not public:
        return []
    return [
        Error(
            f"Le mode débogage est actif alors que CHOEUR_ALLOWED_HOSTS ouvre des adresses publiques "
            f"({', '.join(public)}) : il afficherait le détail des erreurs et des réglages à tout visiteur.",
            hint="Mettez CHOEUR_DEBUG=false en production, ou limitez CHOEUR_ALLOWED_HOSTS à 127.0.0.1,localhost.",
            id="choeur.E001",
        )
    ]


@register(Tags.security, deploy=True)
def check_secret_key_strength(app_configs, **kwargs):
    key = settings.SECRET_KEY or ""
    if (
        len(key) >= MIN_SECRET_KEY_LENGTH
        and len(set(key)) >= MIN_SECRET_KEY_UNIQUE_CHARACTERS
        and not key.startswith("django-insecure-")
    ):
        return []
    return [
        Error(
            f"La clé secrète est trop faible : il faut au moins {MIN_SECRET_KEY_LENGTH} caractères aléatoires "
            f"(elle signe les sessions, les liens d'activation et de réinitialisation).",
            hint=(
                "Définissez CHOEUR_SECRET_KEY avec une valeur tirée au hasard, par exemple : "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))' "
                "(ou ne la définissez pas : une clé aléatoire est alors créée dans var/secret_key)."
            ),
            id="choeur.E002",
        )
    ]
