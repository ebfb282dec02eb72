from django.apps import AppConfig


class SollicitationsConfig(AppConfig):
    name = "choeur.sollicitations"
    label = "sollicitations"
