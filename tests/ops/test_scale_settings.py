"""The scale-out settings read from the environment (config/settings.py, « Scale-out and operations » block), as a
production process sees them: read in a child process with only those variables set."""

import json
import subprocess
import sys

from tests.ops.drill import ROOT, child_env

SHOW = (
    "import json, config.settings as s; print(json.dumps({'db': s.DATABASES, 'routers': getattr(s, "
    "'DATABASE_ROUTERS', []), 'middleware': s.MIDDLEWARE, 'storage': s.STORAGES['default'], 'caches': s.CACHES}, "
    "default=str))"
)


def settings_with(**env) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=child_env(env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_are_one_machine_without_router_nor_replica(tmp_path):
    seen = settings_with(CHOEUR_VAR_DIR=str(tmp_path))
    assert list(seen["db"]) == ["default"] and seen["routers"] == []
    assert "choeur.core.db_router.ReplicaReadsMiddleware" not in seen["middleware"]
    assert seen["storage"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_pgbouncer_replica_s3_and_redis_from_the_environment(tmp_path):
    seen = settings_with(
        CHOEUR_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://choeur:secret@pgbouncer:6432/choeur",
        CHOEUR_PGBOUNCER="true",
        CHOEUR_READ_REPLICA_URL="postgres://choeur:secret@replica-pgbouncer:6432/choeur",
        CHOEUR_S3_BUCKET="documents",
        CHOEUR_S3_ENDPOINT_URL="http://s3:9000",
        CHOEUR_S3_REGION="fr-par",
        CHOEUR_CACHE_URL="redis://redis:6379/0",
    )
    for alias in ("default", "replica"):
        assert seen["db"][alias]["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert seen["db"][alias]["OPTIONS"]["prepare_threshold"] is None
        assert seen["db"][alias]["CONN_MAX_AGE"] == 60
    assert seen["db"]["replica"]["HOST"] == "replica-pgbouncer"
    assert seen["routers"] == ["choeur.core.db_router.ReadReplicaRouter"]
    assert seen["middleware"][-1] == "choeur.core.db_router.ReplicaReadsMiddleware"
    assert seen["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = seen["storage"]["OPTIONS"]
    assert options["bucket_name"] == "documents" and options["endpoint_url"] == "http://s3:9000"
    assert options["region_name"] == "fr-par" and options["addressing_style"] == "path"
    assert options["default_acl"] == "private" and options["file_overwrite"] is False
    assert seen["caches"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://redis:6379/0",
    }


def test_pgbouncer_flag_leaves_sqlite_alone(tmp_path):
    seen = settings_with(CHOEUR_VAR_DIR=str(tmp_path), CHOEUR_PGBOUNCER="true")
    assert not seen["db"]["default"].get("DISABLE_SERVER_SIDE_CURSORS")
    assert "prepare_threshold" not in seen["db"]["default"]["OPTIONS"]
