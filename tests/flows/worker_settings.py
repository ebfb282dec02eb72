"""Settings of the real worker processes started by test_worker_kill.py (and by bench/flows.py).

The database comes from DATABASE_URL (a scratch SQLite file or PostgreSQL database), the files from
CHOEUR_VAR_DIR; tasks go through django-tasks-db, as in production. Migrations are off, as in the test
suite (`--nomigrations`): `choeur migrate --run-syncdb` builds the tables straight from the models.
"""

from config.test_settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Real worker processes keep their connection, as in production (config/settings.py).
DATABASES["default"]["CONN_MAX_AGE"] = 0 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 60  # noqa: F405
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}


class _DisableMigrations:
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


MIGRATION_MODULES = _DisableMigrations()
