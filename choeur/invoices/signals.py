"""Signals other apps listen to, so that `invoices` never imports them (docs/ARCHITECTURE.md).

`invoice_status_changed` is sent by the background task `tasks.invoice_status_changed`, after the commit
of a transition, with `change` (the InvoiceStatusChange row). The API app connects its webhooks to it.
"""

from django.dispatch import Signal

invoice_status_changed = Signal()
