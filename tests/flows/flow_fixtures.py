"""Fixtures of the flow pipeline tests (deposit, processing, CR, ingest, portal): a supplier and its
depositor, a public buyer, invoices built for them. Test modules import them with
`from tests.flows.flow_fixtures import *` (tests/flows/conftest.py belongs to the validation engine's tests).
"""

import functools

import pytest

from choeur.flows.enums import Channel
from choeur.flows.services import flow_deposit
from tests.accounts.factories import UserFactory
from tests.flows.factories import buyer_structure, subscribe, supplier_structure
from tests.flows.fixtures import invoice_xml

__all__ = ["buyer", "deposit", "depositor", "make_xml", "supplier"]


@pytest.fixture
def supplier(db):
    return supplier_structure(raison_sociale="Atelier Dupont")


@pytest.fixture
def buyer(db):
    return buyer_structure(raison_sociale="Commune de Valfleurie")


@pytest.fixture
def depositor(supplier):
    user = UserFactory(email="deposant@atelier-dupont.fr")
    subscribe(user, supplier)
    return user


@pytest.fixture
def make_xml(supplier, buyer):
    """invoice_xml(...) for this supplier and buyer; pass number=…, syntax="CII", broken=True…"""
    return functools.partial(invoice_xml, supplier_siret=supplier.identifier, buyer_siret=buyer.identifier)


@pytest.fixture
def deposit(supplier, depositor, django_capture_on_commit_callbacks):
    """Deposit through the portal door and run what the commit triggers (the immediate task backend then
    processes the flow before this returns)."""

    def _deposit(content: bytes, filename: str = "flux.xml", *, structure=None, by_user=None, **kwargs):
        kwargs.setdefault("channel", Channel.PORTAIL)
        with django_capture_on_commit_callbacks(execute=True):
            flow, created = flow_deposit(
                structure=structure or supplier,
                content=content,
                filename=filename,
                by_user=by_user or depositor,
                **kwargs,
            )
        flow.refresh_from_db()
        return flow, created

    return _deposit
