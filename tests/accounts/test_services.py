"""Account services: registration, single-use activation links, profile, passwords."""

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.utils import timezone

from choeur.accounts import services
from choeur.accounts.models import AccountActivation, User
from choeur.core.errors import ApplicationError
from choeur.core.models import AuditEntry
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=False)

GOOD_PASSWORD = "Une phrase de passe bien longue 2026"


def _register(django_capture_on_commit_callbacks, **overrides):
    data = {"email": "Camille.Martin@Exemple.fr", "first_name": "Camille", "last_name": "Martin", "phone": ""}
    data.update(overrides)
    with django_capture_on_commit_callbacks(execute=True):
        return services.user_register(**data)


def _token_from_mail(message) -> str:
    match = re.search(r"/activation/([A-Za-z0-9_\-]+)/", message.body)
    assert match, message.body
    return match.group(1)


def _activation_sent(django_capture_on_commit_callbacks, user) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        return services.activation_send(user=user)


# --- Registration ----------------------------------------------------------------------------------


def test_register_creates_inactive_user_without_password_and_mails_a_french_link(
    django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://choeur.exemple.gouv.fr"
    user = _register(django_capture_on_commit_callbacks, phone="01 23 45 67 89")

    assert user.email == "camille.martin@exemple.fr"
    assert user.is_active is False
    assert not user.has_usable_password()
    assert user.phone == "01 23 45 67 89"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["camille.martin@exemple.fr"]
    assert message.subject == "Activez votre compte Chœur"
    assert "Bonjour Camille" in message.body
    assert "valable 60 minutes" in message.body
    assert "https://choeur.exemple.gouv.fr/activation/" in message.body
    # Only the hash of the token is kept.
    token = _token_from_mail(message)
    activation = AccountActivation.objects.get(user=user)
    assert activation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in activation.token_hash
    assert AuditEntry.objects.filter(action="accounts.user.registered", target_id=str(user.pk)).exists()


def test_register_refuses_an_address_already_registered_whatever_the_case(django_capture_on_commit_callbacks):
    UserFactory(email="camille.martin@exemple.fr")
    with pytest.raises(ApplicationError) as exc:
        _register(django_capture_on_commit_callbacks, email="  CAMILLE.martin@exemple.FR ")
    assert exc.value.code == "email_deja_inscrit"
    assert exc.value.field == "email"
    assert "Connectez-vous" in exc.value.message and "réinitialisez votre mot de passe" in exc.value.message
    assert User.objects.filter(email__iexact="camille.martin@exemple.fr").count() == 1
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"phone": "appelez-moi"}, "phone", "numéro de téléphone n'est pas valide"),
        ({"phone": "12"}, "phone", "numéro de téléphone n'est pas valide"),
        ({"first_name": "   "}, "first_name", "Saisissez votre prénom"),
        ({"last_name": ""}, "last_name", "Saisissez votre nom"),
        ({"email": "pas-une-adresse"}, "email", "n'est pas valide"),
    ],
)
def test_register_rejects_bad_input_with_a_field_message(
    django_capture_on_commit_callbacks, overrides, field, fragment
):
    with pytest.raises(ApplicationError) as exc:
        _register(django_capture_on_commit_callbacks, **overrides)
    assert exc.value.field == field
    assert fragment in exc.value.message
    assert not User.objects.exists()


# --- Activation ------------------------------------------------------------------------------------


def test_activation_sets_password_activates_and_is_audited(django_capture_on_commit_callbacks):
    user = _register(django_capture_on_commit_callbacks)
    token = _token_from_mail(mail.outbox[0])

    activated = services.user_activate(token=token, password=GOOD_PASSWORD)

    assert activated.pk == user.pk
    activated.refresh_from_db()
    assert activated.is_active
    assert activated.check_password(GOOD_PASSWORD)
    assert AccountActivation.objects.get(user=user).used_at is not None
    assert AuditEntry.objects.filter(action="accounts.user.activated", target_id=str(user.pk)).exists()


def test_activation_link_expires_after_the_configured_delay(django_capture_on_commit_callbacks, settings):
    settings.CHOEUR_ACTIVATION_TIMEOUT_SECONDS = 60 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        user = _register(django_capture_on_commit_callbacks)
    token = _token_from_mail(mail.outbox[0])

    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert services.activation_check(token=token).user == user
    with time_machine.travel(start + timedelta(minutes=60, seconds=1), tick=False):
        with pytest.raises(ApplicationError) as exc:
            services.user_activate(token=token, password=GOOD_PASSWORD)
    assert exc.value.code == "activation_expiree"
    assert "a expiré" in exc.value.message and "60 minutes" in exc.value.message
    user.refresh_from_db()
    assert not user.is_active


def test_activation_link_works_only_once(django_capture_on_commit_callbacks):
    _register(django_capture_on_commit_callbacks)
    token = _token_from_mail(mail.outbox[0])
    services.user_activate(token=token, password=GOOD_PASSWORD)

    with pytest.raises(ApplicationError) as exc:
        services.user_activate(token=token, password="Un autre mot de passe 2026")
    assert exc.value.code == "activation_utilisee"
    assert "déjà été utilisé" in exc.value.message and "Connectez-vous" in exc.value.message
    assert User.objects.get().check_password(GOOD_PASSWORD)


def test_older_link_is_refused_as_used_once_the_account_is_activated(django_capture_on_commit_callbacks):
    user = _register(django_capture_on_commit_callbacks)
    first = _token_from_mail(mail.outbox[0])
    second = _activation_sent(django_capture_on_commit_callbacks, user)
    services.user_activate(token=second, password=GOOD_PASSWORD)
    with pytest.raises(ApplicationError) as exc:
        services.activation_check(token=first)
    assert exc.value.code == "activation_utilisee"


def test_unknown_activation_token_is_refused():
    with pytest.raises(ApplicationError) as exc:
        services.activation_check(token="nimportequoi")
    assert exc.value.code == "activation_inconnue"
    assert "inconnu" in exc.value.message


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("court", "trop court. Il doit contenir au minimum 12 caractères"),
        ("123456789012345", "entièrement numérique"),
        ("camille.martin@exemple", "trop semblable"),
        ("", "Saisissez un mot de passe"),
    ],
)
def test_activation_refuses_weak_passwords_with_french_messages_and_keeps_the_link(
    django_capture_on_commit_callbacks, password, fragment
):
    _register(django_capture_on_commit_callbacks)
    token = _token_from_mail(mail.outbox[0])
    with pytest.raises(ApplicationError) as exc:
        services.user_activate(token=token, password=password)
    assert exc.value.field == "password1"
    assert fragment in exc.value.message
    # The link is not consumed by a refused password.
    assert services.activation_check(token=token)


def test_activation_send_refuses_an_active_account():
    with pytest.raises(ApplicationError) as exc:
        services.activation_send(user=UserFactory())
    assert exc.value.code == "compte_deja_active"


def test_activation_resend_sends_only_for_accounts_awaiting_activation(django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        pending = _register(django_capture_on_commit_callbacks)
    UserFactory(email="actif@exemple.fr")
    mail.outbox.clear()

    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.activation_resend(email="inconnu@exemple.fr") is False
            assert services.activation_resend(email="actif@exemple.fr") is False
            assert services.activation_resend(email=pending.email.upper()) is True
            # A second request within a minute sends nothing more (mailbox flooding).
            assert services.activation_resend(email=pending.email) is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [pending.email]
    assert AccountActivation.objects.filter(user=pending).count() == 2


# --- Profile and passwords ---------------------------------------------------------------------------


def test_profile_update_changes_contact_email_audits_and_warns_the_previous_address(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="login@exemple.fr", first_name="Léa", last_name="Durand")
    with django_capture_on_commit_callbacks(execute=True):
        services.user_update_profile(
            user=user,
            first_name="Léa",
            last_name="Durand-Morel",
            phone="+33 6 12 34 56 78",
            contact_email="Compta@Exemple.fr",
        )
    user.refresh_from_db()
    assert user.email == "login@exemple.fr"
    assert user.contact_email == "compta@exemple.fr"
    assert user.notification_email == "compta@exemple.fr"
    assert user.last_name == "Durand-Morel"
    entry = AuditEntry.objects.get(action="accounts.user.contact_email_changed")
    assert entry.data == {"old": "", "new": "compta@exemple.fr"}
    assert AuditEntry.objects.get(action="accounts.user.profile_updated").data == {"fields": ["last_name", "phone"]}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["login@exemple.fr"]
    assert "compta@exemple.fr" in mail.outbox[0].body


def test_profile_update_rejects_an_invalid_contact_email():
    user = UserFactory()
    with pytest.raises(ApplicationError) as exc:
        services.user_update_profile(user=user, first_name="A", last_name="B", contact_email="compta@")
    assert exc.value.field == "contact_email"
    assert "adresse de contact" in exc.value.message


def test_change_password_requires_the_current_one_and_validators(django_capture_on_commit_callbacks):
    user = UserFactory()
    with pytest.raises(ApplicationError) as exc:
        services.user_change_password(user=user, old_password="faux", new_password=GOOD_PASSWORD)
    assert exc.value.field == "old_password"
    with pytest.raises(ApplicationError) as exc:
        services.user_change_password(user=user, old_password=DEFAULT_PASSWORD, new_password="court")
    assert exc.value.field == "new_password1"
    assert "minimum 12 caractères" in exc.value.message

    with django_capture_on_commit_callbacks(execute=True):
        services.user_change_password(user=user, old_password=DEFAULT_PASSWORD, new_password=GOOD_PASSWORD)
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    assert AuditEntry.objects.get(action="accounts.user.password_changed").data == {"reason": "change"}
    assert mail.outbox[-1].subject == "Votre mot de passe Chœur a été modifié"


def test_password_reset_lifts_the_login_lockout(django_capture_on_commit_callbacks):
    user = UserFactory(email="bloque@exemple.fr")
    AccessAttempt.objects.create(
        username="bloque@exemple.fr", ip_address="127.0.0.1", user_agent="test", failures_since_start=5
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.user_set_password(user=user, password=GOOD_PASSWORD, reason="reset")
    assert not AccessAttempt.objects.filter(username="bloque@exemple.fr").exists()


def test_login_is_case_insensitive():
    user = UserFactory(email="nom@exemple.fr")
    assert User.objects.get_by_natural_key("  NOM@Exemple.FR") == user
