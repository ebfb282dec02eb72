"""The validator's command line, without Django: `python -m choeur.flows.validation validate FILE…`.

`choeur validate` (the Django management command) renders its output with the same functions, so both print
the same French report. Exit status: 0 when every invoice is valid, 1 when at least one is invalid, 2 on a
usage error (missing file, bad option).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from choeur.flows.validation import batch, engines
from choeur.flows.validation.detect import SYNTAX_CII, SYNTAX_UBL

SEVERITY_LABELS = {
    "fatal": "erreur",
    "error": "erreur",
    "warning": "avertissement",
    "information": "information",
}
ENGINE_HELP = (
    "Moteur qui juge les règles EN 16931 : auto (natif s'il est disponible, sinon officiel ; défaut), "
    "native (les modules de règles de Chœur, les règles qu'ils n'implémentent pas jugées par les artefacts "
    "officiels installés) ou official (les artefacts officiels exécutés par saxonche)."
)
RULES_HELP = "en16931 : XSD et règles EN 16931 (défaut) ; fr : ajoute les règles françaises BR-FR, bloquantes."
POLICY_HELP = (
    "cen : le verdict des règles CEN EN 16931 (défaut) ; plateforme : ce que la plateforme accepte "
    "au dépôt (règles Factur-X du profil, règles CEN consultatives pour MINIMUM, BASIC WL, EXTENDED)."
)
JOBS_HELP = "Processus de validation en parallèle (défaut : tous les cœurs dès 64 fichiers)."


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def add_arguments(parser) -> None:
    """The options `choeur validate` and `python -m choeur.flows.validation validate` share."""
    parser.add_argument("paths", nargs="*", metavar="CHEMIN", help="Fichiers ou dossiers à valider.")
    parser.add_argument("--json", action="store_true", help="Sortie JSON : un tableau, un objet par facture.")
    parser.add_argument("--rules", choices=["en16931", "fr"], default="en16931", help=RULES_HELP)
    parser.add_argument("--policy", choices=["cen", "plateforme"], default="cen", help=POLICY_HELP)
    parser.add_argument("--engine", choices=list(engines.ENGINES), default=None, help=ENGINE_HELP)
    parser.add_argument(
        "--explain-engine",
        dest="explain_engine",
        action="store_true",
        help="Indique, pour chaque jeu de règles, quelles règles juge quel moteur, et la couverture du moteur natif.",
    )
    parser.add_argument("--jobs", type=_positive, default=None, metavar="N", help=JOBS_HELP)
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


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"--jobs attend un nombre entier de processus ≥ 1, pas « {value} ».")
    return number


def run(options: dict, *, out: Callable[[str], None], err: Callable[[str], None], style=None) -> int:
    """Validate as the options say; returns the exit status."""
    success = getattr(style, "SUCCESS", None) or (lambda text: text)
    error = getattr(style, "ERROR", None) or (lambda text: text)
    engine = options.get("engine")
    if options.get("explain_engine"):
        write_engine_explanation(engine or engines.ENGINE_AUTO, out=out, as_json=options.get("json", False))
        if not options["paths"]:
            return 0
    if not options["paths"]:
        err("Indiquez au moins un fichier ou un dossier à valider.")
        return 2
    files, missing = batch.collect(options["paths"])
    if missing:
        for path in missing:
            err(f"Fichier introuvable : {path} (vérifiez le chemin).")
        return 2
    if not files:
        err("Aucun fichier à valider dans les dossiers indiqués.")
        return 2
    rules = options.get("rules") or "en16931"
    settings = batch.Options(
        rules=rules,
        fr_blocking=rules == "fr",
        syntaxe_flux=options.get("syntaxe_flux"),
        policy=options.get("policy") or "cen",
        engine=engine,
    )
    reports = []
    for path, file_reports in batch.validate_files(files, jobs=options.get("jobs"), options=settings):
        for report in file_reports:
            report.filename = str(path)
            reports.append(report)
    if options.get("json"):
        write_json(reports, out=out, with_engine=options.get("explain_engine", False))
    else:
        write_text(
            reports,
            len(files),
            out=out,
            details=options.get("details", False),
            success=success,
            error=error,
            explain_engine=options.get("explain_engine", False),
        )
    return 0 if all(report.valid for report in reports) else 1


def write_json(reports, *, out, with_engine: bool = False) -> None:
    payload = []
    for report in reports:
        item = report.to_dict(include_layer=False)
        if with_engine:
            for entry, finding in zip(item["errors"], report.findings, strict=True):
                entry["engine"] = finding.engine
            item["rule_sets"] = [
                {
                    "layer": info.layer,
                    "name": info.name,
                    "version": info.version,
                    "sha256": info.sha256,
                    "engine": info.engine,
                    "rules": info.rules,
                    "unverified": list(info.unverified),
                }
                for info in report.rule_sets
            ]
        payload.append(item)
    out(json.dumps(payload, ensure_ascii=False, indent=2))


def write_text(reports, file_count: int, *, out, details: bool, success, error, explain_engine: bool = False):
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
            counts.append(plural(blocking, "erreur"))
        if report.count("warning"):
            counts.append(plural(report.count("warning"), "avertissement"))
        if report.count("information"):
            counts.append(plural(report.count("information"), "information"))
        suffix = f" ({', '.join(counts)})" if counts else ""
        style = success if report.valid else error
        out(style(f"{report.display_name} : {verdict}") + f" — {', '.join(what)}{suffix}")
        if explain_engine:
            for info in report.rule_sets:
                judged = f", {plural(info.rules, 'règle')}" if info.rules else ""
                out(f"  jugé par le moteur {info.engine} : {info.name} {info.version}{judged} ({info.layer})")
                if info.unverified:
                    out(f"  {info.unverified_label}")
        for finding in report.findings:
            if finding.severity == "information" and not details:
                continue
            location = f"\n      à {finding.location}" if finding.location else ""
            judge = f" [moteur {finding.engine}]" if explain_engine and finding.engine else ""
            out(f"  [{SEVERITY_LABELS[finding.severity]}] {finding.rule} : {finding.message}{judge}{location}")
    valid = sum(1 for r in reports if r.valid)
    out(
        f"{plural(file_count, 'fichier')}, {plural(len(reports), 'facture')} : "
        f"{plural(valid, 'valide')}, {plural(len(reports) - valid, 'invalide')}."
    )


def write_engine_explanation(engine: str, *, out, as_json: bool = False) -> None:
    """Per rule set (EN 16931 UBL and CII): which rules each engine judges, and the native coverage."""
    described = [engines.describe(syntax, engine=engine) for syntax in (SYNTAX_UBL, SYNTAX_CII)]
    if as_json:
        out(json.dumps(described, ensure_ascii=False, indent=2))
        return
    out(f"Moteur demandé : {engine}")
    for info in described:
        out(f"EN 16931 {info['syntax']} — moteur {info['engine']}")
        if info["error"]:
            out(f"  {info['error']}")
            continue
        total = info["official_rules"]
        if "native" in info:
            native = info["native"]
            out(
                f"  natif : {native['name']} (version {native['version']}, SHA-256 {native['sha256'][:16]}…) : "
                f"{plural(len(native['rules']), 'règle')} sur {total}, couverture {info['coverage']:.1%}"
            )
        if "official" in info:
            official = info["official"]
            out(
                f"  officiel : {official['name']} {official['version']} (SHA-256 {official['sha256'][:16]}…) : "
                f"{plural(len(official['rules']), 'règle')}"
            )
        if info["unverified"]:
            shown = ", ".join(info["unverified"][:12])
            more = f"… (+{len(info['unverified']) - 12})" if len(info["unverified"]) > 12 else ""
            out(f"  {plural(len(info['unverified']), 'règle')} {engines.UNVERIFIED_LABEL} : {shown}{more}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m choeur.flows.validation",
        description="Validateur de factures électroniques EN 16931 (UBL, CII, Factur-X), sans Django ni base.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="validate")
    validate = commands.add_parser(
        "validate",
        help="Valide des fichiers ou des dossiers.",
        description="Valide des factures (UBL, CII, PDF Factur-X, archives zip/tar.gz) selon la norme EN 16931.",
    )
    add_arguments(validate)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    return run(vars(args), out=print, err=lambda text: print(text, file=sys.stderr))
