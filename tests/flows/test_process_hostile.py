"""Hostile files at the flow level: each ends IN_REJETE with a clear compte rendu, and the next flow is
processed normally (the validation engine's own tests cover the full list of attacks)."""

import io
import zipfile

import pytest

from choeur.flows.cr import consulter_cr_detaille
from choeur.flows.enums import FlowState
from tests.flows.fixtures import tar_gz_of
from tests.flows.flow_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&secret;</ID></Invoice>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<Invoice>&lol4;</Invoice>"""


def _zip_bomb() -> bytes:
    """A member of 300 MB of zeros, compressed to a few hundred kilobytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("facture.xml")
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as handle:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):
                handle.write(chunk)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (XXE, "xxe.xml"),
        (BILLION_LAUGHS, "rires.xml"),
        (_zip_bomb(), "bombe.zip"),
        (tar_gz_of({"../../etc/cron.d/facture.xml": b"<Invoice/>"}), "evasion.tar.gz"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image.xml"),
    ],
    ids=["xxe", "billion-laughs", "zip-bomb", "tar-path-traversal", "not-an-invoice"],
)
def test_hostile_flow_is_rejected_and_the_next_one_is_processed(deposit, make_xml, content, filename):
    hostile, _ = deposit(content, filename)
    assert hostile.state == FlowState.IN_REJETE
    cr = consulter_cr_detaille(hostile)
    assert cr["etatCourantDepotFlux"] == "IN_REJETE"
    assert cr["listeErreurTechnique"], "le compte rendu doit dire pourquoi le flux est refusé"
    for error in cr["listeErreurTechnique"]:
        assert error["libelleErreur"] and error["codeErreur"]
        assert "root:" not in error["libelleErreur"]  # nothing of /etc/passwd leaked into the report
    assert not hostile.items.filter(invoice__isnull=False).exists()

    following, _ = deposit(make_xml(number=f"APRES-{len(content)}"), "suivant.xml")
    assert following.state == FlowState.IN_INTEGRE
