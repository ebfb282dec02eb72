"""Micro-bench of the native EN 16931 UBL engine: `python -m bench.native_ubl`.

validate() alone (the document already parsed, as in the pipeline) on the median-size UBL example of the
EN 16931 corpus, on one core; the parse is timed apart. Prints invoices per second; target ≥ 2,000/s.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO.parent / "shared" / "corpus" / "en16931" / "ubl" / "examples"
TARGET = 2000


def median_example() -> Path:
    files = sorted((p for p in EXAMPLES.iterdir() if p.suffix.lower() == ".xml"), key=lambda p: p.stat().st_size)
    return files[len(files) // 2]


def _rate(function, repeat: int = 7, seconds: float = 0.3) -> float:
    """Median calls per second over `repeat` rounds of about `seconds` each."""
    count = 1
    while True:
        start = time.perf_counter()
        for _ in range(count):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 4:
            break
        count *= 2
    per_round = max(1, int(count * seconds / elapsed))
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(per_round):
            function()
        rates.append(per_round / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    from choeur.flows.validation.native import ubl

    if not EXAMPLES.exists():
        print(f"Corpus absent : {EXAMPLES} — bench du moteur natif UBL ignoré.")
        return
    path = median_example()
    data = path.read_bytes()
    root = etree.fromstring(data)
    findings = ubl.validate(root)
    validate = _rate(lambda: ubl.validate(root))
    parse_and_validate = _rate(lambda: ubl.validate(etree.fromstring(data)))
    verdict = "atteint" if validate >= TARGET else "NON atteint"
    print(
        f"Moteur natif EN 16931 UBL ({len(ubl.RULES)} règles) sur {path.name} ({len(data) // 1024} Kio, "
        f"{len(findings)} anomalie(s)) : {validate:,.0f} factures/s par cœur (validate seul, objectif "
        f"{TARGET:,}/s {verdict}) ; {parse_and_validate:,.0f}/s avec l'analyse XML".replace(",", " ")
    )


if __name__ == "__main__":
    main()
