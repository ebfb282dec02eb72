from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "choeur.invoices"
    label = "invoices"

    def ready(self):
        from choeur.core.tasks import task_register_batched
        from choeur.invoices.rendering import invoice_render_documents, invoice_render_documents_many
        from choeur.invoices.tasks import invoice_status_changed, invoice_status_changes

        # A flow's batch enqueues one task per kind for all its invoices (core.tasks.tasks_batched).
        task_register_batched(invoice_status_changed, invoice_status_changes)
        task_register_batched(invoice_render_documents, invoice_render_documents_many)
