from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "choeur.flows"
    label = "flows"

    def ready(self):
        from django.conf import settings

        from choeur.flows.validation import artefacts

        # The engine is a Django-free library: it learns where installed releases live from here.
        artefacts.configure_store(settings.CHOEUR_ARTEFACTS_DIR)
