"""French messages composed around the official rule texts."""

import pytest

from choeur.flows.validation.messages import PIPELINE, RULES_FR, clean_text, explain, pipeline_message


@pytest.mark.parametrize(
    "rule",
    [f"BR-{n:02d}" for n in range(1, 17)]
    + [f"BR-CO-{n}" for n in range(10, 17)]
    + [f"BR-S-{n:02d}" for n in range(1, 11)]
    + [f"BR-E-{n:02d}" for n in range(1, 11)],
)
def test_common_rules_have_a_french_explanation(rule):
    assert rule in RULES_FR
    message = explain(rule, f"[{rule}]-Official English text.")
    assert message.startswith(RULES_FR[rule])
    assert f"règle {rule} : « Official English text. »" in message


def test_official_prefix_is_removed_once():
    assert (
        clean_text("  [BR-CO-10]-Sum of   Invoice line\n net amount (BT-106).")
        == "Sum of Invoice line net amount (BT-106)."
    )


@pytest.mark.parametrize(
    ("rule", "excerpt"),
    [
        ("BR-CL-14", "liste de codes de la norme EN 16931"),
        ("BR-DEC-12", "au plus deux décimales"),
        ("UBL-CR-561", "Élément UBL non prévu"),
        ("CII-SR-221", "Élément CII non prévu"),
        ("BR-AE-08", "autoliquidation"),
        ("BR-IC-11", "intracommunautaire"),
        ("BR-Z-05", "taux zéro"),
    ],
)
def test_rule_families_get_a_french_explanation(rule, excerpt):
    message = explain(rule, "[X]-Some official text.")
    assert excerpt in message and "Some official text." in message and rule in message


def test_factur_x_code_list_and_unused_element_texts_are_translated():
    assert explain("FX-SCH-A-000556", "Value of 'ram:ID' is not allowed.").startswith(
        "La valeur de l'élément ram:ID n'appartient pas à la liste de codes"
    )
    message = explain("", "Element 'ram:FormattedIssueDateTime' is marked as not used in the given context.")
    assert message.startswith("L'élément ram:FormattedIssueDateTime n'est pas prévu dans ce profil")
    message = explain("", "Attribute @listID' marked as not used in the given context.")
    assert message.startswith("L'attribut @listID n'est pas prévu")


def test_br_fr_texts_are_already_french_and_kept():
    text = "BR-FR-05/BT-22 : La mention relative aux pénalités de retard (code PMD) est absente."
    assert explain("BR-FR-05_BT-22_PMD", text) == text
    assert explain("BR-FR-99", "Un texte.") == "Règle française BR-FR-99 : Un texte."


def test_unknown_rule_gets_the_generic_wrapper():
    assert explain("XX-42", "[XX-42]-Something must hold.") == "Règle XX-42 non respectée : Something must hold."


def test_every_pipeline_message_is_french_and_formats():
    samples = {
        "size": "1 Mio",
        "limit": "2 Mio",
        "name": "f.xml",
        "detail": "détail",
        "names": "a.xml, b.xml",
        "count": 3,
        "reason": "raison.",
        "profile_id": "urn:x",
        "current": "urn:y",
        "schema": "UBL",
        "where": ", ligne 3",
        "ruleset": "CEN",
        "declared": "IN_X",
        "allowed": "IN_Y",
        "actual": "une facture XML UBL",
        "expected": "IN_Z",
        "wanted": "une facture XML CII",
    }
    for rule in PIPELINE:
        message = pipeline_message(rule, **samples)
        assert message[0].isupper() or message.startswith(("syntaxeFlux", "«")), rule
        assert "{" not in message, rule
