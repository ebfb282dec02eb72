from django.contrib import admin
from django.urls import include, path

from choeur.api import metrics

urlpatterns = [
    # « État de la plateforme » (staff), the figures of /metrics (choeur/api/metrics.py).
    path("admin/etat-de-la-plateforme/", admin.site.admin_view(metrics.platform_status), name="platform-status"),
    path("admin/", admin.site.urls),
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("choeur.api.urls")),
    path("", include("choeur.portal.urls")),
]
