from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "choeur.api"
    label = "api"

    def ready(self):
        from django.db.models.signals import post_save

        from choeur.api import events
        from choeur.core.models import AuditEntry
        from choeur.invoices.signals import invoice_status_changed
        from choeur.sollicitations.signals import sollicitation_event

        # Events of the feed and of webhooks (see choeur/api/events.py for why flows come through the audit).
        invoice_status_changed.connect(events.on_invoice_status_changed, dispatch_uid="api.events.invoice")
        sollicitation_event.connect(events.on_sollicitation_event, dispatch_uid="api.events.sollicitation")
        post_save.connect(events.on_audit_entry_saved, sender=AuditEntry, dispatch_uid="api.events.flow")
