"""Background tasks of the API (django.tasks; the backend is a setting). Arguments are ids only."""

from django.tasks import task

from choeur.api.webhooks import delivery_attempt


@task()
def deliver_webhook(delivery_id: int) -> str:
    """One attempt of one webhook delivery; returns its status afterwards ("" if it was not due)."""
    return str(delivery_attempt(delivery_id=delivery_id))
