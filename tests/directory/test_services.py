"""Rules of the structures services, each with its French message."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from choeur.core.models import AuditEntry
from choeur.directory import services
from choeur.directory.enums import (
    DEFAULT_SERVICE_CODE,
    EspaceCode,
    Habilitation,
    IdentifierType,
    RattachementStatus,
    Role,
    StructureKind,
    SubscriptionStatus,
)
from choeur.directory.identifiers import make_siret
from choeur.directory.models import (
    BankAccount,
    EspaceSubscription,
    ManagerAction,
    Rattachement,
    Service,
    Structure,
    StructureEspace,
)
from choeur.directory.selectors import espaces_for_user, user_can
from tests.accounts.factories import UserFactory
from tests.directory.factories import (
    BankAccountFactory,
    RattachementFactory,
    ServiceFactory,
    StructureFactory,
)

pytestmark = pytest.mark.django_db

SIRET = make_siret("73282932", "0001")
IBAN = "FR7630006000011234567890189"
OTHER_IBAN = "FR1420041010050500013M02606"


def _create(user, **kwargs):
    values = {"identifier_type": IdentifierType.SIRET, "identifier": SIRET, "raison_sociale": "Menuiserie Durand"}
    values.update(kwargs)
    return services.structure_create(created_by=user, **values)


@pytest.fixture
def team():
    """A private structure with a GP, a GS, a utilisateur simple and a pending requester."""
    structure = StructureFactory()
    services.structure_defaults_ensure(structure=structure)
    gp = RattachementFactory(structure=structure, gp=True)
    gs = RattachementFactory(structure=structure, gs=True)
    simple = RattachementFactory(structure=structure)
    pending = RattachementFactory(structure=structure, pending=True)
    return structure, gp, gs, simple, pending


# ---------------------------------------------------------------------------------------------------
# Structure creation
# ---------------------------------------------------------------------------------------------------


def test_create_private_structure_makes_creator_gp_with_defaults():
    user = UserFactory()
    structure = _create(user, numero_tva="FR40303265045")
    assert structure.kind == StructureKind.PRIVEE
    assert structure.identifier == SIRET
    rattachement = Rattachement.objects.get(structure=structure)
    assert rattachement.user == user
    assert rattachement.role == Role.GESTIONNAIRE_PRINCIPAL
    assert rattachement.status == RattachementStatus.VALIDEE
    assert list(structure.services.values_list("code", flat=True)) == [DEFAULT_SERVICE_CODE]
    assert set(structure.espaces.values_list("code", flat=True)) == {
        EspaceCode.FACTURES_EMISES,
        EspaceCode.SOLLICITATIONS_EMISES,
        EspaceCode.SOLLICITATIONS_RECUES,
    }
    # The GP gets every open espace in MODIFICATION, as real abonnements.
    assert (
        EspaceSubscription.objects.filter(
            rattachement=rattachement, status=SubscriptionStatus.VALIDEE, habilitation=Habilitation.MODIFICATION
        ).count()
        == 3
    )
    assert ManagerAction.objects.filter(structure=structure, action="structure.created").exists()
    assert AuditEntry.objects.filter(action="directory.structure.created", structure_id=structure.pk).exists()


def test_create_normalises_siret_typed_with_spaces():
    spaced = f"{SIRET[:3]} {SIRET[3:6]} {SIRET[6:9]} {SIRET[9:]}"
    assert _create(UserFactory(), identifier=spaced).identifier == SIRET


def test_create_refuses_invalid_siret_with_french_message():
    wrong = SIRET[:-1] + str((int(SIRET[-1]) + 1) % 10)
    with pytest.raises(ApplicationError) as exc:
        _create(UserFactory(), identifier=wrong)
    assert exc.value.field == "identifier"
    assert "clé de contrôle" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        _create(UserFactory(), identifier="1234")
    assert "14 chiffres" in exc.value.message
    assert not Structure.objects.exists()


def test_create_refuses_duplicate_identifier_and_points_to_rattachement():
    first = _create(UserFactory())
    with pytest.raises(ConflictError) as exc:
        _create(UserFactory(), raison_sociale="Autre nom")
    assert exc.value.code == "structure_existante"
    assert exc.value.extra["structure_id"] == first.pk
    assert "demandez un rattachement" in exc.value.message
    assert Structure.objects.count() == 1


def test_create_refuses_invalid_vat_number():
    with pytest.raises(ApplicationError) as exc:
        _create(UserFactory(), numero_tva="FR00000000000")
    assert exc.value.field == "numero_tva"
    assert "TVA" in exc.value.message
    assert not Structure.objects.exists()


def test_public_structure_cannot_be_self_created():
    with pytest.raises(PermissionDeniedError) as exc:
        _create(UserFactory(), public=True)
    assert "administrateurs de la plateforme" in exc.value.message
    assert not Structure.objects.exists()


def test_staff_creates_public_structure_without_gestionnaire_and_with_factures_recues():
    structure = _create(
        UserFactory(staff=True), public=True, public_category="COLLECTIVITE", code_service_obligatoire=True
    )
    assert structure.is_public and structure.code_service_obligatoire
    assert not structure.rattachements.exists()
    assert structure.espaces.filter(code=EspaceCode.FACTURES_RECUES, is_open=True).exists()


def test_system_import_creates_public_structure_with_named_gp():
    gp = UserFactory()
    structure = _create(None, public=True, gestionnaire_principal=gp)
    assert structure.rattachements.get().user == gp


def test_recipient_settings_are_refused_on_a_private_structure():
    with pytest.raises(ApplicationError) as exc:
        _create(UserFactory(), engagement_obligatoire=True)
    assert "structures publiques" in exc.value.message


def test_particulier_gets_a_generated_identifier_and_needs_a_name():
    user = UserFactory()
    with pytest.raises(ApplicationError) as exc:
        _create(user, identifier_type=IdentifierType.PARTICULIER, identifier="", raison_sociale="")
    assert exc.value.field == "nom"
    structure = _create(
        user, identifier_type=IdentifierType.PARTICULIER, identifier="", raison_sociale="", nom="Martin", prenom="Léa"
    )
    assert structure.identifier.startswith("PART-")
    assert structure.raison_sociale == "Léa Martin"


def test_eu_structure_takes_country_from_vat_number():
    structure = _create(UserFactory(), identifier_type=IdentifierType.UE_HORS_FRANCE, identifier="BE0203201340")
    assert structure.pays == "BE"


def test_structure_update_by_gestionnaire_and_refused_to_simple_user(team):
    structure, gp, gs, simple, _ = team
    services.structure_update(by=gs.user, structure=structure, ville="Villeurbanne", code_postal="69100")
    structure.refresh_from_db()
    assert structure.ville == "Villeurbanne"
    action = ManagerAction.objects.get(structure=structure, action="structure.updated")
    assert "ville" in action.description
    with pytest.raises(PermissionDeniedError) as exc:
        services.structure_update(by=simple.user, structure=structure, ville="Lyon")
    assert "Seuls les gestionnaires" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        services.structure_update(by=gp.user, structure=structure, code_postal="6900")
    assert exc.value.field == "code_postal"


def test_public_structure_recipient_settings_edited_by_its_gestionnaire():
    structure = StructureFactory(public=True)
    gp = RattachementFactory(structure=structure, gp=True)
    services.structure_update(by=gp.user, structure=structure, engagement_obligatoire=True, payment_delay_days=50)
    structure.refresh_from_db()
    assert structure.engagement_obligatoire and structure.payment_delay_days == 50
    with pytest.raises(ApplicationError) as exc:
        services.structure_update(by=gp.user, structure=structure, payment_delay_days=90)
    assert exc.value.field == "payment_delay_days"


# ---------------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------------


def test_service_create_and_duplicate_code(team):
    structure, gp, *_ = team
    service = services.service_create(by=gp.user, structure=structure, code="achats", libelle="Service achats")
    assert service.code == "ACHATS"
    with pytest.raises(ApplicationError) as exc:
        services.service_create(by=gp.user, structure=structure, code="Achats", libelle="Bis")
    assert exc.value.field == "code" and "déjà un service" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        services.service_create(by=gp.user, structure=structure, code="a b", libelle="x")
    assert exc.value.field == "code"


def test_service_validity_dates_are_checked(team):
    import datetime

    structure, gp, *_ = team
    with pytest.raises(ApplicationError) as exc:
        services.service_create(
            by=gp.user,
            structure=structure,
            code="TRAVAUX",
            libelle="Travaux",
            valid_from=datetime.date(2026, 5, 1),
            valid_until=datetime.date(2026, 4, 1),
        )
    assert exc.value.field == "valid_until"


def test_default_service_cannot_be_deactivated_nor_deleted(team):
    structure, gp, *_ = team
    default = structure.services.get(code=DEFAULT_SERVICE_CODE)
    with pytest.raises(ApplicationError) as exc:
        services.service_update(by=gp.user, service=default, libelle=default.libelle, is_active=False)
    assert exc.value.field == "is_active"
    with pytest.raises(ApplicationError):
        services.service_delete(by=gp.user, service=default)
    assert Service.objects.filter(pk=default.pk, is_active=True).exists()


def test_service_update_and_delete_are_logged(team):
    structure, gp, _, simple, _ = team
    service = ServiceFactory(structure=structure)
    services.service_update(by=gp.user, service=service, libelle="Nouveau libellé", engagement_obligatoire=True)
    service.refresh_from_db()
    assert service.engagement_obligatoire
    with pytest.raises(PermissionDeniedError):
        services.service_delete(by=simple.user, service=service)
    services.service_delete(by=gp.user, service=service)
    assert not Service.objects.filter(pk=service.pk).exists()
    assert ManagerAction.objects.filter(structure=structure, action="service.deleted").exists()


# ---------------------------------------------------------------------------------------------------
# Bank details
# ---------------------------------------------------------------------------------------------------


def test_bank_account_change_needs_reauthentication(team):
    structure, gp, *_ = team
    with pytest.raises(PermissionDeniedError) as exc:
        services.bank_account_create(
            by=gp.user,
            structure=structure,
            label="Compte",
            iban=IBAN,
            bic="AGRIFRPP",
            holder="X",
            reauthenticated=False,
        )
    assert "Confirmez votre identité" in exc.value.message
    assert not BankAccount.objects.exists()


def test_bank_account_create_notifies_every_gestionnaire_masked_and_audits(team, django_capture_on_commit_callbacks):
    structure, gp, gs, simple, _ = team
    with django_capture_on_commit_callbacks(execute=True):
        account = services.bank_account_create(
            by=gs.user,
            structure=structure,
            label="Compte principal",
            iban="fr76 3000 6000 0112 3456 7890 189",
            bic="agrifrpp",
            holder="Menuiserie Durand",
            reauthenticated=True,
        )
    assert account.iban == IBAN and account.bic == "AGRIFRPP"
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([gp.user.email, gs.user.email])
    for message in mail.outbox:
        assert IBAN not in message.body
        assert account.masked_iban in message.body
        assert "Coordonnées bancaires ajoutées" in message.subject
    entry = AuditEntry.objects.get(action="directory.bank_account.created")
    assert IBAN not in str(entry.data)
    assert ManagerAction.objects.filter(structure=structure, action="bank_account.created").exists()


def test_bank_account_invalid_iban_and_bic(team):
    structure, gp, *_ = team
    with pytest.raises(ApplicationError) as exc:
        services.bank_account_create(
            by=gp.user, structure=structure, label="C", iban="FR7630006000011234567890188", bic="AGRIFRPP",
            holder="X", reauthenticated=True,
        )  # fmt: skip
    assert exc.value.field == "iban" and "IBAN" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        services.bank_account_create(
            by=gp.user, structure=structure, label="C", iban=IBAN, bic="AGRI", holder="X", reauthenticated=True
        )
    assert exc.value.field == "bic"


def test_bank_account_refused_to_simple_user(team):
    structure, _, _, simple, _ = team
    with pytest.raises(PermissionDeniedError):
        services.bank_account_create(
            by=simple.user, structure=structure, label="C", iban=IBAN, bic="AGRIFRPP", holder="X", reauthenticated=True
        )


def test_bank_account_update_and_deactivate_notify_with_old_and_new_masked(team, django_capture_on_commit_callbacks):
    structure, gp, gs, *_ = team
    account = BankAccountFactory(structure=structure)
    with django_capture_on_commit_callbacks(execute=True):
        services.bank_account_update(
            by=gp.user, bank_account=account, label=account.label, iban=OTHER_IBAN, bic="PSSTFRPP",
            holder=account.holder, reauthenticated=True,
        )  # fmt: skip
    assert len(mail.outbox) == 2
    assert "FR76 •••• 0189" in mail.outbox[0].body and "FR14 •••• 2606" in mail.outbox[0].body
    assert OTHER_IBAN not in mail.outbox[0].body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.bank_account_deactivate(by=gs.user, bank_account=account, reauthenticated=True)
    account.refresh_from_db()
    assert not account.is_active
    assert len(mail.outbox) == 2 and "désactivées" in mail.outbox[0].subject
    with pytest.raises(ApplicationError):
        services.bank_account_deactivate(by=gs.user, bank_account=account, reauthenticated=True)
    assert AuditEntry.objects.filter(action="directory.bank_account.deactivated").count() == 1


# ---------------------------------------------------------------------------------------------------
# Rattachements
# ---------------------------------------------------------------------------------------------------


def test_rattachement_request_notifies_gestionnaires(team, django_capture_on_commit_callbacks):
    structure, gp, gs, *_ = team
    service = ServiceFactory(structure=structure)
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        rattachement = services.rattachement_request(
            user=user, structure=structure, services=[service.pk], message="Je suis comptable."
        )
    assert rattachement.status == RattachementStatus.EN_COURS_DE_VALIDATION
    assert list(rattachement.services.all()) == [service]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([gp.user.email, gs.user.email])
    assert "Je suis comptable." in mail.outbox[0].body


def test_second_request_while_pending_is_refused(team):
    structure, *_ = team
    user = UserFactory()
    services.rattachement_request(user=user, structure=structure)
    with pytest.raises(ConflictError) as exc:
        services.rattachement_request(user=user, structure=structure)
    assert "déjà en cours de validation" in exc.value.message


def test_request_on_inactive_structure_and_foreign_service_refused(team):
    structure, *_ = team
    other_service = ServiceFactory()
    with pytest.raises(ApplicationError) as exc:
        services.rattachement_request(user=UserFactory(), structure=structure, services=[other_service.pk])
    assert exc.value.field == "services"
    structure.is_active = False
    structure.save()
    with pytest.raises(ApplicationError) as exc:
        services.rattachement_request(user=UserFactory(), structure=structure)
    assert "inactive" in exc.value.message


def test_unknown_structure_by_identifier_has_a_clear_message():
    from choeur.directory.selectors import structure_get_by_identifier

    with pytest.raises(NotFoundError) as exc:
        structure_get_by_identifier(identifier_type=IdentifierType.SIRET, identifier=SIRET)
    assert "Aucune structure n'est inscrite" in exc.value.message


def test_validation_tells_requester_and_gives_sollicitations(team, django_capture_on_commit_callbacks):
    structure, gp, _, _, pending = team
    with django_capture_on_commit_callbacks(execute=True):
        services.rattachement_validate(by=gp.user, rattachement=pending)
    pending.refresh_from_db()
    assert pending.status == RattachementStatus.VALIDEE and pending.decided_by == gp.user
    assert [m.to[0] for m in mail.outbox] == [pending.user.email]
    assert "Rattachement validé" in mail.outbox[0].subject
    codes = {access.code for access in espaces_for_user(pending.user, structure)}
    assert codes == {EspaceCode.SOLLICITATIONS_EMISES, EspaceCode.SOLLICITATIONS_RECUES}
    with pytest.raises(ConflictError):
        services.rattachement_validate(by=gp.user, rattachement=pending)


def test_refusal_needs_a_comment_and_sends_it(team, django_capture_on_commit_callbacks):
    structure, _, gs, _, pending = team
    with pytest.raises(ApplicationError) as exc:
        services.rattachement_refuse(by=gs.user, rattachement=pending, comment="  ")
    assert exc.value.field == "comment" and "motif du refus" in exc.value.message
    with django_capture_on_commit_callbacks(execute=True):
        services.rattachement_refuse(by=gs.user, rattachement=pending, comment="Personne inconnue du service.")
    pending.refresh_from_db()
    assert pending.status == RattachementStatus.REFUSEE
    assert "Personne inconnue du service." in mail.outbox[0].body
    # Refused: a new request is possible.
    again = services.rattachement_request(user=pending.user, structure=structure, message="Nouvelle demande")
    assert again.pk == pending.pk and again.status == RattachementStatus.EN_COURS_DE_VALIDATION


def test_simple_user_cannot_decide(team):
    _, _, _, simple, pending = team
    with pytest.raises(PermissionDeniedError):
        services.rattachement_validate(by=simple.user, rattachement=pending)


def test_bulk_approval_handles_each_request_and_skips_foreign_ones(team, django_capture_on_commit_callbacks):
    structure, gp, _, _, pending = team
    second = RattachementFactory(structure=structure, pending=True)
    foreign = RattachementFactory(pending=True)
    already = RattachementFactory(structure=structure)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.rattachements_decide(
            by=gp.user, rattachement_ids=[pending.pk, second.pk, foreign.pk, already.pk], approve=True
        )
    assert {r.pk for r in result.done} == {pending.pk, second.pk}
    assert len(result.errors) == 2
    assert any("introuvable" in e for e in result.errors)
    assert any("déjà été traitée" in e for e in result.errors)
    foreign.refresh_from_db()
    assert foreign.status == RattachementStatus.EN_COURS_DE_VALIDATION
    assert len(mail.outbox) == 2


def test_bulk_refusal_needs_a_comment(team):
    _, gp, _, _, pending = team
    with pytest.raises(ApplicationError) as exc:
        services.rattachements_decide(by=gp.user, rattachement_ids=[pending.pk], approve=False)
    assert exc.value.field == "comment"


def test_deactivation_rules(team, django_capture_on_commit_callbacks):
    structure, gp, gs, simple, _ = team
    with pytest.raises(ApplicationError) as exc:
        services.rattachement_deactivate(by=gs.user, rattachement=gp)
    assert "gestionnaire principal" in exc.value.message
    with pytest.raises(PermissionDeniedError):
        services.rattachement_deactivate(by=simple.user, rattachement=gs)
    with django_capture_on_commit_callbacks(execute=True):
        services.rattachement_deactivate(by=gs.user, rattachement=simple)
    simple.refresh_from_db()
    assert simple.status == RattachementStatus.DESACTIVEE
    assert not simple.subscriptions.exists()
    assert mail.outbox[0].to == [simple.user.email]
    assert not user_can(simple.user, structure, EspaceCode.SOLLICITATIONS_EMISES)


# ---------------------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------------------


def test_only_one_gestionnaire_principal_in_database(team):
    structure, _, gs, *_ = team
    gs.role = Role.GESTIONNAIRE_PRINCIPAL
    with pytest.raises(IntegrityError), transaction.atomic():
        gs.save()


def test_transfer_gp_role(team, django_capture_on_commit_callbacks):
    structure, gp, gs, simple, pending = team
    with pytest.raises(PermissionDeniedError) as exc:
        services.gestionnaire_principal_transfer(by=gs.user, structure=structure, to_user=simple.user)
    assert "Seul le gestionnaire principal" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        services.gestionnaire_principal_transfer(by=gp.user, structure=structure, to_user=pending.user)
    assert "rattachement validé" in exc.value.message
    with django_capture_on_commit_callbacks(execute=True):
        services.gestionnaire_principal_transfer(by=gp.user, structure=structure, to_user=simple.user)
    gp.refresh_from_db()
    simple.refresh_from_db()
    assert simple.role == Role.GESTIONNAIRE_PRINCIPAL
    assert gp.role == Role.GESTIONNAIRE_SECONDAIRE
    assert Rattachement.objects.filter(structure=structure, role=Role.GESTIONNAIRE_PRINCIPAL).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([gp.user.email, simple.user.email])
    assert user_can(simple.user, structure, EspaceCode.FACTURES_EMISES, write=True)


def test_promote_and_demote(team):
    structure, gp, gs, simple, _ = team
    services.rattachement_set_role(by=gs.user, rattachement=simple, role=Role.GESTIONNAIRE_SECONDAIRE)
    simple.refresh_from_db()
    assert simple.role == Role.GESTIONNAIRE_SECONDAIRE
    assert simple.subscriptions.filter(habilitation=Habilitation.MODIFICATION).count() == 3
    services.rattachement_set_role(by=gp.user, rattachement=simple, role=Role.UTILISATEUR_SIMPLE)
    simple.refresh_from_db()
    assert simple.role == Role.UTILISATEUR_SIMPLE
    with pytest.raises(ApplicationError):
        services.rattachement_set_role(by=gs.user, rattachement=gp, role=Role.UTILISATEUR_SIMPLE)
    with pytest.raises(ApplicationError):
        services.rattachement_set_role(by=gs.user, rattachement=gs, role=Role.UTILISATEUR_SIMPLE)
    with pytest.raises(ApplicationError):
        services.rattachement_set_role(by=gp.user, rattachement=gs, role=Role.GESTIONNAIRE_PRINCIPAL)


def test_staff_appoints_gp_of_imported_public_structure():
    structure = StructureFactory(public=True)
    staff, user = UserFactory(staff=True), UserFactory()
    with pytest.raises(PermissionDeniedError):
        services.gestionnaire_principal_appoint(by=user, structure=structure, user=user)
    services.gestionnaire_principal_appoint(by=staff, structure=structure, user=user)
    assert Rattachement.objects.get(structure=structure).role == Role.GESTIONNAIRE_PRINCIPAL
    newcomer = UserFactory()
    services.gestionnaire_principal_appoint(by=staff, structure=structure, user=newcomer)
    roles = dict(Rattachement.objects.filter(structure=structure).values_list("user_id", "role"))
    assert roles == {user.pk: Role.GESTIONNAIRE_SECONDAIRE, newcomer.pk: Role.GESTIONNAIRE_PRINCIPAL}


# ---------------------------------------------------------------------------------------------------
# Espaces and abonnements
# ---------------------------------------------------------------------------------------------------


def test_open_espace_gives_gestionnaires_modification(team):
    structure, gp, gs, simple, _ = team
    assert not user_can(gs.user, structure, EspaceCode.ENGAGEMENTS)
    services.espace_open(by=gs.user, structure=structure, code=EspaceCode.ENGAGEMENTS)
    assert EspaceSubscription.objects.filter(
        rattachement=gp, espace__code=EspaceCode.ENGAGEMENTS, habilitation=Habilitation.MODIFICATION
    ).exists()
    assert user_can(gs.user, structure, EspaceCode.ENGAGEMENTS, write=True)
    assert not user_can(simple.user, structure, EspaceCode.ENGAGEMENTS)
    with pytest.raises(ApplicationError) as exc:
        services.espace_open(by=gs.user, structure=structure, code=EspaceCode.ENGAGEMENTS)
    assert "déjà ouvert" in exc.value.message
    with pytest.raises(PermissionDeniedError):
        services.espace_open(by=simple.user, structure=structure, code=EspaceCode.FACTURES_TRAVAUX)


def test_close_espace_removes_access_and_factures_recues_stays_open_on_public():
    structure = StructureFactory(public=True)
    services.structure_defaults_ensure(structure=structure)
    gp = RattachementFactory(structure=structure, gp=True)
    services.espace_close(by=gp.user, structure=structure, code=EspaceCode.FACTURES_EMISES)
    assert not user_can(gp.user, structure, EspaceCode.FACTURES_EMISES)
    with pytest.raises(ApplicationError) as exc:
        services.espace_close(by=gp.user, structure=structure, code=EspaceCode.FACTURES_RECUES)
    assert "reste ouvert" in exc.value.message


def test_subscription_request_and_validation(team, django_capture_on_commit_callbacks):
    structure, gp, gs, simple, pending = team
    assert not user_can(simple.user, structure, EspaceCode.FACTURES_EMISES)
    with django_capture_on_commit_callbacks(execute=True):
        subscription = services.subscription_request(
            user=simple.user, structure=structure, code=EspaceCode.FACTURES_EMISES,
            habilitation=Habilitation.CONSULTATION_UNIQUEMENT,
        )  # fmt: skip
    assert len(mail.outbox) == 2  # both gestionnaires
    assert not user_can(simple.user, structure, EspaceCode.FACTURES_EMISES)
    with pytest.raises(ConflictError):
        services.subscription_request(
            user=simple.user, structure=structure, code=EspaceCode.FACTURES_EMISES,
            habilitation=Habilitation.MODIFICATION,
        )  # fmt: skip
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_validate(by=gs.user, subscription=subscription)
    assert mail.outbox[0].to == [simple.user.email]
    assert user_can(simple.user, structure, EspaceCode.FACTURES_EMISES)
    assert not user_can(simple.user, structure, EspaceCode.FACTURES_EMISES, write=True)
    # Same predicate through the keyword aliases used by other apps.
    assert not user_can(
        user=simple.user,
        structure=structure,
        espace=EspaceCode.FACTURES_EMISES,
        habilitation=Habilitation.MODIFICATION,
    )
    with pytest.raises(ConflictError) as exc:
        services.subscription_request(
            user=simple.user, structure=structure, code=EspaceCode.FACTURES_EMISES,
            habilitation=Habilitation.MODIFICATION,
        )  # fmt: skip
    assert "déjà abonné" in exc.value.message


def test_subscription_rules(team):
    structure, gp, _, simple, pending = team
    with pytest.raises(ApplicationError) as exc:
        services.subscription_request(
            user=pending.user, structure=structure, code=EspaceCode.FACTURES_EMISES, habilitation="MODIFICATION"
        )
    assert "pas encore validé" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        services.subscription_request(
            user=gp.user, structure=structure, code=EspaceCode.FACTURES_EMISES, habilitation="MODIFICATION"
        )
    assert "gestionnaire" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        services.subscription_request(
            user=simple.user, structure=structure, code=EspaceCode.ENGAGEMENTS, habilitation="MODIFICATION"
        )
    assert "n'est pas ouvert" in exc.value.message
    with pytest.raises(NotFoundError):
        services.subscription_request(
            user=UserFactory(), structure=structure, code=EspaceCode.FACTURES_EMISES, habilitation="MODIFICATION"
        )


def test_bulk_subscription_decisions(team, django_capture_on_commit_callbacks):
    structure, gp, _, simple, _ = team
    other = RattachementFactory(structure=structure)
    first = services.subscription_request(
        user=simple.user, structure=structure, code=EspaceCode.FACTURES_EMISES, habilitation="MODIFICATION"
    )
    second = services.subscription_request(
        user=other.user, structure=structure, code=EspaceCode.FACTURES_EMISES, habilitation="MODIFICATION"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = services.subscriptions_decide(
            by=gp.user, subscription_ids=[first.pk, second.pk], approve=False, comment="Réservé à la comptabilité"
        )
    assert result.count == 2 and not result.errors
    assert set(EspaceSubscription.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        SubscriptionStatus.REFUSEE
    }
    assert "Réservé à la comptabilité" in mail.outbox[0].body
    # Refused: may ask again.
    again = services.subscription_request(
        user=simple.user, structure=structure, code=EspaceCode.FACTURES_EMISES, habilitation="CONSULTATION_UNIQUEMENT"
    )
    assert again.pk == first.pk and again.status == SubscriptionStatus.EN_COURS_DE_VALIDATION


def test_rights_set_directly_by_gestionnaire(team):
    structure, gp, _, simple, _ = team
    changes = services.rattachement_rights_set(
        by=gp.user,
        rattachement=simple,
        rights={
            EspaceCode.FACTURES_EMISES: Habilitation.MODIFICATION,
            EspaceCode.SOLLICITATIONS_EMISES: Habilitation.CONSULTATION_UNIQUEMENT,
        },
    )
    assert len(changes) == 2
    assert user_can(simple.user, structure, EspaceCode.FACTURES_EMISES, write=True)
    assert user_can(simple.user, structure, EspaceCode.SOLLICITATIONS_EMISES)
    assert not user_can(simple.user, structure, EspaceCode.SOLLICITATIONS_EMISES, write=True)
    changes = services.rattachement_rights_set(
        by=gp.user, rattachement=simple, rights={EspaceCode.SOLLICITATIONS_EMISES: None}
    )
    assert changes == ["Sollicitations émises : aucun accès"]
    assert not user_can(simple.user, structure, EspaceCode.SOLLICITATIONS_EMISES)
    assert ManagerAction.objects.filter(structure=structure, action="rights.changed").count() == 2
    with pytest.raises(ApplicationError):
        services.rattachement_rights_set(by=gp.user, rattachement=gp, rights={})
    with pytest.raises(ApplicationError) as exc:
        services.rattachement_rights_set(
            by=gp.user, rattachement=simple, rights={EspaceCode.ENGAGEMENTS: "MODIFICATION"}
        )
    assert "n'est pas ouvert" in exc.value.message


def test_gestionnaire_has_every_open_espace_even_without_rows():
    """Data created before the abonnement rows (demo, imports) still gives gestionnaires their rights."""
    structure = StructureFactory()
    StructureEspace.objects.create(structure=structure, code=EspaceCode.FACTURES_EMISES)
    gp = RattachementFactory(structure=structure, gp=True)
    assert user_can(gp.user, structure, EspaceCode.FACTURES_EMISES, write=True)
    assert [a.code for a in espaces_for_user(gp.user, structure)] == [EspaceCode.FACTURES_EMISES]
    gp.user.is_active = False
    gp.user.save()
    assert not user_can(gp.user, structure, EspaceCode.FACTURES_EMISES)
