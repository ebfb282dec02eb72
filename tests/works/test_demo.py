"""Demo works data (works/demo.py): made through the services, idempotent, every actor has something to see."""

import pytest

from choeur.directory import demo as directory_demo
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.selectors import invoices_received
from choeur.works import circuit
from choeur.works.demo import _person, demo_works_seed
from choeur.works.enums import DossierStatus, PartyRole
from choeur.works.models import Dossier, DossierPiece, Marche
from choeur.works.selectors import dossiers_visible_to, works_queue, works_validation_queue

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_works_seed_once_and_fills_each_queue():
    directory_demo.demo_seed()
    report = demo_works_seed()
    assert len(report.created) == 4 and "fiche du marché 2026-TRX-014" in report.summary()
    marche = Marche.objects.get()
    assert {p.role for p in marche.parties.all()} == {
        PartyRole.MOA, PartyRole.MOE, PartyRole.MANDATAIRE, PartyRole.COTRAITANT, PartyRole.SOUS_TRAITANT
    }  # fmt: skip

    moe_user, moa_user = _person("lumen"), _person("commune")
    queue = list(works_queue(user=moe_user))
    assert len(queue) == 1
    assert queue[0].last_piece.invoice.status == InvoiceStatus.MISE_A_DISPOSITION_MOE

    done = Dossier.objects.get(status=DossierStatus.TRANSMIS_PAYEUR)
    assert [p.cadre_code for p in done.pieces_in_order()] == ["A4", "A15", "A19"]
    assert done.pieces_in_order()[1].corrections.count() == 1
    assert [i.number for i in invoices_received(user=moa_user)] == [done.last_piece.invoice.number]

    waiting = list(works_validation_queue(user=_person("garnier")))
    assert len(waiting) == 1 and waiting[0].waiting_for == circuit.VALIDEUR
    assert dossiers_visible_to(user=_person("delmas")).get() == waiting[0]

    again = demo_works_seed()
    assert again.created == [] and again.kept == 4
    assert "rien n'a changé" in again.summary()
    assert Dossier.objects.count() == 3 and DossierPiece.objects.count() == 5
    assert len(list(works_queue(user=moe_user))) == 1
