from django.urls import path

from choeur.api import health
from choeur.api.cpro import cpro_api
from choeur.api.native import native_api
from choeur.api.oauth import ThrottledTokenView

urlpatterns = [
    # Probes for load balancers and orchestrators (choeur/api/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # PISTE-style token endpoint: form-encoded client_credentials, answered by django-oauth-toolkit.
    path("api/oauth/token", ThrottledTokenView.as_view(), name="oauth-token"),
    path("api/v1/", native_api.urls),
    path("cpro/", cpro_api.urls),
]
