"""`choeur artefacts install PATH` / `choeur artefacts list`: the official rule sets that judge invoices.

The CEN EN 16931 validation artefacts are on no package registry and may not be committed: an operator installs
a release (a directory or the release zip of ConnectingEurope/eInvoicing-EN16931) as the operators of the KoSIT
validator install its configuration. Works without a database.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Installe ou liste les artefacts officiels de validation (XSLT CEN EN 16931) et leurs empreintes SHA-256."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION")
        install = sub.add_parser("install", help="Installe une version des artefacts CEN (dossier ou zip).")
        install.add_argument("source", metavar="CHEMIN")
        sub.add_parser("list", help="Montre les jeux de règles qui jugent les factures, leur version et SHA-256.")

    def handle(self, *args, **options):
        from choeur.flows.validation import artefacts

        action = options.get("action")
        if action == "install":
            try:
                release = artefacts.install(options["source"])
            except artefacts.ArtefactError as exc:
                self.stderr.write(str(exc))
                sys.exit(2)
            self.stdout.write(f"Installé : {release.name} dans {release.directory}")
            for key, entry in sorted(release.files.items()):
                self.stdout.write(f"  {key:8} {entry['path']}  SHA-256 {entry['sha256']}")
            return
        if action == "list":
            self._list()
            return
        self.stderr.write("Indiquez une action : install CHEMIN ou list.")
        sys.exit(2)

    def _list(self):
        from choeur.flows.validation import artefacts, schematron

        self.stdout.write(f"Dossier des versions installées : {artefacts.store_dir()}")
        releases = artefacts.installed_releases()
        if not releases:
            self.stdout.write("  aucune version installée")
        for release in releases:
            self.stdout.write(f"  {release.name} (version {release.version}, installée le {release.installed_at})")
        self.stdout.write("")
        self.stdout.write("Jeux de règles :")
        problems = 0
        for key in sorted(schematron.RULE_SETS):
            try:
                resolved = schematron.resolve(key)
            except artefacts.ArtefactError as exc:
                problems += 1
                self.stdout.write(f"  {key:12} ERREUR : {exc}")
                continue
            if resolved is None:
                self.stdout.write(
                    f"  {key:12} non installé — la CII est jugée par les règles Factur-X EN 16931 (repli)"
                )
                continue
            self.stdout.write(
                f"  {key:12} {resolved.name} {resolved.version} — {resolved.origin} — SHA-256 {resolved.sha256}"
            )
        if problems:
            sys.exit(1)
