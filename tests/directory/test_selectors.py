"""Selectors: search rules, tenancy of every read, rights."""

import pytest

from choeur.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from choeur.directory import selectors, services
from choeur.directory.enums import EspaceCode, Habilitation
from tests.accounts.factories import UserFactory
from tests.directory.factories import RattachementFactory, StructureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_structures():
    mine = StructureFactory(raison_sociale="Atelier Dupont")
    services.structure_defaults_ensure(structure=mine)
    other = StructureFactory(raison_sociale="Garage Leroy")
    services.structure_defaults_ensure(structure=other)
    gp = RattachementFactory(structure=mine, gp=True)
    other_gp = RattachementFactory(structure=other, gp=True)
    return mine, other, gp, other_gp


def test_search_by_siret_prefix_and_exact_name(two_structures):
    mine, other, *_ = two_structures
    assert list(selectors.structure_search(query=mine.identifier[:3])) == sorted(
        [s for s in (mine, other) if s.identifier.startswith(mine.identifier[:3])], key=lambda s: s.raison_sociale
    )
    assert list(selectors.structure_search(query=f" {mine.identifier[:3]} {mine.identifier[3:9]} ")) == [mine]
    assert list(selectors.structure_search(query="ATELIER dupont")) == [mine]
    assert not selectors.structure_search(query="Atelier").exists()
    with pytest.raises(ApplicationError) as exc:
        selectors.structure_search(query="12")
    assert "au moins 3 chiffres" in exc.value.message
    with pytest.raises(ApplicationError):
        selectors.structure_search(query="   ")


def test_member_and_manager_scopes(two_structures):
    mine, other, gp, _ = two_structures
    simple = RattachementFactory(structure=mine)
    assert selectors.structure_get_for_member(user=gp.user, structure_id=mine.pk) == mine
    with pytest.raises(NotFoundError):
        selectors.structure_get_for_member(user=gp.user, structure_id=other.pk)
    with pytest.raises(PermissionDeniedError):
        selectors.structure_get_for_manager(user=simple.user, structure_id=mine.pk)
    with pytest.raises(NotFoundError):
        selectors.structure_get_for_manager(user=simple.user, structure_id=other.pk)
    pending = RattachementFactory(structure=mine, pending=True)
    with pytest.raises(NotFoundError):
        selectors.structure_get_for_member(user=pending.user, structure_id=mine.pk)
    staff = UserFactory(staff=True)
    assert not selectors.structures_of_user(user=staff).exists()


def test_private_reads_are_bounded(two_structures):
    mine, other, gp, other_gp = two_structures
    services.espace_open(by=other_gp.user, structure=other, code=EspaceCode.ENGAGEMENTS)
    RattachementFactory(structure=other, pending=True)
    assert not selectors.manager_actions_for_manager(user=gp.user).filter(structure=other).exists()
    assert not selectors.pending_rattachements_for_manager(user=gp.user).exists()
    assert {r.structure_id for r in selectors.rights_for_manager(user=gp.user)} == {mine.pk}
    with pytest.raises(NotFoundError):
        selectors.structure_bank_accounts(user=gp.user, structure=other)
    with pytest.raises(NotFoundError):
        selectors.structure_members(user=gp.user, structure=other)
    with pytest.raises(NotFoundError):
        selectors.rattachement_get_for_manager(user=gp.user, rattachement_id=other_gp.pk)


def test_members_list_hides_requests_from_simple_users(two_structures):
    mine, _, gp, _ = two_structures
    simple = RattachementFactory(structure=mine)
    pending = RattachementFactory(structure=mine, pending=True)
    assert pending in selectors.structure_members(user=gp.user, structure=mine)
    assert pending not in selectors.structure_members(user=simple.user, structure=mine)


def test_public_structure_services_visible_to_anyone_but_private_ones_not(two_structures):
    mine, *_ = two_structures
    public = StructureFactory(public=True)
    outsider = UserFactory()
    assert selectors.structure_services(user=outsider, structure=public).exists()
    with pytest.raises(NotFoundError):
        selectors.structure_services(user=outsider, structure=mine)


def test_rights_of_describes_each_espace(two_structures):
    mine, _, gp, _ = two_structures
    simple = RattachementFactory(structure=mine)
    services.subscription_request(
        user=simple.user, structure=mine, code=EspaceCode.FACTURES_EMISES, habilitation=Habilitation.MODIFICATION
    )
    rows = {r.pk: r for r in selectors.rights_for_manager(user=gp.user)}
    simple_rights = selectors.rights_of(rows[simple.pk])
    assert simple_rights[EspaceCode.FACTURES_EMISES] == "Demande en cours (modification)"
    assert simple_rights[EspaceCode.SOLLICITATIONS_EMISES] == "Aucun"
    assert simple_rights[EspaceCode.ENGAGEMENTS] == "Espace fermé"
    assert selectors.rights_of(rows[gp.pk])[EspaceCode.FACTURES_EMISES] == "Modification"


def test_user_can_requires_an_argument():
    with pytest.raises(TypeError):
        selectors.user_can(UserFactory(), StructureFactory())


def test_user_can_refuses_writes_on_inactive_structure(two_structures):
    mine, _, gp, _ = two_structures
    mine.is_active = False
    mine.save()
    assert selectors.user_can(gp.user, mine, EspaceCode.FACTURES_EMISES)
    assert not selectors.user_can(gp.user, mine, EspaceCode.FACTURES_EMISES, write=True)
