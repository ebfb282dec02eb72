"""Helpers for the validation engine tests: the fixture invoices and Factur-X PDFs built on the fly."""

import io
import zlib
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def facturx_pdf(xml: bytes, *, name: str = "factur-x.xml", password: str | None = None) -> bytes:
    """A one-page PDF embedding `xml` as a Factur-X attachment (not PDF/A: the engine doesn't check PDF/A)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment(name, xml)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_bomb(inflated_size: int) -> bytes:
    """A PDF whose embedded factur-x.xml is a Flate stream of zeros inflating to `inflated_size` bytes.

    The zeros are compressed chunk by chunk: the test never holds the inflated content in memory.
    """
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, NumberObject

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("factur-x.xml", b"<x/>")
    spec = writer._root_object["/Names"]["/EmbeddedFiles"]["/Names"][1].get_object()
    stream = spec["/EF"]["/F"].get_object()
    compressor = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = [compressor.compress(chunk) for _ in range(inflated_size >> 20)]
    parts.append(compressor.flush())
    data = b"".join(parts)
    stream._data = data
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    stream[NameObject("/Length")] = NumberObject(len(data))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def ubl_invoice() -> bytes:
    return fixture_bytes("ubl_facture_b2g.xml")


@pytest.fixture
def cii_invoice() -> bytes:
    return fixture_bytes("cii_facture_b2g.xml")


@pytest.fixture
def cen_release():
    """The CEN CII XSLT judges (installed for the session from ../shared/artefacts); skipped, saying so, when
    the operator's copy is absent on this machine."""
    from choeur.flows.validation import schematron

    if not schematron.available("cen-cii"):
        pytest.skip("Artefacts CEN absents : ../shared/artefacts/en16931-1.3.16 introuvable sur cette machine.")


@pytest.fixture
def no_cen_release(tmp_path):
    """No installed release: the engine's fallback (a fresh `make run` before `choeur artefacts install`)."""
    from choeur.flows.validation import artefacts

    previous = artefacts.store_dir()
    artefacts.configure_store(tmp_path / "empty-store")
    yield
    artefacts.configure_store(previous)


def run_command(name: str, *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a management command run in this process."""
    import io

    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def corpus_invoices(path):
    """(container entry, parsed root, detection) of each invoice a corpus file holds that the engine can read."""
    from choeur.flows.validation import DEFAULT_LIMITS, container
    from choeur.flows.validation.detect import UnsupportedFormat, detect
    from choeur.flows.validation.xmlparse import XmlRejected, parse_xml

    for entry in container.extract(path.read_bytes(), filename=path.name, limits=DEFAULT_LIMITS):
        if entry.xml is None:
            continue
        try:
            root = parse_xml(entry.xml).root
            detection = detect(root)
        except (XmlRejected, UnsupportedFormat):
            continue
        yield entry, root, detection


@pytest.fixture
def no_native():
    """As an installation without the native EN 16931 modules: the official engine (or its fallback) judges."""
    from choeur.flows.validation import engines

    engines.use_native_module("UBL", None)
    engines.use_native_module("CII", None)
    yield
    engines.reset_native_cache()
