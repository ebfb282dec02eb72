"""The test suite's router: production's, except that the replica's test database gets the schema (a real replica
receives it by replication, which the tests stand in for with loaddata)."""

from choeur.core.db_router import ReadReplicaRouter


class ReadReplicaTestRouter(ReadReplicaRouter):
    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return True
