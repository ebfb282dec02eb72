"""CSV import of the annuaire (docs/annuaire-import.md) and the public search selectors."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from choeur.core.models import AuditEntry
from choeur.directory.annuaire import (
    AnnuaireImportInvalid,
    annuaire_import,
    annuaire_search,
    annuaire_services,
    structure_routing_summary,
)
from choeur.directory.enums import DEFAULT_SERVICE_CODE, PublicCategory, StructureKind
from choeur.directory.identifiers import make_siret
from choeur.directory.models import Service, Structure, StructureEspace
from tests.directory.factories import ServiceFactory, StructureFactory

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "annuaire-exemple.csv"
COMMUNE = make_siret("21990001", "0011")
HOPITAL = make_siret("26990002", "0012")
HEADER = (
    "siret;raison_sociale;adresse;code_postal;ville;categorie;code_service_obligatoire;engagement_obligatoire;"
    "engagement_ou_service;mise_en_paiement_non_remontee;moa;code_service;libelle_service;"
    "service_engagement_obligatoire;service_actif;service_debut_validite;service_fin_validite"
)


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def _commune(code="TECH", label="Services techniques", **overrides) -> str:
    cells = {
        "siret": COMMUNE,
        "rs": "Commune de Saint-Éloi-des-Champs",
        "csv_flags": "oui;non;non;non;oui",
        "categorie": "COLLECTIVITE",
    } | overrides
    return (
        f"{cells['siret']};{cells['rs']};2 place de la Mairie;44170;Saint-Éloi-des-Champs;{cells['categorie']};"
        f"{cells['csv_flags']};{code};{label};non;oui;;"
    )


VALID = _csv(
    _commune(),
    _commune("ECOLES", "Affaires scolaires"),
    f"{HOPITAL};Centre hospitalier de Prévaux;1 rue Pasteur;44000;Prévaux;ETABLISSEMENT_SANTE;non;oui;non;oui;non;"
    "PHARMA;Pharmacie;oui;oui;01/01/2026;2030-12-31",
)


def _counts():
    return Structure.objects.count(), Service.objects.count()


def test_valid_file_is_imported():
    report = annuaire_import(data=VALID, source_name="annuaire.csv")

    assert (report.structures_created, report.services_created) == (2, 3)
    commune = Structure.objects.get(identifier=COMMUNE)
    assert commune.kind == StructureKind.PUBLIQUE
    assert commune.public_category == PublicCategory.COLLECTIVITE
    assert commune.raison_sociale == "Commune de Saint-Éloi-des-Champs"
    assert commune.code_service_obligatoire and commune.is_moa and not commune.engagement_obligatoire
    assert set(commune.services.values_list("code", flat=True)) == {DEFAULT_SERVICE_CODE, "TECH", "ECOLES"}
    assert StructureEspace.objects.filter(structure=commune, code="FACTURES_RECUES").exists()
    hopital = Structure.objects.get(identifier=HOPITAL)
    assert hopital.engagement_obligatoire and hopital.mise_en_paiement_non_remontee
    pharma = hopital.services.get(code="PHARMA")
    assert pharma.engagement_obligatoire
    assert (pharma.valid_from.isoformat(), pharma.valid_until.isoformat()) == ("2026-01-01", "2030-12-31")
    entry = AuditEntry.objects.get(action="directory.annuaire.imported")
    assert entry.data["structures_created"] == 2 and entry.data["source"] == "annuaire.csv"


def test_reimport_updates_a_label_and_adds_a_service_without_duplicates():
    annuaire_import(data=VALID)
    again = annuaire_import(data=VALID)
    assert (again.structures_unchanged, again.services_unchanged, again.structures_created) == (2, 3, 0)

    changed = _csv(
        _commune("TECH", "Direction des services techniques"),
        _commune("ECOLES", "Affaires scolaires"),
        _commune("CULTURE", "Médiathèque"),
    )
    report = annuaire_import(data=changed)

    assert (report.services_updated, report.services_created, report.services_unchanged) == (1, 1, 1)
    assert Structure.objects.filter(identifier=COMMUNE).count() == 1
    commune = Structure.objects.get(identifier=COMMUNE)
    assert commune.services.get(code="TECH").libelle == "Direction des services techniques"
    assert commune.services.filter(code="TECH").count() == 1
    assert commune.services.count() == 4  # FACTURES_PUBLIQUES + 3
    # Services missing from a later file are kept (deactivation goes through service_actif).
    assert Structure.objects.get(identifier=HOPITAL).services.filter(code="PHARMA").exists()


def test_invalid_line_reports_line_and_column_and_writes_nothing():
    annuaire_import(data=VALID)
    before = _counts()
    bad_siret = COMMUNE[:-1] + str((int(COMMUNE[-1]) + 1) % 10)
    data = _csv(
        _commune("TECH", "Nouveau libellé qui ne doit pas être écrit"),
        _commune("NEW", "Nouveau service", siret=bad_siret),
        _commune("X2", "Autre", categorie="MAIRIE"),
        _commune("X3", "Autre", csv_flags="peut-être;non;non;non;oui"),
        f"{HOPITAL};Centre hospitalier de Prévaux;1 rue Pasteur;44000;Prévaux;ETABLISSEMENT_SANTE;non;oui;non;oui;"
        "non;P2;Pharmacie;oui;oui;31/02/2026;",
    )

    with pytest.raises(AnnuaireImportInvalid) as exc:
        annuaire_import(data=data)

    problems = {(p.line, p.column): p.message for p in exc.value.problems}
    assert "clé de contrôle" in problems[(3, "siret")]
    assert "MAIRIE" in problems[(4, "categorie")] and "COLLECTIVITE" in problems[(4, "categorie")]
    assert "oui/non" in problems[(5, "code_service_obligatoire")]
    assert "31/02/2026" in problems[(6, "service_debut_validite")]
    assert str(exc.value.problems[0]).startswith("Ligne 3, colonne « siret » :")
    assert _counts() == before
    assert Structure.objects.get(identifier=COMMUNE).services.get(code="TECH").libelle == "Services techniques"
    assert not Structure.objects.filter(identifier=bad_siret).exists()


def test_command_exits_non_zero_with_the_report(tmp_path, capsys):
    path = tmp_path / "faux.csv"
    path.write_bytes(_csv(_commune(categorie="")))

    with pytest.raises(CommandError, match="rien n'a été importé"):
        call_command("import_annuaire", str(path))

    err = capsys.readouterr().err
    assert "Ligne 2, colonne « categorie »" in err
    assert not Structure.objects.exists()


def test_command_imports_the_shipped_sample(capsys):
    call_command("import_annuaire", str(SAMPLE))
    out = capsys.readouterr().out
    assert "5 créée(s)" in out
    assert Structure.objects.public().count() == 5
    call_command("import_annuaire", str(SAMPLE))
    assert "5 inchangée(s)" in capsys.readouterr().out
    assert Structure.objects.count() == 5


def test_dry_run_writes_nothing(tmp_path, capsys):
    path = tmp_path / "annuaire.csv"
    path.write_bytes(VALID)

    call_command("import_annuaire", str(path), "--dry-run")

    assert "Simulation" in capsys.readouterr().out
    assert _counts() == (0, 0)
    assert not AuditEntry.objects.filter(action="directory.annuaire.imported").exists()


def test_bom_comma_delimiter_and_french_headers_are_handled():
    header = "SIRET,Raison sociale,Code postal,Ville,Catégorie,Code service obligatoire,Code service,Libellé service"
    data = (
        "\ufeff"
        + header
        + "\n"
        + f'{COMMUNE},"Commune de Saint-Éloi, la Haute",44170,Saint-Éloi,État,Oui,SG,Secrétariat\n'
    )

    report = annuaire_import(data=data.encode("utf-8"))

    assert report.structures_created == 1
    structure = Structure.objects.get(identifier=COMMUNE)
    assert structure.raison_sociale == "Commune de Saint-Éloi, la Haute"
    assert structure.public_category == PublicCategory.ETAT
    assert structure.code_service_obligatoire


def test_default_service_may_be_relabelled_by_the_file():
    data = _csv(_commune("FACTURES_PUBLIQUES", "Service facturier de la commune"), _commune())
    annuaire_import(data=data)
    commune = Structure.objects.get(identifier=COMMUNE)
    assert commune.services.get(code=DEFAULT_SERVICE_CODE).libelle == "Service facturier de la commune"
    assert commune.services.count() == 2


def test_many_structures_are_imported_by_batches(django_assert_max_num_queries):
    lines = [_commune(siret=make_siret(f"{21800000 + index:08d}", "0011")) for index in range(30)]
    annuaire_import(data=_csv(*lines))
    assert Structure.objects.count() == 30
    # A re-import that changes nothing reads by batches: a handful of queries, not a few per line.
    with django_assert_max_num_queries(12):
        report = annuaire_import(data=_csv(*lines))
    assert report.structures_unchanged == 30 and report.services_unchanged == 30


def test_semicolon_with_bom_and_spaced_siret():
    siret = f"{COMMUNE[:3]} {COMMUNE[3:6]} {COMMUNE[6:9]} {COMMUNE[9:]}"
    data = ("\ufeffsiret;raison_sociale;categorie\n" + f"{siret};Commune de Test;COLLECTIVITE\n").encode()
    annuaire_import(data=data)
    assert Structure.objects.get(identifier=COMMUNE).services.get().code == DEFAULT_SERVICE_CODE


@pytest.mark.parametrize(
    ("data", "line", "column", "fragment"),
    [
        (b"siret;raison_sociale\n", 1, "categorie", "obligatoire absente"),
        (b"siret;raison_sociale;categorie;vile\n", 1, "vile", "colonne inconnue"),
        (b"siret;raison_sociale;categorie\n", 1, "", "aucune ligne"),
        (b"", 1, "", "vide"),
        ("siret;raison_sociale;categorie\nxx;é\n".encode(), 2, "", "2 valeurs"),
        ("siret;raison_sociale;categorie\n1;caf\xe9;ETAT\n".encode("latin-1"), 2, "", "UTF-8"),
    ],
)
def test_file_level_problems(data, line, column, fragment):
    with pytest.raises(AnnuaireImportInvalid) as exc:
        annuaire_import(data=data)
    assert any(p.line == line and p.column == column and fragment in p.message for p in exc.value.problems), [
        str(p) for p in exc.value.problems
    ]


def test_inconsistent_lines_and_duplicate_services_are_reported():
    data = _csv(
        _commune("TECH", "Services techniques"),
        _commune("ECOLES", "Écoles", rs="Mairie de Saint-Éloi"),
        _commune("TECH", "Encore"),
        _commune("", "Libellé sans code"),
        _commune("MAUVAIS CODE", "Espace"),
    )
    with pytest.raises(AnnuaireImportInvalid) as exc:
        annuaire_import(data=data)
    messages = {(p.line, p.column): p.message for p in exc.value.problems}
    assert "diffère de la ligne 2" in messages[(3, "raison_sociale")]
    assert "figure déjà à la ligne 2" in messages[(4, "code_service")]
    assert "code service manque" in messages[(5, "code_service")]
    assert "sans espace" in messages[(6, "code_service")]


def test_contradictory_settings_are_refused():
    with pytest.raises(AnnuaireImportInvalid) as exc:
        annuaire_import(data=_csv(_commune(csv_flags="oui;non;oui;non;non")))
    assert exc.value.problems[0].column == "engagement_ou_service"


def test_private_structure_is_never_turned_public():
    StructureFactory(identifier=COMMUNE)
    with pytest.raises(AnnuaireImportInvalid) as exc:
        annuaire_import(data=_csv(_commune()))
    assert "structure privée" in exc.value.problems[0].message
    assert Structure.objects.get(identifier=COMMUNE).kind == StructureKind.PRIVEE


# --- Search selectors ---------------------------------------------------------------------------------


def test_search_ignores_accents_and_case_and_matches_every_word():
    hopital = StructureFactory(hopital=True, raison_sociale="Centre hospitalier Émile-Roux", ville="Évreux")
    StructureFactory(public=True, raison_sociale="Commune de Valfleurie")
    œuvre = StructureFactory(public=True, raison_sociale="Établissement des Œuvres sociales")

    assert list(annuaire_search(name="emile roux")) == [hopital]
    assert list(annuaire_search(name="CENTRE HOSPITALIER ÉMILE")) == [hopital]
    assert list(annuaire_search(name="oeuvres")) == [œuvre]
    assert list(annuaire_search(location="evreux")) == [hopital]
    assert list(annuaire_search(name="roux valfleurie")) == []


def test_search_by_siret_prefix_and_postal_code():
    one = StructureFactory(public=True, identifier=make_siret("21330001", "0001"), code_postal="33000")
    StructureFactory(public=True, identifier=make_siret("21440001", "0001"), code_postal="44000")
    assert list(annuaire_search(siret="213 300")) == [one]
    assert list(annuaire_search(location="33")) == [one]


def test_private_and_inactive_structures_are_never_found():
    StructureFactory(raison_sociale="Entreprise Valfleurie")
    StructureFactory(public=True, raison_sociale="Commune de Valfleurie", is_active=False)
    assert not annuaire_search(name="valfleurie").exists()


def test_services_listed_are_the_active_ones():
    structure = StructureFactory(commune=True)
    ServiceFactory(structure=structure, code="OUVERT")
    ServiceFactory(structure=structure, code="FERME", is_active=False)
    from datetime import date

    ServiceFactory(structure=structure, code="EXPIRE", valid_until=date(2020, 1, 1))
    assert set(annuaire_services(structure).values_list("code", flat=True)) == {"OUVERT", DEFAULT_SERVICE_CODE}
    assert structure_routing_summary(structure) == "Le code service est obligatoire."
