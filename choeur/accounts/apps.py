from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "choeur.accounts"
    label = "accounts"
