"""`choeur validate PATH... [--json] [--rules en16931|fr] [--engine auto|native|official] [--jobs N]`: offline
validation of e-invoice files (the library's CLI, choeur/flows/validation/cli.py, with Django's output styles).

Works without a database (the ORM is never touched, system checks are skipped). Exit status: 0 when every
invoice is valid, 1 when at least one is invalid, 2 on a usage error (missing file, bad option).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from choeur.flows.validation import cli


class Command(BaseCommand):
    help = (
        "Valide des factures électroniques (UBL, CII, PDF Factur-X, archives zip/tar.gz) selon la norme "
        "EN 16931, sans base de données. Code retour : 0 si tout est valide, 1 si une facture est invalide, "
        "2 en cas d'erreur d'utilisation."
    )
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, **options):
        from django.conf import settings

        if options["engine"] is None:
            options["engine"] = getattr(settings, "CHOEUR_VALIDATION_ENGINE", None)
        status = cli.run(options, out=self.stdout.write, err=self.stderr.write, style=self.style)
        if status:
            sys.exit(status)
