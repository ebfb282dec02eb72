"""Periodic jobs of the API, run by `choeur run_periodic`."""

from datetime import timedelta

from choeur.api.webhooks import deliveries_retry_due
from choeur.core.scheduler import periodic


@periodic(
    name="api.webhooks.retry",
    every=timedelta(minutes=1),
    description="Remet en file les livraisons de webhook dont la nouvelle tentative est due.",
)
def retry_webhooks(*, now, since):
    deliveries_retry_due(now=now)
