"""Property-based run of schemathesis against the native API's own OpenAPI description: whatever the
generated parameters and bodies, with a valid token holding every scope, no operation answers 5xx.

Bounded for `make test`: a few examples per operation, no deadline per example (the first call of an
operation warms caches), under a minute on an idle machine.
"""

from __future__ import annotations

import pytest

pytest.importorskip("schemathesis", reason="schemathesis absent : pip install -e '.[dev]'")

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from config.wsgi import application  # noqa: E402
from tests.api.conftest import make_raccordement  # noqa: E402
from tests.directory.factories import StructureFactory  # noqa: E402
from tests.invoices.factories import InvoiceFactory  # noqa: E402

SCOPES = (
    "structures:read invoices:read invoices:write flows:write webhooks:manage sollicitations:read sollicitations:write"
)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def token(db, settings_override):
    structure = StructureFactory(raison_sociale="Entreprise testée")
    recipient = StructureFactory(public=True, raison_sociale="Commune testée")
    raccordement = make_raccordement(structure, name="schemathesis", scope=SCOPES)
    # A few rows so that ids 1, 2… sometimes exist and the detail operations run their full path.
    InvoiceFactory(sent=True, supplier=structure, recipient=recipient)
    InvoiceFactory(supplier=structure, recipient=recipient)
    return raccordement.token


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calls go through the WSGI application, not Django's test client: like the client, keep Django from
    closing the database connection at the end of each request (on PostgreSQL that would end the test's
    transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def settings_override(settings):
    # No outgoing delivery may leave the test: webhooks created by generated calls stay pending.
    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = False
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    return settings


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
def test_no_server_error(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[not_a_server_error])
