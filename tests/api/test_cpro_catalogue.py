"""The coverage table of docs/api-cpro.md is the catalogue of choeur/api/cpro/catalogue.py checked against the
operations really registered: it cannot drift from the code."""

from __future__ import annotations

import os
from pathlib import Path

from choeur.api.cpro import catalogue

DOC = Path(__file__).resolve().parents[2] / "docs" / "api-cpro.md"
UPDATE = os.environ.get("CHOEUR_UPDATE_GOLDEN") == "1"


def test_every_registered_operation_is_in_the_catalogue():
    listed = {(service.method, service.path) for service in catalogue.SERVICES}
    assert catalogue.registered_operations() - listed == set()


def test_a_service_without_reason_is_served():
    for service, served in catalogue.coverage_rows():
        assert served or service.reason, f"{service.path} n'est pas servi : dites pourquoi (reason)"
        assert not (served and service.reason), f"{service.path} est servi mais porte une raison de ne pas l'être"


def test_the_document_shows_the_current_table():
    document = DOC.read_text(encoding="utf-8")
    current = catalogue.replace_section(document)
    if UPDATE:
        DOC.write_text(current, encoding="utf-8")
    assert document == current, (
        "docs/api-cpro.md a dérivé : CHOEUR_UPDATE_GOLDEN=1 pytest tests/api/test_cpro_catalogue.py"
    )


def test_the_table_says_served_only_for_registered_paths():
    table = catalogue.coverage_markdown()
    assert "| POST | `transverses/v1/ajouter/fichier` | ajouterFichierDansSysteme | GO, PY | oui |" in table
    assert "`organisations/v1/structures/recherche`" in table and "non — API « Référentiel" in table
