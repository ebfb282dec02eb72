"""Bad input: out of order, another market, a structure not on the sheet, a cadre not planned, a delay not over;
and the rules of the fiche d'identité du marché."""

from datetime import timedelta

import pytest
import time_machine

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.invoices.enums import Cadre, InvoiceStatus
from choeur.works.enums import DossierKind, DossierStatus, PartyRole
from choeur.works.services import (
    PartyInput,
    dossier_create,
    marche_create,
    marche_update,
    works_moa_validate,
    works_moe_transmit,
    works_piece_deposit,
)
from tests.directory.factories import StructureFactory
from tests.invoices.factories import member_of
from tests.works.factories import a4_lines, company, works_market

pytestmark = pytest.mark.django_db


def test_out_of_order_names_the_expected_document_and_its_depositor():
    m = works_market()
    dossier = works_piece_deposit(
        marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
    ).dossier
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(dossier=dossier, cadre="A19", by=m.user("moa"), structure=m.moa)
    message = exc.value.message
    assert "hors de l'ordre" in message
    assert "A15" in message and "Atelier Dubois Architectes (maîtrise d'œuvre)" in message


def test_first_document_must_open_a_dossier():
    m = works_market()
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(marche=m.marche, cadre="A8", by=m.user("titulaire"), structure=m.titulaire,
                            lines=a4_lines())  # fmt: skip
    assert "ne commence pas par le cadre A8" in exc.value.message and "A4" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(marche=m.marche, cadre="A15", by=m.user("moe"), structure=m.moe, lines=a4_lines())
    assert "s'ouvre par une pièce de l'entreprise" in exc.value.message
    assert "Bâtiments Martin SA (titulaire)" in exc.value.message


def test_a_structure_not_on_the_sheet_is_refused():
    m = works_market()
    intruder = company(raison_sociale="Intrus BTP")
    user = member_of(intruder)
    with pytest.raises(PermissionDeniedError) as exc:
        works_piece_deposit(marche=m.marche, cadre="A4", by=user, structure=intruder, lines=a4_lines())
    assert "n'est pas partie au marché MT-2026-001" in exc.value.message
    assert "A4" in exc.value.message and "Bâtiments Martin SA" in exc.value.message


def test_the_wrong_party_for_the_step_is_refused():
    m = works_market()
    dossier = works_piece_deposit(
        marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
    ).dossier
    with pytest.raises(PermissionDeniedError) as exc:
        works_piece_deposit(dossier=dossier, cadre="A15", by=m.user("moa"), structure=m.moa)
    assert "se dépose par Atelier Dubois Architectes, pas par Commune de Beaulieu" in exc.value.message
    with pytest.raises(PermissionDeniedError):
        works_moa_validate(dossier=dossier, by=m.user("titulaire"), structure=m.titulaire)


def test_a_dossier_of_another_market_is_refused():
    m = works_market()
    other = works_market(numero="MT-2026-999")
    dossier = works_piece_deposit(
        marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
    ).dossier
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(marche=other.marche, dossier=dossier, cadre="A15", by=m.user("moe"), structure=m.moe)
    assert "appartient au marché MT-2026-001, pas au marché MT-2026-999" in exc.value.message


def test_a_cadre_not_planned_on_the_sheet_is_refused():
    m = works_market()
    m.marche.parties.filter(role=PartyRole.TITULAIRE).update(cadres=[Cadre.A7.value, Cadre.A8.value])
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire,
                            lines=a4_lines())  # fmt: skip
    assert "n'est pas prévu pour Bâtiments Martin SA" in exc.value.message and "A7, A8" in exc.value.message


def test_a_person_without_the_works_espace_cannot_act():
    m = works_market()
    outsider = member_of(m.titulaire, "FACTURES_EMISES")
    from choeur.directory.models import StructureEspace

    StructureEspace.objects.filter(structure=m.titulaire, code="FACTURES_TRAVAUX").update(is_open=False)
    with pytest.raises(PermissionDeniedError) as exc:
        works_piece_deposit(marche=m.marche, cadre="A4", by=outsider, structure=m.titulaire, lines=a4_lines())
    assert "« Factures de travaux »" in exc.value.message


def test_a_completed_dossier_takes_no_more_documents():
    m = works_market()
    dossier = works_piece_deposit(
        marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
    ).dossier
    works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    works_moa_validate(dossier=dossier, by=m.user("moa"), structure=m.moa)
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(dossier=dossier, cadre="A4", by=m.user("titulaire"), structure=m.titulaire)
    assert "est complet" in exc.value.message


def test_without_moe_a5_goes_to_the_moa_and_a4_is_refused():
    m = works_market(with_moe=False)
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire,
                            lines=a4_lines())  # fmt: skip
    assert "A5" in exc.value.message
    a5 = works_piece_deposit(
        marche=m.marche, cadre="A5", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
    )
    assert a5.invoice.status == InvoiceStatus.MISE_A_DISPOSITION_MOA
    a19 = works_moa_validate(dossier=a5.dossier, by=m.user("moa"), structure=m.moa)
    assert a19.invoice.status == InvoiceStatus.MISE_A_DISPOSITION


def test_end_of_contract_a7_a17_a18_a8():
    m = works_market()
    a7 = works_piece_deposit(
        marche=m.marche, cadre="A7", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
    )
    dossier = a7.dossier
    assert dossier.kind == DossierKind.FINAL
    assert a7.invoice.status == InvoiceStatus.MISE_A_DISPOSITION_MOE
    assert dossier.deadline == a7.invoice.deposited_at + timedelta(days=30)
    a17 = works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    assert a17.cadre == Cadre.A17 and a17.invoice.status == InvoiceStatus.TRANSMISE_MOA
    a18 = works_piece_deposit(dossier=dossier, cadre="A18", by=m.user("moe"), structure=m.moe)
    assert a18.invoice.status == InvoiceStatus.A_ASSOCIER_FOURNISSEUR
    a8 = works_piece_deposit(dossier=dossier, cadre="A8", by=m.user("titulaire"), structure=m.titulaire)
    assert a8.invoice.status == InvoiceStatus.MISE_A_DISPOSITION
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.TRANSMIS_PAYEUR
    a18.invoice.refresh_from_db()
    assert a18.invoice.status == InvoiceStatus.ASSOCIEE
    # Only one décompte final per company and market.
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(marche=m.marche, cadre="A7", by=m.user("titulaire"), structure=m.titulaire,
                            lines=a4_lines())  # fmt: skip
    assert "a déjà son dossier" in exc.value.message


def test_tacit_procedure_waits_for_its_delays():
    m = works_market()
    a7 = works_piece_deposit(
        marche=m.marche, cadre="A7", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
    )
    dossier = a7.dossier
    with pytest.raises(ApplicationError) as exc:
        works_piece_deposit(dossier=dossier, cadre="A22", by=m.user("titulaire"), structure=m.titulaire)
    assert "Procédure tacite" in exc.value.message and "30 jours après la pièce A7" in exc.value.message
    with time_machine.travel(a7.invoice.deposited_at + timedelta(days=31)):
        a22 = works_piece_deposit(dossier=dossier, cadre="A22", by=m.user("titulaire"), structure=m.titulaire)
        assert a22.invoice.status == InvoiceStatus.MISE_A_DISPOSITION_MOA
        a7.invoice.refresh_from_db()
        assert a7.invoice.status == InvoiceStatus.REMPLACEE_PAR_A22
        with pytest.raises(ApplicationError) as exc:
            works_piece_deposit(dossier=dossier, cadre="A23", by=m.user("titulaire"), structure=m.titulaire)
        assert "10 jours après la pièce A22" in exc.value.message
    with time_machine.travel(a7.invoice.deposited_at + timedelta(days=42)):
        a23 = works_piece_deposit(dossier=dossier, cadre="A23", by=m.user("titulaire"), structure=m.titulaire)
        assert a23.invoice.status == InvoiceStatus.MISE_A_DISPOSITION


# --- Fiche d'identité du marché ---------------------------------------------------------------------------


def _parties(moa, moe, titulaire, *more):
    return [PartyInput(PartyRole.MOA, moa), PartyInput(PartyRole.MOE, moe), PartyInput(PartyRole.TITULAIRE, titulaire),
            *more]  # fmt: skip


def test_sheet_is_entered_by_the_moa_or_the_moe_only():
    m = works_market()
    with pytest.raises(PermissionDeniedError) as exc:
        marche_create(by=m.user("titulaire"), structure=m.titulaire, numero="X-1", objet="Objet",
                      parties=_parties(m.moa, m.moe, m.titulaire))  # fmt: skip
    assert "maîtrise d'ouvrage ou la maîtrise d'œuvre" in exc.value.message


def test_sheet_rules():
    m = works_market()
    by, moe = m.user("moe"), m.moe
    plain = StructureFactory(public=True)  # public but not declared MOA
    cases = [
        (_parties(plain, moe, m.titulaire), "déclarée maîtrise d'ouvrage"),
        (_parties(m.moa, StructureFactory(), m.titulaire), "déclarée maîtrise d'œuvre"),
        (_parties(m.moa, moe, m.titulaire, PartyInput(PartyRole.TITULAIRE, company())), "le titulaire du marché"),
        (_parties(m.moa, moe, m.titulaire, PartyInput(PartyRole.COTRAITANT, company())), "désignez son mandataire"),
        (_parties(m.moa, moe, m.titulaire, PartyInput(PartyRole.SOUS_TRAITANT, company(), works_for=m.titulaire)),
         "paiement direct"),
        (_parties(m.moa, moe, m.titulaire, PartyInput(PartyRole.SOUS_TRAITANT, company(), paiement_direct=True)),
         "pour quel titulaire"),
        ([PartyInput(PartyRole.MOA, m.moa), PartyInput(PartyRole.MOE, moe),
          PartyInput(PartyRole.TITULAIRE, m.titulaire, cadres=["A15"])], "n'est pas utilisable par titulaire"),
    ]  # fmt: skip
    for parties, expected in cases:
        with pytest.raises(ApplicationError) as exc:
            marche_create(by=by, structure=moe, numero="X-2", objet="Objet", parties=parties)
        assert expected in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        marche_create(by=by, structure=moe, numero="MT-2026-001", objet="Objet",
                      parties=_parties(m.moa, moe, m.titulaire))  # fmt: skip
    assert "a déjà sa fiche" in exc.value.message


def test_groupement_with_subcontractor_and_update():
    m = works_market()
    mandataire, cotraitant, sous_traitant = company(), company(), company()
    parties = [
        PartyInput(PartyRole.MOA, m.moa),
        PartyInput(PartyRole.MOE, m.moe),
        PartyInput(PartyRole.MANDATAIRE, mandataire),
        PartyInput(PartyRole.COTRAITANT, cotraitant),
        PartyInput(PartyRole.SOUS_TRAITANT, sous_traitant, works_for=cotraitant, paiement_direct=True),
    ]
    marche = marche_create(by=m.user("moe"), structure=m.moe, numero="GRP-1", objet="Gymnase", parties=parties)
    sub = marche.parties.get(role=PartyRole.SOUS_TRAITANT)
    assert sub.works_for.structure == cotraitant and sub.cadres == [Cadre.A10.value, Cadre.A11.value]
    dossier = dossier_create(marche=marche, kind=DossierKind.MENSUEL, company=sous_traitant, by=m.user("moe"),
                             structure=m.moe)  # fmt: skip
    assert dossier.company == sub
    # A party with dossiers stays on the sheet.
    with pytest.raises(ApplicationError) as exc:
        marche_update(marche=marche, by=m.user("moe"), structure=m.moe, parties=parties[:4])
    assert "ne peut pas être retirée" in exc.value.message
    updated = marche_update(marche=marche, by=m.user("moa"), structure=m.moa, objet="Gymnase et dojo")
    assert updated.objet == "Gymnase et dojo"
    with pytest.raises(PermissionDeniedError):
        marche_update(marche=marche, by=m.user("titulaire"), structure=m.titulaire, objet="Piraté")


def test_moe_document_is_checked_against_the_moe_named_on_it_not_the_supplier():
    """invoices.checks: a MOE cadre names the company as supplier; the MOE on the document must be a MOE."""
    from choeur.invoices.checks import check_cadre
    from choeur.invoices.enums import ModeDepot
    from tests.invoices.factories import InvoiceFactory

    m = works_market()
    invoice = InvoiceFactory.build(
        supplier=m.titulaire, recipient=m.moa, moe=m.moe, moa=m.moa, cadre=Cadre.A15,
        type_demande_paiement="FACTURE_TRAVAUX", mode_depot=ModeDepot.UPLOAD_PORTAIL,
    )  # fmt: skip
    assert check_cadre(invoice) == []
    invoice.moe = StructureFactory()  # not declared MOE
    assert [f.code for f in check_cadre(invoice)] == ["CADRE_NON_AUTORISE"]
    invoice.moe = None  # no MOE named: the supplier itself must be one
    assert [f.code for f in check_cadre(invoice)] == ["CADRE_NON_AUTORISE"]
    invoice.cadre = Cadre.A19
    invoice.moa = m.moa
    assert check_cadre(invoice) == []
