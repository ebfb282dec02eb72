from django.apps import AppConfig


class WorksConfig(AppConfig):
    name = "choeur.works"
    label = "works"

    def ready(self):
        # The works rows of the invoice transition table must exist before any invoice moves.
        # A valideur may answer a sous-traitant's draft from « Factures à valider » or the API: the dossier follows.
        from choeur.invoices.signals import invoice_status_changed
        from choeur.works import workflow  # noqa: F401
        from choeur.works.validation import on_invoice_status_changed

        invoice_status_changed.connect(on_invoice_status_changed, dispatch_uid="works.titulaire_validation")
