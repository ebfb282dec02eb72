"""Read replica (CHOEUR_READ_REPLICA_URL): API reads, dashboards and search read the replica; tokens, sessions and
accounts, writes, and reads inside a transaction stay on the primary. The replica here is a second test database
fed by the test (dumpdata from the primary, loaddata into the replica), as streaming replication would."""

import types

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from choeur.api.models import ApiCallLog
from choeur.core.db_router import ReadReplicaRouter, replica_reads
from choeur.invoices.models import Invoice
from tests.api.conftest import make_raccordement
from tests.api.native_client import NativeClient
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory
from tests.ops.drill import fresh_database

# Transactional: inside the usual per-test transaction every read would (rightly) stay on the primary.
# Transactional: inside the usual per-test transaction every read would (rightly) stay on the primary.
pytestmark = pytest.mark.django_db(transaction=True)

MIDDLEWARE = "choeur.core.db_router.ReplicaReadsMiddleware"


@pytest.fixture
def replica_alias(transactional_db, django_db_blocker, settings, tmp_path):
    """A « replica » database alias for this test only (a database of its own, with the schema), and the router.

    Added after the test's database access was set up: no other test, nor any check, ever sees the alias."""
    import dj_database_url

    with fresh_database(tmp_path) as url:
        config = connections.configure_settings(
            {"default": connections["default"].settings_dict, "replica": dj_database_url.parse(url)}
        )["replica"]
        connections.settings["replica"] = config
        settings.DATABASES = {**settings.DATABASES, "replica": config}
        replica = connections["replica"]
        # Django's test case refuses connections to aliases the test did not declare (it patches this method on the
        # class for the test's duration); this alias is the test's own, so its connection keeps the real method.
        replica.ensure_connection = types.MethodType(django_db_blocker._real_ensure_connection, replica)
        try:
            call_command("migrate", database="replica", run_syncdb=True, verbosity=0)
            yield "replica"
        finally:
            connections["replica"].close()
            del connections["replica"]
            del connections.settings["replica"]


def feed_replica(tmp_path):
    dump = tmp_path / "primaire.json"
    call_command(
        "dumpdata",
        "--natural-foreign",
        "--natural-primary",
        "-e",
        "contenttypes",
        "-e",
        "auth.permission",
        "-e",
        "sessions",
        database="default",
        output=str(dump),
        verbosity=0,
    )
    call_command("loaddata", str(dump), database="replica", verbosity=0)


@pytest.fixture
def replicated(replica_alias, settings, client, tmp_path):
    """An invoice replicated as « F-001 », renamed « F-001-PRIMAIRE » on the primary since, and a second invoice
    the replica has not received yet; the API token is issued after the replication (primary only)."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    supplier = StructureFactory()
    recipient = StructureFactory(public=True)
    racc = make_raccordement(supplier, name="replique")
    invoice = InvoiceFactory(sent=True, supplier=supplier, recipient=recipient, number="F-001")
    feed_replica(tmp_path)
    # The router comes after the feed: it lets nothing be written to the replica (loaddata would skip every row).
    settings.DATABASE_ROUTERS = ["choeur.core.db_router.ReadReplicaRouter"]
    Invoice.objects.filter(pk=invoice.pk).update(number="F-001-PRIMAIRE")
    late = InvoiceFactory(sent=True, supplier=supplier, recipient=recipient, number="F-002")
    return {"api": NativeClient(client, racc, name="replique"), "invoice": invoice, "late": late}


def test_api_reads_go_to_the_replica_and_the_fresh_token_to_the_primary(replicated):
    response = replicated["api"].get("invoices")
    # The token exists only on the primary, and still authenticates: tokens are never read from the replica.
    assert response.status_code == 200, response.content
    rows = {row["id"]: row["number"] for row in response.json()["results"]}
    assert rows == {replicated["invoice"].pk: "F-001"}  # the replica's state, without the late invoice
    # What the request wrote (its call log) went to the primary.
    assert ApiCallLog.objects.using("default").filter(operation__contains="invoices").exists()
    assert not ApiCallLog.objects.using("replica").filter(operation__contains="invoices").exists()


def test_requests_outside_the_listed_paths_read_the_primary(replicated, settings):
    settings.CHOEUR_READ_REPLICA_PATHS = [r"^GET /factures/emises/$"]
    response = replicated["api"].get("invoices")
    assert response.status_code == 200, response.content
    numbers = sorted(row["number"] for row in response.json()["results"])
    assert numbers == ["F-001-PRIMAIRE", "F-002"]


def test_router_keeps_transactions_accounts_and_tokens_on_the_primary(replicated):
    router = ReadReplicaRouter()
    from oauth2_provider.models import AccessToken

    from choeur.accounts.models import User

    assert router.db_for_read(Invoice) is None  # outside replica_reads(): Django's default, the primary
    with replica_reads():
        assert router.db_for_read(Invoice) == "replica"
        assert Invoice.objects.get(pk=replicated["invoice"].pk).number == "F-001"
        assert router.db_for_read(User) is None and router.db_for_read(AccessToken) is None
        with transaction.atomic():
            assert router.db_for_read(Invoice) is None
            assert Invoice.objects.get(pk=replicated["invoice"].pk).number == "F-001-PRIMAIRE"
        assert router.db_for_write(Invoice) == "default"
    assert router.allow_migrate("replica", "invoices") is False
    assert router.allow_migrate("default", "invoices") is True
