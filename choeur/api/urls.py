from django.urls import path

from choeur.api.cpro import cpro_api
from choeur.api.native import native_api
from choeur.api.oauth import ThrottledTokenView

urlpatterns = [
    # PISTE-style token endpoint: form-encoded client_credentials, answered by django-oauth-toolkit.
    path("api/oauth/token", ThrottledTokenView.as_view(), name="oauth-token"),
    path("api/v1/", native_api.urls),
    path("cpro/", cpro_api.urls),
]
