"""The native API (/api/v1/): resources, problem+json errors, cursor pagination."""

from ninja import NinjaAPI

native_api = NinjaAPI(
    title="Chœur — API native",
    version="1",
    urls_namespace="native",
    docs_url="/docs",
    description="API REST native de Chœur.",
)


@native_api.get("health", tags=["Santé"])
def health(request):
    return {"status": "ok"}
