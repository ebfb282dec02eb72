"""Processing a flow: each invoice validated, then integrated (invoice created and sent) or rejected."""

import datetime

import pytest

from choeur.core.models import AuditEntry
from choeur.flows.enums import ErrorNature, FlowState, ItemStatus
from choeur.flows.models import Flow
from choeur.flows.services import flow_process
from choeur.invoices.models import Invoice
from tests.accounts.factories import UserFactory
from tests.directory.factories import StructureFactory
from tests.flows.factories import subscribe, supplier_structure
from tests.flows.fixtures import facturx_pdf, invoice_xml, tar_gz_of, zip_of
from tests.flows.flow_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_single_ubl_invoice_is_integrated(deposit, make_xml, supplier, buyer):
    flow, created = deposit(make_xml(number="F-1"), "facture.xml")
    assert created
    assert flow.state == FlowState.IN_INTEGRE
    assert flow.document_count == 1
    assert flow.syntaxe_flux_detected == "IN_DP_E1_UBL_INVOICE"
    item = flow.items.get()
    assert item.status == ItemStatus.INTEGREE
    assert (item.invoice_number, item.supplier_identifier, item.recipient_identifier) == (
        "F-1",
        supplier.identifier,
        buyer.identifier,
    )
    invoice = item.invoice
    assert invoice.supplier == supplier and invoice.recipient == buyer
    assert invoice.number == "F-1"
    assert invoice.numero_flux_depot == flow.numero_flux_depot
    assert invoice.structured_xml.read() == make_xml(number="F-1")
    assert flow.lease_owner == "" and flow.lease_expires_at is None and flow.attempts == 1
    assert AuditEntry.objects.for_object(flow).filter(action="flows.flow.process").exists()


def test_zip_of_three_with_one_broken_is_partially_integrated(deposit, make_xml):
    content = zip_of(
        {
            "f1.xml": make_xml(number="Z-1"),
            "f2.xml": make_xml(number="Z-2", broken=True),
            "f3.xml": make_xml(number="Z-3", syntax="CII"),
        }
    )
    flow, _ = deposit(content, "lot.zip")
    assert flow.state == FlowState.IN_INTEGRE_PARTIEL
    items = {item.member_name: item for item in flow.items.all()}
    assert items["f1.xml"].status == items["f3.xml"].status == ItemStatus.INTEGREE
    broken = items["f2.xml"]
    assert broken.status == ItemStatus.REJETEE and broken.invoice is None
    assert broken.invoice_number == "Z-2"
    assert any(e["rule"] == "BR-CO-16" and e["severity"] == "fatal" for e in broken.errors)
    assert Invoice.objects.filter(number__in=["Z-1", "Z-2", "Z-3"]).count() == 2


def test_tar_gz_with_a_facturx_pdf_integrates_the_pdf_as_the_invoice(deposit, make_xml):
    pdf = facturx_pdf(make_xml(number="FX-1", syntax="CII"))
    flow, _ = deposit(tar_gz_of({"a.xml": make_xml(number="T-1"), "b.pdf": pdf}), "lot.tar.gz")
    assert flow.state == FlowState.IN_INTEGRE
    invoice = flow.items.get(member_name="b.pdf/factur-x.xml").invoice
    assert invoice.main_document.read() == pdf
    assert invoice.structured_xml.read() == make_xml(number="FX-1", syntax="CII")


def test_single_facturx_pdf(deposit, make_xml):
    pdf = facturx_pdf(make_xml(number="FX-2", syntax="CII"))
    flow, _ = deposit(pdf, "facture.pdf", syntaxe_flux="IN_DP_E2_CII_FACTURX")
    assert flow.state == FlowState.IN_INTEGRE
    assert flow.items.get().invoice.main_document.read() == pdf


def test_all_broken_is_rejected(deposit, make_xml):
    flow, _ = deposit(zip_of({"a.xml": make_xml(number="R-1", broken=True)}), "lot.zip")
    assert flow.state == FlowState.IN_REJETE
    assert flow.items.get().status == ItemStatus.REJETEE
    assert flow.technical_errors == []  # the flow was readable; its only invoice was not valid


def test_supplier_other_than_the_depositor_is_rejected(deposit, make_xml, buyer):
    stranger = StructureFactory()
    content = invoice_xml(supplier_siret=stranger.identifier, buyer_siret=buyer.identifier, number="S-1")
    flow, _ = deposit(content, "f.xml")
    assert flow.state == FlowState.IN_REJETE
    error = flow.items.get().errors[-1]
    assert error["rule"] == "FOURNISSEUR_NON_AUTORISE" and stranger.identifier in error["message"]
    assert not Invoice.objects.filter(supplier=stranger).exists()


def test_depositor_may_deposit_for_another_structure_he_invoices_for(deposit, buyer, depositor):
    other = supplier_structure()
    subscribe(depositor, other)
    content = invoice_xml(supplier_siret=other.identifier, buyer_siret=buyer.identifier, number="O-1")
    flow, _ = deposit(content, "f.xml")
    assert flow.state == FlowState.IN_INTEGRE
    assert flow.items.get().invoice.supplier == other


def test_routing_refusal_of_the_invoice_domain_rejects_the_invoice_with_its_message(deposit, supplier):
    unknown_buyer = "21750001600019"
    flow, _ = deposit(invoice_xml(supplier_siret=supplier.identifier, buyer_siret=unknown_buyer), "f.xml")
    assert flow.state == FlowState.IN_REJETE
    item = flow.items.get()
    assert item.recipient_identifier == unknown_buyer
    error = item.errors[-1]
    assert error["layer"] == "acheminement" and error["severity"] == "fatal" and error["message"]


def test_number_already_used_is_rejected_as_doublon(deposit, make_xml):
    deposit(make_xml(number="D-1"), "premier.xml")
    # Other bytes (another issue date), same number: a true duplicate.
    flow, created = deposit(make_xml(number="D-1", issue_date=datetime.date(2026, 11, 16)), "second.xml")
    assert created and flow.state == FlowState.IN_REJETE
    assert flow.items.get().errors[-1]["rule"] == "DOUBLON"
    assert Invoice.objects.filter(number="D-1").count() == 1


def test_declared_syntax_that_does_not_match_rejects_the_flow(deposit, make_xml):
    flow, _ = deposit(make_xml(number="X-1"), "f.xml", syntaxe_flux="IN_DP_E1_CII_16B")
    assert flow.state == FlowState.IN_REJETE
    assert [e["codeErreur"] for e in flow.technical_errors] == ["SYNTAXE_FLUX_INCOHERENTE"]
    assert "IN_DP_E1_CII_16B" in flow.technical_errors[0]["libelleErreur"]
    assert flow.syntaxe_flux_detected == "IN_DP_E1_UBL_INVOICE"
    assert not flow.items.exists() and not Invoice.objects.exists()


def test_unreadable_archive_rejects_the_flow(deposit):
    flow, _ = deposit(b"PK\x03\x04 ceci n'est pas une archive", "lot.zip")
    assert flow.state == FlowState.IN_REJETE
    error = flow.technical_errors[0]
    assert error["codeErreur"].startswith("CHOEUR-") and error["natureErreur"] == ErrorNature.FORMAT
    assert error["libelleErreur"]


def test_replaying_a_final_flow_does_nothing(deposit, make_xml):
    flow, _ = deposit(make_xml(number="P-1"), "f.xml")
    assert flow_process(flow_id=flow.pk) == ""
    flow.refresh_from_db()
    assert flow.state == FlowState.IN_INTEGRE and flow.attempts == 1
    assert Invoice.objects.filter(number="P-1").count() == 1


def test_crash_mid_flow_is_retried_and_finishes_without_duplicates(deposit, make_xml, monkeypatch):
    """The second invoice blows up once (after the first was integrated and committed): the flow goes back
    to the queue, the retry skips the integrated invoice and finishes the others."""
    from choeur.invoices import services as invoice_services

    real = invoice_services.invoice_create_from_data
    failures = {"left": 1}

    def flaky(**kwargs):
        if kwargs["data"].number == "C-2" and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("base de données indisponible")
        return real(**kwargs)

    monkeypatch.setattr(invoice_services, "invoice_create_from_data", flaky)
    content = zip_of({f"f{i}.xml": make_xml(number=f"C-{i}") for i in (1, 2, 3)})
    flow, _ = deposit(content, "lot.zip")
    assert flow.state == FlowState.IN_INTEGRE
    assert flow.attempts == 2
    assert "base de données indisponible" in flow.last_error
    for number in ("C-1", "C-2", "C-3"):
        assert Invoice.objects.filter(number=number).count() == 1
    assert flow.items.filter(invoice__isnull=False).count() == 3


def test_persistent_failure_ends_incident_after_the_allowed_attempts(deposit, make_xml, monkeypatch, settings):
    settings.CHOEUR_FLOW_MAX_ATTEMPTS = 2

    def broken_engine(*args, **kwargs):
        raise MemoryError("plus de mémoire")

    monkeypatch.setattr("choeur.flows.worker.default_validator", lambda: broken_engine)
    flow, _ = deposit(make_xml(number="I-1"), "f.xml")
    assert flow.state == FlowState.IN_INCIDENTE
    assert flow.attempts == 2
    error = flow.technical_errors[0]
    assert error["codeErreur"] == "INCIDENT_TECHNIQUE" and error["natureErreur"] == ErrorNature.TECHNIQUE
    assert "Déposez de nouveau le fichier" in error["libelleErreur"]
    assert flow.numero_flux_depot in error["libelleErreur"]
    assert AuditEntry.objects.for_object(flow).filter(action="flows.flow.incident").exists()


def test_a_failing_flow_does_not_stop_the_next_one(deposit, make_xml, monkeypatch, settings):
    settings.CHOEUR_FLOW_MAX_ATTEMPTS = 1
    from choeur.flows.validation import validate_bytes

    def engine(data, **kwargs):
        if b"BOUM" in data:
            raise RuntimeError("boum")
        return validate_bytes(data, **kwargs)

    monkeypatch.setattr("choeur.flows.worker.default_validator", lambda: engine)
    failed, _ = deposit(b"<Invoice>BOUM</Invoice>", "boum.xml")
    good, _ = deposit(make_xml(number="N-1"), "f.xml")
    assert failed.state == FlowState.IN_INCIDENTE
    assert good.state == FlowState.IN_INTEGRE


def test_only_one_flow_row_per_deposit_even_with_several_documents(deposit, make_xml):
    flow, _ = deposit(zip_of({f"{i}.xml": make_xml(number=f"M-{i}") for i in range(4)}), "lot.zip")
    assert Flow.objects.count() == 1
    assert list(flow.items.order_by("index").values_list("index", flat=True)) == [0, 1, 2, 3]


def test_gestionnaire_without_abonnement_may_deposit_for_his_structure(
    buyer, supplier, django_capture_on_commit_callbacks
):
    from choeur.flows.services import flow_deposit
    from tests.directory.factories import RattachementFactory

    gestionnaire = UserFactory()
    RattachementFactory(user=gestionnaire, structure=supplier, gp=True)
    with django_capture_on_commit_callbacks(execute=True):
        flow, _ = flow_deposit(
            structure=supplier,
            content=invoice_xml(supplier_siret=supplier.identifier, buyer_siret=buyer.identifier, number="G-1"),
            filename="f.xml",
            channel="PORTAIL",
            by_user=gestionnaire,
        )
    flow.refresh_from_db()
    assert flow.state == FlowState.IN_INTEGRE


def test_a_batch_enqueues_one_side_effect_task_per_kind_without_the_refused_invoice(
    deposit, make_xml, settings, supplier, depositor
):
    """With the database queue (production), a flow's batch writes one task for all its status changes and
    one for its renderings; an invoice refused in the batch (its savepoint rolled back) takes its own away."""
    from django_tasks_db.models import DBTaskResult

    from choeur.flows.enums import Channel
    from choeur.flows.services import flow_deposit
    from choeur.invoices.models import InvoiceStatusChange

    deposit(make_xml(number="B-0"), "premier.xml")  # B-0 exists: its second deposit below is a DOUBLON
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    members = {f"{n}.xml": make_xml(number=n, issue_date=datetime.date(2026, 11, 16)) for n in ("B-1", "B-0", "B-2")}
    flow, _ = flow_deposit(
        structure=supplier, content=zip_of(members), filename="lot.zip", by_user=depositor, channel=Channel.PORTAIL
    )
    flow_process(flow_id=flow.pk)
    flow.refresh_from_db()
    assert flow.state == FlowState.IN_INTEGRE_PARTIEL
    tasks = {
        t.task_path: t.args_kwargs["args"][0] for t in DBTaskResult.objects.exclude(task_path__endswith="process_flow")
    }
    changes = InvoiceStatusChange.objects.filter(invoice__number__in=("B-1", "B-2")).order_by("pk")
    assert tasks == {
        "choeur.invoices.tasks.invoice_status_changes": [c.pk for c in changes],
        "choeur.invoices.rendering.invoice_render_documents_many": list(
            Invoice.objects.filter(number__in=("B-1", "B-2")).order_by("pk").values_list("pk", flat=True)
        ),
    }
    assert len(tasks["choeur.invoices.tasks.invoice_status_changes"]) == 4  # DEPOSEE and MISE_A_DISPOSITION, ×2
