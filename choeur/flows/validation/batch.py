"""Validating many files at once, on every core: what `choeur validate DIR --jobs N` and the re-validation of
archived invoices use.

Each worker process imports the engine and warms it up once (native modules loaded, the XSLTs it needs compiled,
XSDs loaded), then validates the files it is handed; the parent only reads results. Processes are started by a
fork server (a clean process started for the purpose, never a fork of a parent whose Saxon is initialised), and
reports come back without the invoice XML and extracted data unless asked for (`keep_content=True`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from choeur.flows.validation.policy import POLICY_CEN
from choeur.flows.validation.report import DocumentReport

# Below this many files the start of the worker processes costs more than it saves: one process validates.
PARALLEL_THRESHOLD = 64
CHUNK = 16


def default_jobs() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def collect(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[str]]:
    """(files, missing): directories expanded recursively (hidden entries skipped), sorted."""
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
            missing.append(str(raw))
    return files, missing


@dataclass(frozen=True)
class Options:
    rules: str = "en16931"
    fr_blocking: bool | None = None
    syntaxe_flux: str | None = None
    policy: str = POLICY_CEN
    engine: str | None = None
    keep_content: bool = False
    artefacts_store: str | None = None  # the parent's store, for worker processes


_options: dict = {}


def _init(options: Options) -> None:
    from choeur.flows.validation import artefacts, warm_up

    if options.artefacts_store:
        artefacts.configure_store(options.artefacts_store)
    _options["value"] = options
    warm_up(rules=options.rules, engine=options.engine)


def _validate_one(path: str) -> tuple[str, list[DocumentReport]]:
    from choeur.flows.validation import validate_path

    options: Options = _options["value"]
    reports = validate_path(
        path,
        rules=options.rules,
        fr_blocking=options.fr_blocking,
        syntaxe_flux=options.syntaxe_flux,
        policy=options.policy,
        engine=options.engine,
        extract=options.keep_content,
    )
    if not options.keep_content:
        for report in reports:
            report.xml = None
            report.invoice = None
    return path, reports


def _validate_bytes_one(item: tuple[object, bytes, str]) -> tuple[object, list[DocumentReport]]:
    from choeur.flows.validation import validate_bytes

    key, data, filename = item
    options: Options = _options["value"]
    reports = validate_bytes(
        data,
        filename=filename,
        rules=options.rules,
        fr_blocking=options.fr_blocking,
        syntaxe_flux=options.syntaxe_flux,
        policy=options.policy,
        engine=options.engine,
        extract=options.keep_content,
    )
    if not options.keep_content:
        for report in reports:
            report.xml = None
            report.invoice = None
    return key, reports


def _pool(jobs: int, options: Options):
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["choeur.flows.validation"])
    return context.Pool(processes=jobs, initializer=_init, initargs=(options,))


def _store() -> str:
    from choeur.flows.validation import artefacts

    return str(artefacts.store_dir())


def validate_files(
    files: Iterable[str | os.PathLike], *, jobs: int | None = None, options: Options = Options()
) -> Iterator[tuple[Path, list[DocumentReport]]]:
    """(path, reports) for each file, in order; `jobs` processes (default: every core, one process below
    PARALLEL_THRESHOLD files)."""
    files = [str(f) for f in files]
    if jobs is None and len(files) < PARALLEL_THRESHOLD:
        jobs = 1
    jobs = max(1, jobs or default_jobs())
    options = Options(**{**options.__dict__, "artefacts_store": options.artefacts_store or _store()})
    if jobs == 1 or len(files) < 2:
        _options["value"] = options
        for path in files:
            yield Path(path), _validate_one(path)[1]
        return
    with _pool(min(jobs, len(files)), options) as pool:
        for path, reports in pool.imap(_validate_one, files, chunksize=CHUNK):
            yield Path(path), reports


class ParallelValidator:
    """Worker processes kept for several batches (the re-validation of archived invoices reads a batch from the
    database, has it judged, records it, and goes on with the same warmed-up processes).

        with ParallelValidator(jobs=2, options=Options(engine="native")) as validator:
            for key, reports in validator.map([(key, data, filename), …]):
                …
    """

    def __init__(self, *, jobs: int | None = None, options: Options = Options()):
        self.jobs = max(1, jobs or default_jobs())
        self.options = Options(**{**options.__dict__, "artefacts_store": options.artefacts_store or _store()})
        self._pool = None

    def __enter__(self) -> ParallelValidator:
        if self.jobs > 1:
            self._pool = _pool(self.jobs, self.options)
        else:
            _options["value"] = self.options
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def map(self, items: Iterable[tuple[object, bytes, str]]) -> Iterator[tuple[object, list[DocumentReport]]]:
        """(key, reports) per (key, bytes, filename) item, in order."""
        if self._pool is None:
            _options["value"] = self.options
            return (_validate_bytes_one(item) for item in items)
        return self._pool.imap(_validate_bytes_one, items, chunksize=CHUNK)


def validate_many(
    items: Iterable[tuple[object, bytes, str]], *, jobs: int | None = None, options: Options = Options()
) -> Iterator[tuple[object, list[DocumentReport]]]:
    """(key, reports) for each (key, bytes, filename) item, in order, across `jobs` processes."""
    with ParallelValidator(jobs=jobs, options=options) as validator:
        yield from validator.map(items)
