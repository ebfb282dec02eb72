"""Verify an exported audit log offline: `python -m choeur.core.audit_offline DIR [--public-key FILE]`.

DIR is what `choeur audit_export` wrote: entries.jsonl (each entry's hashed bytes, its hash and its
predecessor's), checkpoints.jsonl (the signed checkpoints) and public-key.pem. Give the public key archived when
the key was created (`--public-key`) rather than the export's copy, which whoever made the export could replace.
No database, no Django: only the standard library and `cryptography`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

GENESIS_HASH = "0" * 64


def chain_problems(entries_file: Path, seen: list) -> list[str]:
    problems = []
    expected = GENESIS_HASH
    with entries_file.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["prev_hash"] != expected:
                problems.append(f"Entrée n°{record['id']} : le maillon précédent ne correspond pas.")
            computed = hashlib.sha256(record["prev_hash"].encode() + record["payload"].encode()).hexdigest()
            if computed != record["hash"]:
                problems.append(f"Entrée n°{record['id']} : contenu modifié après écriture.")
            expected = record["hash"]
            seen.append((record["id"], record["hash"]))
    return problems


def main(argv: list[str] | None = None) -> int:
    from choeur.core.audit_checkpoints import verify_checkpoints

    parser = argparse.ArgumentParser(description="Vérifie hors ligne un export du journal d'audit de Chœur.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--public-key", type=Path, default=None, help="clé publique archivée (PEM)")
    options = parser.parse_args(argv)
    directory = options.directory
    public_pem = (options.public_key or directory / "public-key.pem").read_text()
    seen: list = []
    problems = chain_problems(directory / "entries.jsonl", seen)
    records = [
        json.loads(line)
        for line in (directory / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    checkpoint_problems, notes = verify_checkpoints(records, public_pem=public_pem, chain=seen)
    problems += checkpoint_problems
    for note in notes:
        print(note)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"Journal d'audit altéré : {len(problems)} anomalie(s).", file=sys.stderr)
        return 1
    print(f"Journal d'audit intègre ({len(seen)} entrées, {len(records)} point(s) de contrôle signé(s)).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
