"""Settings of the processes that tests/core/test_serve_processes.py starts through `choeur serve`.

The real worker settings of the flow tests (scratch database from DATABASE_URL, tables built from the models,
the database queue), with the production queue backend (request ids carried into tasks) and the production
JSON logs, which the test reads.
"""

from config.settings import LOGGING as PRODUCTION_LOGGING
from tests.flows.worker_settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "choeur.core.taskqueue.DatabaseBackend"}}
LOGGING = PRODUCTION_LOGGING
CHOEUR_METRICS_TOKEN = "jeton-metriques-de-test"
