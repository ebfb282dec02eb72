from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "choeur.flows"
    label = "flows"
