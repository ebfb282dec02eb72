"""docs/environment.md lists exactly the variables config/settings.py reads (config/envdoc.py)."""

from config import envdoc


def test_the_table_lists_every_variable_the_settings_read_and_no_other():
    missing, extra = envdoc.differences()
    assert missing == [], "variables lues mais non documentées : python -m config.envdoc --write, puis relire"
    assert extra == [], "variables documentées que les réglages ne lisent plus"


def test_the_collector_reads_names_defaults_and_the_comment_above():
    source = (
        'X = env("CHOEUR_A", "a")\n'
        "# How long a thing lasts.\n"
        '# Second line.\nY = env_int("CHOEUR_B", 60 * 60)\n'
        'Z = env_list("CHOEUR_C", [])\nW = env("CHOEUR_D")\nV = other("CHOEUR_E", "")\n'
    )
    found = envdoc.variables_in_code(source)
    assert sorted(found) == ["CHOEUR_A", "CHOEUR_B", "CHOEUR_C", "CHOEUR_D"]
    assert found["CHOEUR_B"].default == "60 * 60"
    assert found["CHOEUR_B"].comment == "How long a thing lasts. Second line."
    assert found["CHOEUR_D"].default == "(obligatoire)"
    table = "| Variable | Défaut | Effet |\n|---|---|---|\n| `CHOEUR_A`, `CHOEUR_B` | `x` | mentionne `CHOEUR_Z` |\n"
    assert envdoc.variables_documented(table) == {"CHOEUR_A", "CHOEUR_B"}
