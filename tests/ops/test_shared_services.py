"""Stateless processes over shared services: documents on S3-compatible storage (moto's server mode on loopback,
started for these tests) and the rate limiter's counters on Redis (127.0.0.1:6379)."""

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command

from choeur.flows.enums import Channel
from choeur.flows.services import flow_deposit
from choeur.invoices.services import invoice_attachment_add
from tests.api.conftest import make_raccordement
from tests.api.native_client import NativeClient, assert_problem
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory, issuer_for

pytestmark = pytest.mark.django_db

S3_PORT = 8121
REDIS_URL = os.environ.get("CHOEUR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
FLOW = b"<?xml version='1.0'?><Invoice>flux sur S3</Invoice>"


def _unavailable(what: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} indisponible en CI.")
    pytest.skip(f"{what} indisponible sur cette machine.")


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on 127.0.0.1, for this module only (bounded start, stopped at the end)."""
    executable = Path(sys.executable).with_name("moto_server")
    if not executable.exists():
        _unavailable("moto[server] (extra dev)")
    process = subprocess.Popen(
        [str(executable), "-H", "127.0.0.1", "-p", str(S3_PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 20
    try:
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", S3_PORT)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto_server ne répond pas sur {S3_PORT} : {process.stderr.read()!r}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{S3_PORT}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def s3(settings, s3_server):
    """STORAGES["default"] on a fresh bucket, configured as config/settings.py does from CHOEUR_S3_*."""
    import boto3

    bucket = f"choeur-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3", endpoint_url=s3_server, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_server,
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
                "addressing_style": "path",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    return client, bucket


def _objects(client, bucket) -> dict[str, bytes]:
    listing = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listing}


def test_invoice_attachment_and_flow_file_are_stored_and_read_through_s3(s3, django_capture_on_commit_callbacks):
    client, bucket = s3
    invoice = InvoiceFactory(with_lines=True)
    attachment = invoice_attachment_add(
        invoice=invoice, by=issuer_for(invoice.supplier), name="bon-de-livraison.pdf", content=PDF
    )
    with django_capture_on_commit_callbacks(execute=False):
        flow, created = flow_deposit(
            structure=invoice.supplier, content=FLOW, filename="flux.xml", channel=Channel.PORTAIL
        )
    assert created
    stored = _objects(client, bucket)
    assert stored[attachment.file.storage_name] == PDF
    assert stored[flow.file.storage_name] == FLOW
    assert attachment.file.storage_name == f"sha256/{hashlib.sha256(PDF).hexdigest()[:2]}/" + (
        f"{hashlib.sha256(PDF).hexdigest()[2:4]}/{hashlib.sha256(PDF).hexdigest()}"
    )
    # Read back through Django's storage, as the download views do.
    attachment.refresh_from_db()
    flow.refresh_from_db()
    assert attachment.file.read() == PDF
    assert flow.file.read() == FLOW
    # The same bytes again: stored once (content addressing holds on S3 too).
    again = invoice_attachment_add(invoice=invoice, by=issuer_for(invoice.supplier), name="copie.pdf", content=PDF)
    assert again.file_id == attachment.file_id
    assert len(_objects(client, bucket)) == 2


@pytest.mark.django_db(transaction=True)
def test_backup_reads_the_documents_from_s3(s3, tmp_path):
    client, bucket = s3
    invoice = InvoiceFactory(with_lines=True)
    attachment = invoice_attachment_add(
        invoice=invoice, by=issuer_for(invoice.supplier), name="annexe.pdf", content=PDF
    )
    call_command("backup", str(tmp_path / "sauvegarde"), verbosity=0)
    manifest = json.loads((tmp_path / "sauvegarde" / "manifest.json").read_text())
    entry = manifest["files"][f"files/{attachment.file.storage_name}"]
    assert entry == {"sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF)}


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis under a key prefix of this test's own (the server is shared)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        _unavailable(f"Redis ({REDIS_URL})")
    prefix = f"choeur-test-{uuid.uuid4().hex[:10]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    raw = redis.Redis.from_url(REDIS_URL)
    yield prefix, raw
    for key in raw.scan_iter(f"{prefix}:*"):
        raw.delete(key)


def test_the_api_rate_limit_is_counted_in_redis_for_every_process(redis_cache, settings, client):
    prefix, raw = redis_cache
    settings.CHOEUR_API_RATE_LIMIT = "3/3600s"
    api = NativeClient(client, make_raccordement(StructureFactory(), name="redis"), scope="structures:read")
    assert api.get("structures").status_code == 200
    [key] = [key.decode() for key in raw.scan_iter(f"{prefix}:*choeur:api:rate:*")]
    assert int(raw.get(key)) == 1
    # Another server process (its own connection to Redis, same settings) spends two calls of the same budget.
    other_process = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    plain_key = key.split(":", 2)[2]  # "<prefix>:<version>:<key>" → "<key>"
    other_process.incr(plain_key)
    other_process.incr(plain_key)
    assert int(raw.get(key)) == 3
    refused = api.get("structures")
    assert_problem(refused, 429, "trop_de_requetes")
    assert 0 < raw.ttl(key) <= 3600 + 5
