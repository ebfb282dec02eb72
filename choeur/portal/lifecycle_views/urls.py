from django.urls import path

from choeur.portal.lifecycle_views import views

urlpatterns = [
    path("notifications/", views.notifications_view, name="notifications"),
    path("notifications/lues/", views.notifications_mark_read_view, name="notifications_mark_read"),
    path("notifications/<int:notification_id>/", views.notification_open_view, name="notification_open"),
    path("notifications/preferences/", views.notification_preferences_view, name="notification_preferences"),
    path("factures/rejets-a-traiter/", views.rejections_pending_view, name="rejections_pending"),
]
