"""`make proof-validation`: the differential comparison on ≥ 100,000 generated invoices, on every core.

    python -m tests.flows.native.proof [--count 100000] [--jobs N] [--seed 0] [--standin]

Each worker process draws invoices from the valid EN 16931 examples with random targeted mutations
(tests/flows/native/mutations.py), judges each with the native module of its syntax and with the official CEN
1.3.16 XSLT (run unmodified by saxonche), and compares the fired rules within the module's RULES. Printed:
documents compared, differences (with the first minimal reproductions), and per-rule coverage (how many of the
module's rules the generated documents made the official engine fire). Exit status 1 on any difference.
No Django: the comparison uses the engine library only.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
from collections import Counter

BATCH = 250
EXAMPLES_KEPT = 10


def _module(syntax: str, standin: bool):
    from tests.flows.native import differential

    module = differential.native_module(syntax)
    if module is None and standin:
        from tests.flows.native import standin as stand_in

        module = stand_in.make() if syntax == "UBL" else stand_in.make_cii()
    return module


def _quiet() -> None:
    """Saxon prints every dynamic error of the official XSLT on stderr: counted, not shown."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)


def _work(task: tuple[str, int, int, bool]) -> dict:
    from tests.flows.native import differential, mutations

    syntax, seed, count, standin = task
    module = _module(syntax, standin)
    stand_in = differential.native_module(syntax) is None
    rng = random.Random(seed)
    pool = mutations.seeds(syntax)
    stats = {"syntax": syntax, "compared": 0, "differing": 0, "refused": 0, "official_failed": 0, "crashes": 0}
    fired, examples = Counter(), []
    for _ in range(count):
        name, data = pool[rng.randrange(len(pool))]
        steps = mutations.random_mutations(rng)
        document = mutations.mutate(data, steps)
        try:
            outcome = differential.compare_detailed(document, syntax, module=module, dynamic_errors=not stand_in)
        except Exception as exc:  # the native module raised: a difference of its own
            stats["crashes"] += 1
            stats["differing"] += 1
            if len(examples) < EXAMPLES_KEPT:
                examples.append(f"{mutations.describe(name, steps)} : le module natif lève {exc!r}")
            continue
        stats["compared"] += 1
        stats["refused"] += outcome.refused
        stats["official_failed"] += bool(outcome.official_failed)
        if outcome.fired:
            fired.update(outcome.fired.keys())  # documents in which each rule fired
        if outcome.differences:
            stats["differing"] += 1
            if len(examples) < EXAMPLES_KEPT:
                examples.append(
                    f"{mutations.describe(name, steps)}\n    "
                    + differential.describe(outcome.differences, limit=5).replace("\n", "\n    ")
                )
    stats["fired"], stats["examples"] = fired, examples
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.flows.native.proof", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="Factures générées (défaut : 100 000).")
    parser.add_argument("--jobs", type=int, default=None, help="Processus (défaut : tous les cœurs).")
    parser.add_argument("--seed", type=int, default=0, help="Graine du générateur (reproductible).")
    parser.add_argument(
        "--standin", action="store_true", help="Module de démonstration à la place d'un module natif absent."
    )
    args = parser.parse_args(argv)

    from tests.flows.native import differential, mutations

    if not differential.official_available():
        print(differential.skip_reason())
        return 0
    syntaxes = []
    for syntax in ("UBL", "CII"):
        module = _module(syntax, args.standin)
        if module is None:
            print(f"{syntax} : module natif {differential.NATIVE_MODULES[syntax]} absent, syntaxe non comparée.")
        elif not mutations.seeds(syntax):
            print(f"{syntax} : aucun exemple EN 16931 dans ../shared/corpus, syntaxe non comparée.")
        else:
            syntaxes.append((syntax, module))
    if not syntaxes:
        print("Aucun module natif à comparer (ajoutez --standin pour éprouver le banc).")
        return 1
    jobs = args.jobs or len(os.sched_getaffinity(0))
    tasks, per_syntax = [], args.count // len(syntaxes)
    for position, (syntax, _) in enumerate(syntaxes):
        total = per_syntax + (args.count - per_syntax * len(syntaxes) if position == 0 else 0)
        for start in range(0, total, BATCH):
            tasks.append(
                (
                    syntax,
                    args.seed * 1_000_003 + position * 100_000_007 + start,
                    min(BATCH, total - start),
                    args.standin,
                )
            )
    print(f"Preuve d'identité : {args.count} factures générées, {jobs} processus, graine {args.seed}.")
    started = time.perf_counter()
    results: dict[str, dict] = {}
    context = multiprocessing.get_context("forkserver")
    with context.Pool(jobs, initializer=_quiet) as pool:
        for done, stats in enumerate(pool.imap_unordered(_work, tasks), start=1):
            merged = results.setdefault(stats["syntax"], {"fired": Counter(), "examples": []})
            for key in ("compared", "differing", "refused", "official_failed", "crashes"):
                merged[key] = merged.get(key, 0) + stats[key]
            merged["fired"].update(stats["fired"])
            merged["examples"] = (merged["examples"] + stats["examples"])[:EXAMPLES_KEPT]
            if done % 8 == 0:
                compared = sum(r.get("compared", 0) for r in results.values())
                print(f"  … {compared} comparées ({compared / (time.perf_counter() - started):.0f}/s)", flush=True)
    elapsed = time.perf_counter() - started
    status = 0
    for syntax, module in syntaxes:
        r = results.get(syntax, {})
        rules = frozenset(module.RULES)
        official = differential_official_ids(syntax)
        exercised = {rule for rule in r["fired"] if rule in rules}
        share = len(rules & official) / len(official)
        print(
            f"\n{syntax} — {module.RULE_SET.name} ({len(rules)} règles, {len(rules & official)} du jeu officiel "
            f"de {len(official)}, couverture {share:.1%})"
        )
        print(
            f"  documents comparés : {r['compared']} ; différences : {r['differing']} "
            f"(dont {r['crashes']} exceptions du module natif) ; refusés à l'analyse XML : {r['refused']} ; "
            f"moteur officiel en échec (non comparés règle à règle) : {r['official_failed']}"
        )
        print(
            f"  règles du module déclenchées au moins une fois : {len(exercised)} / {len(rules)} "
            f"({len(exercised) / max(len(rules), 1):.1%})"
        )
        top = ", ".join(f"{rule} ×{n}" for rule, n in r["fired"].most_common(12))
        print(f"  les plus fréquentes (documents) : {top or '—'}")
        never = sorted(rules - exercised)
        if never:
            print(f"  jamais déclenchées : {', '.join(never[:30])}{' …' if len(never) > 30 else ''}")
        for example in r["examples"]:
            print(f"  ÉCART : {example}")
        if r["differing"]:
            status = 1
    total = sum(r["compared"] for r in results.values())
    differing = sum(r["differing"] for r in results.values())
    print(
        f"\nTotal : {total} documents comparés en {elapsed:.0f} s ({total / elapsed:.0f}/s), "
        f"{differing} différence(s)."
    )
    return status


def differential_official_ids(syntax: str) -> frozenset[str]:
    from choeur.flows.validation import schematron
    from tests.flows.native.differential import OFFICIAL_XSLT

    return schematron._rule_ids_of(str(OFFICIAL_XSLT[syntax]), "release")


if __name__ == "__main__":
    sys.exit(main())
