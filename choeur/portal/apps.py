from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "choeur.portal"
    label = "portal"
