from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "choeur.directory"
    label = "directory"
