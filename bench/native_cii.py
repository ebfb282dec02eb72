"""Native CEN EN 16931 engine for CII (choeur/flows/validation/native/cii.py): invoices judged per second, one core.

On the median-size CII example of the CEN corpus (../shared/corpus/en16931/cii/examples, as bench/validation.py),
after a warm-up, several rounds of back-to-back `cii.validate(root)` on the already-parsed tree (the EN 16931 rules
alone: 806 assertions), then the same with the lxml parse included, then the official CEN XSLT run by saxonche on
the same parsed document when the release is at hand (../shared/artefacts, read in place). Medians over the rounds,
per CPU second of this process (what a dedicated core sustains) and per wall-clock second. Target (issue 14):
≥ 2,000 invoices/s per core.

    python -m bench.native_cii
"""

from __future__ import annotations

import statistics
import time

from bench.validation import CORPUS, median_example

TARGET = 2000
ROUNDS = 7
ROUND_SECONDS = 1.0


def _rates(work, rounds: int = ROUNDS, round_seconds: float = ROUND_SECONDS) -> tuple[float, float]:
    for _ in range(20):
        work()
    wall_rates, cpu_rates = [], []
    for _ in range(rounds):
        count, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - wall0 < round_seconds:
            work()
            count += 1
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        wall_rates.append(count / wall)
        cpu_rates.append(count / cpu if cpu > 0 else 0.0)
    return statistics.median(cpu_rates), statistics.median(wall_rates)


def run() -> None:
    from choeur.flows.validation.native import cii
    from choeur.flows.validation.xmlparse import parse_xml

    folder = CORPUS / "cii" / "examples"
    if not folder.is_dir():
        print("Moteur natif CII : corpus EN 16931 absent (../shared/corpus), mesure non faite.")
        return
    path = median_example(folder)
    data = path.read_bytes()
    root = parse_xml(data).root
    findings = cii.validate(root)
    print(
        f"Moteur natif CII (EN 16931 seul, {len(cii.RULES)} règles) — {path.name}, {len(data)} octets, "
        f"{len(findings)} anomalie(s)"
    )
    cpu, wall = _rates(lambda: cii.validate(root))
    tree_cpu = cpu
    verdict = "atteint" if cpu >= TARGET else "NON atteint"
    print(f"  validate(arbre)      : {cpu:8.0f} factures/s CPU, {wall:8.0f} /s mur — cible {TARGET}/s : {verdict}")
    cpu, wall = _rates(lambda: cii.validate(parse_xml(data).root))
    print(f"  analyse + validate   : {cpu:8.0f} factures/s CPU, {wall:8.0f} /s mur")
    official = _official_run(root)
    if official is None:
        print("  officiel (XSLT CEN) : artefacts CEN absents (../shared/artefacts), comparaison non faite.")
        return
    cpu_official, wall_official = _rates(official, rounds=3)
    print(
        f"  officiel (XSLT CEN, saxonche, arbre déjà analysé) : {cpu_official:8.0f} factures/s CPU, "
        f"{wall_official:8.0f} /s mur — natif ×{tree_cpu / cpu_official:.1f}"
    )


def _official_run(root):
    """The official CEN CII XSLT on the same document (read in place from ../shared/artefacts), or None."""
    from pathlib import Path

    from choeur.flows.validation import schematron
    from choeur.flows.validation.xmlparse import serialise_root

    xslt = Path(__file__).resolve().parents[2] / "shared" / "artefacts" / "en16931-1.3.16" / "cii"
    xslt = xslt / "EN16931-CII-validation.xslt"
    if not xslt.exists():
        return None
    processor = schematron._processor()
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(xslt))
    text = serialise_root(root)
    node = processor.parse_xml(xml_text=text.decode() if isinstance(text, bytes) else text)
    return lambda: schematron.parse_svrl(executable.transform_to_string(xdm_node=node).encode("utf-8"))


if __name__ == "__main__":
    run()
