"""Test settings: same as production but fast hashing, captured e-mails and immediate tasks."""

import os

os.environ.setdefault("CHOEUR_DEBUG", "false")
os.environ.setdefault("CHOEUR_SECRET_KEY", "test-secret-key-not-for-production")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]
# The live server's threads would otherwise keep their connections to the test database open, and
# PostgreSQL refuses to drop a database someone is connected to.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# The suite calls the API thousands of times from one address: the limit is tested on its own
# (tests/api/test_limits.py sets a small one).
CHOEUR_API_RATE_LIMIT = ""
