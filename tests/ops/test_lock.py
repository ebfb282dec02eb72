"""The lock files pin, with hashes, a version allowed by pyproject.toml for every dependency: a dependency added
to pyproject without `make lock` fails here rather than on the next machine."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)(.*)$")


def _pins(lock: str) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) for every pinned line of a lock."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in (ROOT / lock).read_text().splitlines():
        match = _PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            pins[current] = (match.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
        elif not line.startswith(" "):
            current = None
    return pins


def _requirements(*extras: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    "lock, extras",
    [("requirements.lock", ("prod",)), ("requirements-dev.lock", ("prod", "dev", "bench"))],
)
def test_every_dependency_is_pinned_with_hashes_to_an_allowed_version(lock, extras):
    pins = _pins(lock)
    assert len(pins) > 40, f"{lock} : trop peu de paquets épinglés, le fichier est-il complet ?"
    problems = []
    for requirement in _requirements(*extras):
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement.name} absent de {lock} : lancez « make lock ».")
            continue
        version, hashes = pins[name]
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(
                f"{requirement.name}=={version} ne satisfait pas « {requirement} » : lancez « make lock »."
            )
        if hashes == 0:
            problems.append(f"{requirement.name} sans empreinte dans {lock}.")
    assert problems == []
    unhashed = [name for name, (_, hashes) in pins.items() if hashes == 0]
    assert unhashed == [], "pip --require-hashes refuserait ces paquets sans empreinte"


def test_the_production_lock_is_a_subset_of_the_dev_lock_at_the_same_versions():
    production, development = _pins("requirements.lock"), _pins("requirements-dev.lock")
    differing = {name: (version, development.get(name)) for name, (version, _) in production.items()}
    assert {name: pair for name, pair in differing.items() if pair[1] is None or pair[1][0] != pair[0]} == {}


def test_make_installs_from_the_lock_with_hashes_then_the_project_without_resolving():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes -r $(DEV_LOCK)" in recipe
    assert "--no-deps -e ." in recipe
    assert "[dev]" not in recipe, "installer depuis pyproject résoudrait de nouveau les versions"
