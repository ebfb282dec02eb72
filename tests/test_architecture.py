"""Dependencies point one way (docs/ARCHITECTURE.md): a domain app never imports a presentation layer,
and only the listed domain apps."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "choeur"
ALLOWED = {
    "core": set(),
    "accounts": {"core"},
    "directory": {"accounts", "core"},
    "invoices": {"directory", "accounts", "core"},
    "flows": {"invoices", "directory", "accounts", "core"},
    "works": {"invoices", "directory", "accounts", "core"},
    "sollicitations": {"invoices", "directory", "accounts", "core"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("choeur."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("choeur."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_domain_app_imports_only_allowed_apps(app):
    offenders = []
    for path in (PACKAGE / app).rglob("*.py"):
        for imported in _imports(path) - {app}:
            if imported not in ALLOWED[app]:
                offenders.append(f"{path.relative_to(PACKAGE)} importe choeur.{imported}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_domain_apps_hold_no_views(app):
    assert not (PACKAGE / app / "views.py").exists()
    assert not list((PACKAGE / app).rglob("*_views"))
