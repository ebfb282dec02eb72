import pytest

from choeur.api.models import ApiEvent
from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.directory.models import Rattachement, Structure
from choeur.invoices.enums import NotificationFrequency as F
from choeur.sollicitations.enums import SollicitationStatus as S
from choeur.sollicitations.models import Sollicitation, SollicitationNotification
from choeur.sollicitations.notifications import (
    sollicitation_notifications_send_digests,
    sollicitation_preference_set,
)
from choeur.sollicitations.platform_requests import sollicitation_process_request
from choeur.sollicitations.services import sollicitation_act, sollicitation_create
from choeur.works.enums import DossierKind
from choeur.works.services import dossier_create
from tests.accounts.factories import UserFactory
from tests.sollicitations.factories import make_sollicitation, personas, subcategory
from tests.works.factories import works_market

pytestmark = pytest.mark.django_db

STRUCTURE_REQUEST = {
    "siret": "21690123100011",
    "raison_sociale": "Commune de Saint-Exemple",
    "adresse": "1 place de la Mairie",
    "code_postal": "69100",
    "ville": "Saint-Exemple",
}


def _structure_request(user, **overrides):
    return sollicitation_create(
        by=user, subcategory=subcategory("COMPTE", "CREATION_STRUCTURE_PUBLIQUE"),
        subject="Créer notre commune", body="Merci de créer notre structure.",
        request_data={**STRUCTURE_REQUEST, **overrides},
    )  # fmt: skip


def test_a_structure_creation_request_processed_by_an_administrator_creates_the_structure(
    django_capture_on_commit_callbacks,
):
    requester = UserFactory()
    sollicitation = _structure_request(requester)
    assert sollicitation.recipient_kind == "SUPPORT" and sollicitation.request_data["siret"] == "21690123100011"
    staff = UserFactory(staff=True)
    with pytest.raises(PermissionDeniedError):
        sollicitation_process_request(sollicitation=sollicitation, by=requester)
    with django_capture_on_commit_callbacks(execute=True):
        answered = sollicitation_process_request(sollicitation=sollicitation, by=staff)
    structure = Structure.objects.get(identifier="21690123100011")
    assert structure.is_public and structure.ville == "Saint-Exemple"
    assert answered.status == S.REPONDUE and "est créée" in answered.messages.last().body
    answered.refresh_from_db()
    assert answered.processed_at is not None and answered.about_structure == structure
    with pytest.raises(ApplicationError, match="déjà été traitée"):
        sollicitation_process_request(sollicitation=answered, by=staff)
    # The requester is told of the answer.
    assert SollicitationNotification.objects.filter(user=requester, sollicitation=answered).exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"siret": ""}, "SIRET : ce champ est obligatoire"),
        ({"siret": "123"}, "SIRET"),
        ({"code_postal": "ABC"}, "Code postal : 5 chiffres"),
        ({"ville": " "}, "Ville : ce champ est obligatoire"),
    ],
)
def test_a_structure_request_with_bad_fields_is_refused_and_nothing_is_saved(overrides, message):
    with pytest.raises(ApplicationError, match=message):
        _structure_request(UserFactory(), **overrides)
    assert not Sollicitation.objects.exists()


def test_a_new_gestionnaire_principal_is_appointed_from_a_request():
    supplier, buyer, _ = personas()
    newcomer = UserFactory(email="nouvelle.gp@exemple.fr")
    sollicitation = sollicitation_create(
        by=buyer.user, sender_structure=buyer.structure, about_structure=buyer.structure,
        subcategory=subcategory("COMPTE", "NOUVEAU_GESTIONNAIRE"), subject="Nouvelle GP", body="Départ en retraite.",
        request_data={"gestionnaire_email": "nouvelle.gp@exemple.fr"},
    )  # fmt: skip
    sollicitation_process_request(sollicitation=sollicitation, by=UserFactory(staff=True))
    assert Rattachement.objects.get(structure=buyer.structure, user=newcomer).role == "GESTIONNAIRE_PRINCIPAL"


def test_a_sollicitation_about_a_works_dossier_goes_to_the_moe(django_capture_on_commit_callbacks):
    market = works_market()
    titulaire_user = market.user("titulaire")
    dossier = dossier_create(
        marche=market.marche, kind=DossierKind.MENSUEL, company=market.titulaire, by=titulaire_user,
        structure=market.titulaire,
    )  # fmt: skip
    sollicitation = sollicitation_create(
        by=titulaire_user, sender_structure=market.titulaire, works_dossier=dossier,
        subcategory=subcategory("TRAVAUX", "DOSSIER"), subject="Situation n° 1", body="Où en est la vérification ?",
    )  # fmt: skip
    assert sollicitation.recipient_structure == market.moe and sollicitation.reference == dossier.reference
    outsider = personas()[0]
    with pytest.raises(PermissionDeniedError, match="pas un dossier de votre structure"):
        sollicitation_create(
            by=outsider.user, sender_structure=outsider.structure, works_dossier=dossier,
            subcategory=subcategory("TRAVAUX", "DOSSIER"), subject="x", body="y",
        )  # fmt: skip


def test_the_other_side_is_notified_by_email_and_the_api_records_the_events(
    django_capture_on_commit_callbacks, mailoutbox
):
    supplier, buyer, _ = personas()
    with django_capture_on_commit_callbacks(execute=True):
        sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    assert [m.to for m in mailoutbox] == [[buyer.user.notification_email]]
    assert sollicitation.numero in mailoutbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        sollicitation_act(sollicitation=sollicitation, action="repondre", by=buyer.user, body="Elle est payée.")
    assert mailoutbox[-1].to == [supplier.user.notification_email] and "réponse reçue" in mailoutbox[-1].subject
    events = ApiEvent.objects.filter(type=ApiEvent.Type.SOLLICITATION_CHANGED)
    assert {(e.structure_id, e.data["action"]) for e in events} == {
        (supplier.structure.pk, "creer"), (buyer.structure.pk, "creer"),
        (supplier.structure.pk, "repondre"), (buyer.structure.pk, "repondre"),
    }  # fmt: skip


def test_the_weekly_digest_and_none_preferences(django_capture_on_commit_callbacks, mailoutbox):
    supplier, buyer, _ = personas()
    sollicitation_preference_set(user=buyer.user, structure=buyer.structure, frequency=F.WEEKLY)
    with django_capture_on_commit_callbacks(execute=True):
        make_sollicitation(sender=supplier, recipient=buyer)
        make_sollicitation(sender=supplier, recipient=buyer, subject="Une autre")
    assert mailoutbox == []
    assert sollicitation_notifications_send_digests() == 1
    assert "2 événement(s)" in mailoutbox[0].subject
    assert sollicitation_notifications_send_digests() == 0
    sollicitation_preference_set(user=buyer.user, structure=buyer.structure, frequency=F.NONE)
    with django_capture_on_commit_callbacks(execute=True):
        make_sollicitation(sender=supplier, recipient=buyer, subject="Encore")
    assert len(mailoutbox) == 1
    with pytest.raises(ApplicationError, match="Fréquence"):
        sollicitation_preference_set(user=buyer.user, structure=buyer.structure, frequency="DAILY")
