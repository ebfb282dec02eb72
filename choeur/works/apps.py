from django.apps import AppConfig


class WorksConfig(AppConfig):
    name = "choeur.works"
    label = "works"
