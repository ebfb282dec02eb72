"""Context processor for the header's notification link (unread count). To add to TEMPLATES
`context_processors`: "choeur.portal.lifecycle_views.context.notifications"."""

from choeur.invoices.notifications import notifications_unread_count


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread_count": notifications_unread_count(user=user)}
