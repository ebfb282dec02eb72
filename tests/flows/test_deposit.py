"""flow_deposit: one service for the three doors — store, record, queue; no validation inline."""

import hashlib
import re
import time

import pytest

from choeur.core.errors import ApplicationError
from choeur.core.models import AuditEntry, StoredFile
from choeur.flows import services as flow_services
from choeur.flows.enums import Channel, FlowState
from choeur.flows.models import FLOW_NUMBER_LENGTH, Flow, flow_number
from choeur.flows.services import flow_deposit
from tests.directory.factories import StructureFactory
from tests.flows.flow_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

NUMBER_SHAPE = re.compile(r"^CHO\d{3}[123]\d{2}\d{16}$")


def _deposit_without_processing(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        flow, created = flow_deposit(**kwargs)
    return flow, created, callbacks


def test_deposit_records_the_flow_waiting_and_queues_it_after_commit(
    supplier, depositor, make_xml, django_capture_on_commit_callbacks
):
    content = make_xml()
    flow, created, callbacks = _deposit_without_processing(
        django_capture_on_commit_callbacks,
        structure=supplier,
        content=content,
        filename="facture.xml",
        channel=Channel.PORTAIL,
        by_user=depositor,
    )
    assert created is True
    flow.refresh_from_db()
    assert flow.state == FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP
    assert flow.sha256 == hashlib.sha256(content).hexdigest()
    assert flow.size == len(content)
    assert flow.file.read() == content
    assert flow.deposited_by == depositor
    assert flow.filename == "facture.xml"
    assert len(flow.numero_flux_depot) == FLOW_NUMBER_LENGTH == 25
    assert NUMBER_SHAPE.match(flow.numero_flux_depot)
    assert flow.numero_flux_depot.endswith(f"{flow.pk:016d}")
    assert flow.numero_flux_depot[6] == "1"  # portail
    assert flow.items.count() == 0  # nothing validated inline
    assert len(callbacks) == 1  # the processing task, queued once the row is committed
    entry = AuditEntry.objects.for_object(flow).get()
    assert entry.action == "flows.flow.deposit" and entry.actor_user == depositor
    assert entry.data["numero_flux_depot"] == flow.numero_flux_depot


def test_flow_number_scheme_by_channel_and_instance(settings):
    settings.CHOEUR_FLOW_INSTANCE_CODE = "042"
    assert flow_number(pk=1557, channel=Channel.PORTAIL, year=2026) == "CHO0421260000000000001557"
    assert flow_number(pk=7, channel=Channel.API, year=2027)[6:9] == "227"
    assert flow_number(pk=7, channel=Channel.EDI_DIR, year=2026)[6] == "3"


def test_same_bytes_from_same_structure_return_the_original_flow(
    supplier, depositor, make_xml, django_capture_on_commit_callbacks
):
    content = make_xml()
    first, created, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks,
        structure=supplier,
        content=content,
        filename="a.xml",
        channel=Channel.PORTAIL,
        by_user=depositor,
    )
    again, created_again, callbacks = _deposit_without_processing(
        django_capture_on_commit_callbacks,
        structure=supplier,
        content=content,
        filename="renomme.xml",
        channel=Channel.API,
        by_label="Client API comptabilité",
    )
    assert created is True and created_again is False
    assert again.pk == first.pk and again.filename == "a.xml"
    assert Flow.objects.count() == 1
    assert callbacks == []  # not queued a second time


def test_same_bytes_from_another_structure_are_another_flow(
    supplier, depositor, make_xml, django_capture_on_commit_callbacks
):
    content = make_xml()
    other = StructureFactory()
    first, _, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks, structure=supplier, content=content, filename="a.xml", channel="PORTAIL"
    )
    second, created, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks, structure=other, content=content, filename="a.xml", channel="API"
    )
    assert created is True and second.pk != first.pk
    # Content-addressed storage: the bytes are stored once.
    assert StoredFile.objects.filter(sha256=first.sha256).count() == 1


def test_redeposit_of_an_incident_flow_queues_it_again(supplier, make_xml, django_capture_on_commit_callbacks):
    content = make_xml()
    flow, _, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks, structure=supplier, content=content, filename="a.xml", channel="EDI_DIR"
    )
    Flow.objects.filter(pk=flow.pk).update(
        state=FlowState.IN_INCIDENTE, attempts=3, technical_errors=[{"codeErreur": "X"}]
    )
    again, created, callbacks = _deposit_without_processing(
        django_capture_on_commit_callbacks, structure=supplier, content=content, filename="a.xml", channel="EDI_DIR"
    )
    assert created is False and again.pk == flow.pk
    assert again.state == FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP
    assert again.attempts == 0 and again.technical_errors == []
    assert len(callbacks) == 1


def test_oversized_file_is_refused_before_anything_is_stored(supplier, settings):
    settings.CHOEUR_FLOW_MAX_BYTES = 1000
    with pytest.raises(ApplicationError) as excinfo:
        flow_deposit(structure=supplier, content=b"<x/>" * 300, filename="gros.xml", channel=Channel.PORTAIL)
    assert excinfo.value.field == "fichier"
    assert excinfo.value.code == "FLUX_TROP_VOLUMINEUX"
    assert "limite" in excinfo.value.message
    assert not Flow.objects.exists() and not StoredFile.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"content": b""}, "fichier", "vide"),
        ({"filename": "   "}, "fichier", "nom du fichier"),
        ({"syntaxe_flux": "IN_DP_E9_INCONNU"}, "syntaxe_flux", "n'existe pas"),
        ({"syntaxe_flux": "IN_DP_E1_XCBL"}, "syntaxe_flux", "pas prise en charge"),
        ({"channel": "FAX"}, "channel", "Canal"),
    ],
)
def test_bad_deposits_are_refused_in_french(supplier, kwargs, field, fragment):
    arguments = {"structure": supplier, "content": b"<Invoice/>", "filename": "f.xml", "channel": Channel.PORTAIL}
    with pytest.raises(ApplicationError) as excinfo:
        flow_deposit(**{**arguments, **kwargs})
    assert excinfo.value.field == field
    assert fragment in excinfo.value.message
    assert not Flow.objects.exists()


def test_file_name_keeps_only_its_last_component(supplier, django_capture_on_commit_callbacks):
    flow, _, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks,
        structure=supplier,
        content=b"<Invoice/>",
        filename="..\\..\\secret/../../etc/facture.xml",
        channel=Channel.PORTAIL,
    )
    assert flow.filename == "facture.xml"


def test_declared_syntax_is_recorded(supplier, make_xml, django_capture_on_commit_callbacks):
    flow, _, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks,
        structure=supplier,
        content=make_xml(),
        filename="f.xml",
        channel=Channel.API,
        syntaxe_flux="IN_DP_E1_UBL_INVOICE",
        by_label="Logiciel de facturation",
    )
    assert flow.syntaxe_flux_declared == "IN_DP_E1_UBL_INVOICE"
    assert flow.deposited_by is None and flow.deposited_by_label == "Logiciel de facturation"
    assert AuditEntry.objects.for_object(flow).get().actor_kind == AuditEntry.ActorKind.API


def test_deposit_answers_fast_and_never_validates_inline(
    supplier, make_xml, monkeypatch, django_capture_on_commit_callbacks
):
    def no_validation(*args, **kwargs):
        raise AssertionError("la validation ne doit pas tourner pendant le dépôt")

    monkeypatch.setattr("choeur.flows.worker.default_validator", no_validation)
    # About 4 MB: a big archive-sized payload of a few hundred invoices.
    content = make_xml(lines=1) * 1000
    started = time.perf_counter()
    flow, created, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks, structure=supplier, content=content, filename="lot.xml", channel="API"
    )
    assert time.perf_counter() - started < 1.0
    assert created and flow.state == FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP


def test_concurrent_identical_deposit_returns_the_winner(
    supplier, make_xml, monkeypatch, django_capture_on_commit_callbacks
):
    """Two requests with the same bytes: the unique (structure, sha256) constraint decides, the loser gets the
    winner's flow instead of an error."""
    content = make_xml()
    winner, _, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks, structure=supplier, content=content, filename="a.xml", channel="API"
    )
    real_filter = Flow.objects.filter
    calls = {"n": 0}

    def blind_first_lookup(*args, **kwargs):
        # The loser's early lookup ran before the winner committed: it saw nothing.
        calls["n"] += 1
        if calls["n"] == 1:
            return Flow.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(flow_services.Flow.objects, "filter", blind_first_lookup)
    loser, created, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks, structure=supplier, content=content, filename="a.xml", channel="API"
    )
    assert created is False and loser.pk == winner.pk
    assert Flow.objects.count() == 1


def test_admin_shows_flows_read_only(admin_client, supplier, make_xml, django_capture_on_commit_callbacks):
    flow, _, _ = _deposit_without_processing(
        django_capture_on_commit_callbacks, structure=supplier, content=make_xml(), filename="a.xml", channel="API"
    )
    listing = admin_client.get("/admin/flows/flow/")
    assert listing.status_code == 200 and flow.numero_flux_depot in listing.content.decode()
    assert admin_client.get(f"/admin/flows/flow/{flow.pk}/change/").status_code == 200
    assert admin_client.get("/admin/flows/flow/add/").status_code == 403
