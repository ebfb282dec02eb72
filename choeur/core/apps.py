from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "choeur.core"
    label = "core"
