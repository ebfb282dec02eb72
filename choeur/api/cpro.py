"""The Chorus-Pro-compatible API (PISTE paths under /cpro/)."""

from ninja import NinjaAPI

cpro_api = NinjaAPI(
    title="Chœur — API compatible Chorus Pro",
    version="1",
    urls_namespace="cpro",
    docs_url="/docs",
    description="Les opérations de l'API Chorus Pro (PISTE), mêmes chemins et mêmes champs JSON.",
)


@cpro_api.get("transverses/v1/health-check", tags=["Transverses"])
def health_check(request):
    return {"body": "OK", "statusCode": "OK", "statusCodeValue": 200}
