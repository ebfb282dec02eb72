from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "choeur.invoices"
    label = "invoices"
