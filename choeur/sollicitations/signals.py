"""Signals other apps listen to (the API records its events and webhooks), so that this app imports none.

`sollicitation_event` is sent after the commit of a creation or an action, with `sollicitation`, `action`,
`actor_role` and `event_key` (unique per event: « creation:<id> » or « change:<status change id> »)."""

from django.dispatch import Signal

sollicitation_event = Signal()
