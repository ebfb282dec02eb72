import pytest

from choeur.invoices.cadres import (
    CADRE_RULES,
    PORTAL_SAISIE_CADRES,
    WORKS_CADRES,
    cadre_refusal_for,
    cadre_rule,
    cadres_allowed_for,
)
from choeur.invoices.enums import Cadre, DepositorRole, TypeDemandePaiement
from tests.directory.factories import StructureFactory

pytestmark = pytest.mark.django_db


def test_every_cadre_a1_to_a25_has_a_rule_with_its_api_string():
    assert [rule.code for rule in CADRE_RULES.values()] == [f"A{n}" for n in range(1, 26)]
    assert cadre_rule("A1").api_value == "A1_FACTURE_FOURNISSEUR"
    assert cadre_rule("A9_FACTURE_SOUSTRAITANT").cadre == Cadre.A9
    assert cadre_rule(Cadre.A25).api_value == "A25_DECOMPTE_GENERAL_DEFINITIF_MOE_PROCEDURE_TACITE"
    with pytest.raises(ValueError, match="Cadre de facturation inconnu : « A26 »"):
        cadre_rule("A26")


def test_valideur_is_mandatory_for_a9_and_a12_only():
    assert {c.code for c, rule in CADRE_RULES.items() if rule.valideur_required} == {"A9", "A12"}


def test_works_cadres_are_facture_travaux_and_not_in_the_saisie():
    expected = {4, 5, 6, 7, 8, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23, 24, 25}
    assert {int(c.code[1:]) for c in WORKS_CADRES} == expected
    for cadre in WORKS_CADRES:
        assert CADRE_RULES[cadre].type_demande_paiement == TypeDemandePaiement.FACTURE_TRAVAUX
    assert [c.code for c in PORTAL_SAISIE_CADRES] == ["A1", "A2", "A9", "A12"]
    assert {c.code for c, rule in CADRE_RULES.items() if rule.specialised} == {"A3", "A21"}


def test_cadres_allowed_for_a_plain_supplier_by_role():
    supplier = StructureFactory()
    assert [
        r.code for r in cadres_allowed_for(supplier=supplier, as_role=DepositorRole.FOURNISSEUR, portal_saisie=True)
    ] == [
        "A1",
        "A2",
    ]
    assert [r.code for r in cadres_allowed_for(supplier=supplier, as_role=DepositorRole.SOUS_TRAITANT)] == [
        "A9",
        "A10",
        "A11",
    ]
    assert [
        r.code for r in cadres_allowed_for(supplier=supplier, as_role=DepositorRole.COTRAITANT, portal_saisie=True)
    ] == ["A12"]
    assert cadres_allowed_for(supplier=supplier, as_role=DepositorRole.MOE) == []
    assert cadres_allowed_for(supplier=supplier, as_role=DepositorRole.MOA) == []


def test_moe_cadres_need_an_moe_structure():
    moe = StructureFactory(moe=True)
    assert [r.code for r in cadres_allowed_for(supplier=moe, as_role=DepositorRole.MOE)] == [
        "A15",
        "A16",
        "A17",
        "A18",
        "A24",
        "A25",
    ]
    assert cadre_refusal_for(supplier=moe, cadre=Cadre.A15) is None
    message = cadre_refusal_for(supplier=StructureFactory(raison_sociale="Bâtisseurs réunis"), cadre=Cadre.A15)
    assert message == (
        "Le cadre A15 est réservé à la maîtrise d'œuvre : la structure Bâtisseurs réunis n'est pas déclarée "
        "maîtrise d'œuvre (MOE) dans l'annuaire."
    )


def test_moa_cadres_need_a_public_moa_structure():
    private_moa = StructureFactory(is_moa=True)
    public_moa = StructureFactory(public=True, is_moa=True)
    assert cadres_allowed_for(supplier=private_moa, as_role=DepositorRole.MOA) == []
    assert [r.code for r in cadres_allowed_for(supplier=public_moa, as_role=DepositorRole.MOA)] == ["A19", "A20"]
    assert "maîtrise d'ouvrage publique" in cadre_refusal_for(supplier=private_moa, cadre=Cadre.A19)
    assert cadre_refusal_for(supplier=public_moa, cadre=Cadre.A20) is None
