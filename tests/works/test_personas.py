"""Each actor sees only the dossiers of markets it is party to; cotraitants and sous-traitants only their own
(and a cotraitant those of its sous-traitants, which it validates).
Plus the MOE's work queue and its reminders."""

from datetime import timedelta

import pytest
import time_machine

from choeur.core.errors import NotFoundError
from choeur.core.scheduler import scheduler_tick
from choeur.works.enums import EventKind, PartyRole
from choeur.works.periodic import moe_reminders
from choeur.works.selectors import dossier_get_for_user, dossiers_visible_to, marches_visible_to, works_queue
from choeur.works.services import works_moe_transmit, works_piece_deposit
from tests.accounts.factories import UserFactory
from tests.works.factories import a4_lines, groupement_market, works_market

pytestmark = pytest.mark.django_db


def deposit(m, structure=None, user=None, marche=None, cadre="A4"):
    return works_piece_deposit(
        marche=marche or m.marche,
        cadre=cadre,
        by=user or m.user("titulaire"),
        structure=structure or m.titulaire,
        lines=a4_lines(),
    ).dossier


def test_each_actor_sees_only_the_dossiers_of_its_markets():
    m1 = works_market()
    m2 = works_market(numero="MT-2026-002", moa="Commune de Rivière", moe="Atelier Nord", titulaire="Routes Sud")
    d1, d2 = deposit(m1), deposit(m2)
    for name in ("moa", "moe", "titulaire"):
        assert list(dossiers_visible_to(user=m1.user(name))) == [d1]
        assert list(dossiers_visible_to(user=m2.user(name))) == [d2]
        assert list(marches_visible_to(user=m1.user(name))) == [m1.marche]
        with pytest.raises(NotFoundError):
            dossier_get_for_user(user=m1.user(name), dossier_id=d2.pk)
    stranger = UserFactory()
    assert not dossiers_visible_to(user=stranger).exists()
    assert not marches_visible_to(user=stranger).exists()


def test_cotraitants_and_subcontractors_see_only_their_own_dossiers():
    base = works_market()
    g = groupement_market(base, numero="GRP-7", objet="Médiathèque", sous_traitant=True, espaces=())
    marche, mandataire, cotraitant, sous_traitant, users = (
        g.marche,
        g.mandataire,
        g.cotraitant,
        g.sous_traitant,
        g.users,
    )
    d_mandataire = deposit(base, mandataire, users[mandataire], marche)
    d_cotraitant = deposit(base, cotraitant, users[cotraitant], marche, cadre="A13")
    d_sous_traitant = deposit(base, sous_traitant, users[sous_traitant], marche, cadre="A10")
    everything = {d_mandataire, d_cotraitant, d_sous_traitant}
    assert set(dossiers_visible_to(user=users[mandataire])) == everything
    assert set(dossiers_visible_to(user=base.user("moe"))) == everything
    assert set(dossiers_visible_to(user=base.user("moa"))) == everything
    # A cotraitant sees its own dossiers and those of its sous-traitants, whose drafts it validates first.
    assert set(dossiers_visible_to(user=users[cotraitant])) == {d_cotraitant, d_sous_traitant}
    assert list(dossiers_visible_to(user=users[sous_traitant])) == [d_sous_traitant]


def test_moe_queue_is_sorted_by_deadline_and_empties_once_transmitted():
    m = works_market()
    first = deposit(m)
    with time_machine.travel(first.moe_deadline - timedelta(days=5)):
        second = deposit(m)
    other = works_market(numero="MT-2026-002", moe="Atelier Nord")
    deposit(other)
    assert list(works_queue(user=m.user("moe"))) == [first, second]
    works_moe_transmit(dossier=first, by=m.user("moe"), structure=m.moe)
    assert list(works_queue(user=m.user("moe"))) == [second]
    assert list(works_queue(user=m.user("moa"), role=PartyRole.MOA)) == [first]
    assert not works_queue(user=m.user("titulaire")).exists()


def test_reminders_before_and_after_the_moe_deadline_once_each():
    m = works_market()
    dossier = deposit(m)
    moe_reminders(now=dossier.moe_deadline - timedelta(days=3), since=None)
    assert not dossier.events.filter(kind=EventKind.RAPPEL).exists()
    with time_machine.travel(dossier.moe_deadline - timedelta(days=1)):
        scheduler_tick(jobs={"works.moe_reminders": _job()})
        scheduler_tick(jobs={"works.moe_reminders": _job()})
    moe_reminders(now=dossier.moe_deadline - timedelta(hours=2), since=None)
    reminders = list(dossier.events.filter(kind=EventKind.RAPPEL).order_by("id"))
    assert len(reminders) == 1 and "expire le" in reminders[0].message
    moe_reminders(now=dossier.moe_deadline + timedelta(days=1), since=None)
    moe_reminders(now=dossier.moe_deadline + timedelta(days=2), since=None)
    reminders = list(dossier.events.filter(kind=EventKind.RAPPEL).order_by("id"))
    assert len(reminders) == 2 and "a expiré le" in reminders[1].message
    works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    moe_reminders(now=dossier.moe_deadline + timedelta(days=3), since=None)
    assert dossier.events.filter(kind=EventKind.RAPPEL).count() == 2


def _job():
    from choeur.core.scheduler import registered_jobs

    return registered_jobs()["works.moe_reminders"]
