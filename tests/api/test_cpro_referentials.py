"""The lists of `transverses/v1/recuperer/*` come from the apps that use them, with stable ids."""

from choeur.api.cpro import referentials
from choeur.core import referentials as core
from choeur.invoices.cadres import CADRE_RULES
from choeur.invoices.enums import AttachmentType, TypeDemandePaiement


def test_every_invoice_attachment_type_has_a_stable_id():
    assert set(referentials.INVOICE_ATTACHMENT_TYPE_IDS) == set(AttachmentType.values)
    all_ids = [t.id for t in referentials.types_piece_jointe()]
    assert len(all_ids) == len(set(all_ids)), "Un idTypePieceJointe est donné deux fois"
    assert {t.id for t in core.ATTACHMENT_TYPES}.isdisjoint(referentials.INVOICE_ATTACHMENT_TYPE_IDS.values())


def test_attachment_types_by_object_type():
    facture = referentials.types_piece_jointe("FACTURE")
    assert {t.code for t in facture} == set(AttachmentType.values)
    assert all(t.object_type == "CB" for t in referentials.types_piece_jointe("CB"))


def test_cadres_cover_a1_to_a25_split_by_type_of_request():
    every = referentials.cadres_facturation()
    assert len(every) == 25
    by_type = [c for t in TypeDemandePaiement.values for c in referentials.cadres_facturation(t)]
    assert sorted(by_type) == sorted(every)
    assert "A4_PROJET_DECOMPTE_MENSUEL_FOURNISSEUR" in referentials.cadres_facturation("FACTURE_TRAVAUX")
    assert {rule.api_value for rule in CADRE_RULES.values()} == set(every)


def test_flow_formats_follow_the_accepted_syntaxes():
    assert referentials.formats_flux() == ["IN_DP_E1_STRUCT", "IN_DP_E2_MIXTE", "IN_DP_E2_FACTURX"]
