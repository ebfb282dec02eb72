"""`choeur validate PATH... [--json] [--rules en16931|fr]`: offline validation of e-invoice files.

Works without a database (the ORM is never touched, system checks are skipped). Exit status: 0 when every
invoice is valid, 1 when at least one is invalid, 2 on a usage error (missing file, bad option).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

SEVERITY_LABELS = {
    "fatal": "erreur",
    "error": "erreur",
    "warning": "avertissement",
    "information": "information",
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


class Command(BaseCommand):
    help = (
        "Valide des factures électroniques (UBL, CII, PDF Factur-X, archives zip/tar.gz) selon la norme "
        "EN 16931, sans base de données. Code retour : 0 si tout est valide, 1 si une facture est invalide, "
        "2 en cas d'erreur d'utilisation."
    )
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="CHEMIN", help="Fichiers ou dossiers à valider.")
        parser.add_argument("--json", action="store_true", help="Sortie JSON : un tableau, un objet par facture.")
        parser.add_argument(
            "--rules",
            choices=["en16931", "fr"],
            default="en16931",
            help="en16931 : XSD et règles EN 16931 (défaut) ; fr : ajoute les règles françaises BR-FR, bloquantes.",
        )
        parser.add_argument(
            "--policy",
            choices=["cen", "plateforme"],
            default="cen",
            help=(
                "cen : le verdict des règles CEN EN 16931 (défaut) ; plateforme : ce que la plateforme accepte "
                "au dépôt (règles Factur-X du profil, règles CEN consultatives pour MINIMUM, BASIC WL, EXTENDED)."
            ),
        )
        parser.add_argument(
            "--syntaxe-flux",
            dest="syntaxe_flux",
            default=None,
            help="syntaxeFlux Chorus Pro déclarée (IN_DP_E1_UBL_INVOICE…), contrôlée par rapport au contenu.",
        )
        parser.add_argument(
            "--details",
            action="store_true",
            help="Affiche aussi les informations (éléments ignorés par le profil…), pas seulement les anomalies.",
        )

    def handle(self, *args, **options):
        from choeur.flows.validation import validate_path

        rules = options["rules"]
        files, missing = self._collect(options["paths"])
        if missing:
            for path in missing:
                self.stderr.write(f"Fichier introuvable : {path} (vérifiez le chemin).")
            sys.exit(2)
        if not files:
            self.stderr.write("Aucun fichier à valider dans les dossiers indiqués.")
            sys.exit(2)

        reports = []
        for path in files:
            for report in validate_path(
                path,
                rules=rules,
                fr_blocking=rules == "fr",
                syntaxe_flux=options["syntaxe_flux"],
                policy=options["policy"],
            ):
                report.filename = str(path)
                reports.append(report)

        if options["json"]:
            self._write_json(reports)
        else:
            self._write_text(reports, len(files), details=options["details"])
        if not all(report.valid for report in reports):
            sys.exit(1)

    def _collect(self, paths: list[str]) -> tuple[list[Path], list[str]]:
        files: list[Path] = []
        missing: list[str] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files.extend(
                    sorted(
                        p
                        for p in path.rglob("*")
                        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                    )
                )
            elif path.is_file():
                files.append(path)
            else:
                missing.append(raw)
        return files, missing

    def _write_json(self, reports) -> None:
        payload = [report.to_dict(include_layer=False) for report in reports]
        self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))

    def _write_text(self, reports, file_count: int, *, details: bool) -> None:
        for report in reports:
            verdict = "VALIDE" if report.valid else "INVALIDE"
            what = []
            if report.syntax:
                kind = report.document_type if report.document_type != "CrossIndustryInvoice" else ""
                what.append(f"{report.syntax} {kind}".strip())
                what.append(f"profil {report.profile}")
            else:
                what.append("format non reconnu")
            if report.syntaxe_flux:
                what.append(f"syntaxeFlux {report.syntaxe_flux}")
            counts = []
            blocking = sum(1 for f in report.findings if f.blocking)
            if blocking:
                counts.append(_plural(blocking, "erreur"))
            if report.count("warning"):
                counts.append(_plural(report.count("warning"), "avertissement"))
            if report.count("information"):
                counts.append(_plural(report.count("information"), "information"))
            suffix = f" ({', '.join(counts)})" if counts else ""
            style = self.style.SUCCESS if report.valid else self.style.ERROR
            self.stdout.write(style(f"{report.display_name} : {verdict}") + f" — {', '.join(what)}{suffix}")
            for finding in report.findings:
                if finding.severity == "information" and not details:
                    continue
                location = f"\n      à {finding.location}" if finding.location else ""
                self.stdout.write(
                    f"  [{SEVERITY_LABELS[finding.severity]}] {finding.rule} : {finding.message}{location}"
                )
        valid = sum(1 for r in reports if r.valid)
        self.stdout.write(
            f"{_plural(file_count, 'fichier')}, {_plural(len(reports), 'facture')} : "
            f"{_plural(valid, 'valide')}, {_plural(len(reports) - valid, 'invalide')}."
        )
