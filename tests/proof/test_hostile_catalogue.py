"""The hostile-input catalogue, built by the tests (nothing hostile is committed), sent through the three doors a
file comes in by: the portal upload, the native flow deposit (/api/v1/flows) and the Chorus one
(/cpro/factures/v1/deposer/flux). Each case is refused with a French message — at the door, or as a rejected
flow whose compte rendu says why — no invoice comes out of it, and a valid flow deposited afterwards through
the same door is integrated (the worker is alive). JSON nested 100,000 deep and oversize bodies go to both APIs.

The engine-level cases (tests/flows/test_hostile_files.py) are reused here, not rewritten; the count of cases
tried is printed for the closing note."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from choeur.flows.enums import FlowState
from choeur.flows.models import Flow
from choeur.invoices.models import Invoice
from tests.api.conftest import make_raccordement
from tests.api.native_client import ALL_SCOPES
from tests.flows.factories import buyer_structure, subscribe, supplier_structure
from tests.flows.fixtures import invoice_xml, tar_gz_of
from tests.flows.test_hostile_files import BILLION_LAUGHS, CASES, XXE, _zip

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024


def _zip_bomb(size: int = 256 * MIB) -> bytes:
    """`size` bytes of zeros, compressed to a few hundred kilobytes (never materialised here)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        info = zipfile.ZipInfo("facture.xml")
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as handle:
            chunk = bytes(MIB)
            for _ in range(size // MIB):
                handle.write(chunk)
    return buffer.getvalue()


def _xxe_in_facturx() -> bytes:
    """A PDF whose embedded factur-x.xml declares an external entity."""
    from pypdf import PdfWriter

    hostile = (
        b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
        b"<rsm:CrossIndustryInvoice xmlns:rsm='urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100'>"
        b"&secret;</rsm:CrossIndustryInvoice>"
    )
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("factur-x.xml", hostile)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# Engine cases that need no tightened limits, plus what only the doors can show.
CATALOGUE = {name: build for name, (build, kwargs, _rule, _excerpt) in CASES.items() if not kwargs}
CATALOGUE |= {
    "xxe_ubl_de_l_etape_flux": lambda: XXE,
    "billion_laughs_4_niveaux": lambda: BILLION_LAUGHS,
    "xxe_dans_un_pdf_facturx": _xxe_in_facturx,
    "bombe_zip_256_mio": _zip_bomb,
    "zip_slip_antislash": lambda: _zip({"..\\..\\evil.xml": b"<a/>"}),
    "tar_evasion_cron": lambda: tar_gz_of({"../../etc/cron.d/facture.xml": b"<Invoice/>"}),
    "utf16_declare_sans_bom": lambda: b'<?xml version="1.0" encoding="UTF-16"?><Invoice/>',
    "encodage_inconnu": lambda: b'<?xml version="1.0" encoding="x-klingon"?><Invoice/>',
    "image_nommee_xml": lambda: b"\x89PNG\r\n\x1a\n" + bytes(100),
}
HOSTILE_NAMES = ("../../etc/passwd.xml", "..\\..\\windows\\facture.xml", "/etc/cron.d/f.xml", "f\x00.xml")


@pytest.fixture
def doors(client, django_capture_on_commit_callbacks):
    supplier = supplier_structure(raison_sociale="Atelier Catalogue")
    buyer = buyer_structure(raison_sociale="Commune du Catalogue")
    from tests.accounts.factories import UserFactory

    user = UserFactory()
    subscribe(user, supplier)
    rac = make_raccordement(supplier, name="catalogue")
    from tests.api.conftest import issue_token

    token = issue_token(rac.client, token="jeton-natif-catalogue", scope=ALL_SCOPES)

    def portal(content, name):
        client.force_login(user)
        data = {"structure": supplier.pk, "fichier": SimpleUploadedFile(name, content)}
        return client.post(reverse("portal:flow_deposit"), data)

    def native(content, name):
        file = SimpleUploadedFile(name, content, "application/octet-stream")
        return client.post("/api/v1/flows", {"file": file}, headers={"Authorization": f"Bearer {token}"})

    def cpro(content, name):
        body = {
            "fichierFlux": base64.b64encode(content).decode(),
            "nomFichier": name,
            "syntaxeFlux": "IN_DP_E1_UBL_INVOICE",
            "avecSignature": False,
        }
        return client.post(
            "/cpro/factures/v1/deposer/flux", body, content_type="application/json", headers=rac.headers()
        )

    def send(door, content, name):
        with django_capture_on_commit_callbacks(execute=True):
            response = {"portal": portal, "native": native, "cpro": cpro}[door](content, name)
        # The same bytes deposited twice are the same flow (idempotent deposit): find it by its fingerprint.
        return response, list(Flow.objects.filter(structure=supplier, sha256=hashlib.sha256(content).hexdigest()))

    valid = lambda n: invoice_xml(supplier_siret=supplier.identifier, buyer_siret=buyer.identifier, number=n)  # noqa: E731
    return {"send": send, "valid": valid, "rac": rac, "token": token, "supplier": supplier}


def _refused(response, flows) -> str | None:
    """None when the input was refused as it must be; otherwise what went wrong."""
    if response.status_code >= 500:
        return f"{response.status_code} (erreur serveur)"
    if not flows:
        text = response.content.decode(errors="replace")
        if response.status_code < 400 and response.status_code != 200:
            return None if response.status_code in (302, 303) else f"{response.status_code} sans flux"
        return (
            None
            if any(c in text for c in "éèàç") or "fichier" in text.lower()
            else f"refus sans message : {text[:200]}"
        )
    for flow in flows:
        flow.refresh_from_db()
        if flow.state != FlowState.IN_REJETE:
            return f"flux {flow.numero_flux_depot} en {flow.state}"
        from choeur.flows.cr import consulter_cr_detaille

        cr = consulter_cr_detaille(flow)
        reasons = [e["libelleErreur"] for e in cr["listeErreurTechnique"]]
        reasons += [e["libelleErreurDP"] for e in cr["listeErreurDP"]]
        if not reasons or not all(reasons):
            return "compte rendu sans motif"
        if any("root:" in reason for reason in reasons):
            return "le compte rendu laisse fuir /etc/passwd"
    return None


@pytest.mark.parametrize("door", ["portal", "native", "cpro"])
def test_every_hostile_input_is_refused_at_each_door(doors, door, capsys):
    invoices_before = Invoice.objects.count()
    wrong, tried = [], 0
    for name, build in sorted(CATALOGUE.items()):
        for filename in (f"{name}.xml", HOSTILE_NAMES[tried % len(HOSTILE_NAMES)]):
            response, flows = doors["send"](door, build(), filename)
            tried += 1
            verdict = _refused(response, flows)
            if verdict:
                wrong.append(f"{door} / {name} ({filename!r}) : {verdict}")
    assert not wrong, "\n".join(wrong)
    assert Invoice.objects.count() == invoices_before, "une entrée hostile a produit une facture"
    # The worker is alive: the next valid flow through the same door is integrated.
    response, [flow] = doors["send"](door, doors["valid"](f"APRES-{door}"), "suivant.xml")
    flow.refresh_from_db()
    assert flow.state == FlowState.IN_INTEGRE, (response.status_code, flow.state)
    with capsys.disabled():
        print(f"\nCatalogue hostile ({door}) : {len(CATALOGUE)} cas, {tried} dépôts refusés")


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("api", ["native", "cpro"])
def test_json_nested_100000_deep_and_oversize_bodies(doors, client, api, capsys):
    if api == "cpro":
        url, headers = "/cpro/structures/v1/rechercher", doors["rac"].headers()
    else:
        url, headers = "/api/v1/flows/base64", {"Authorization": f"Bearer {doors['token']}"}
    deep = client.post(url, _nested(100_000), content_type="application/json", headers=headers)
    assert 400 <= deep.status_code < 500, (deep.status_code, deep.content[:300])
    # Above the deposit limit (CHOEUR_FLOW_MAX_BYTES + base64) for the native deposit, above 2 Mio for /cpro/.
    claimed = 250 * MIB if api == "native" else 150 * MIB
    oversize = client.generic(
        "POST", url, b"{}", content_type="application/json", headers=headers, CONTENT_LENGTH=str(claimed)
    )
    assert oversize.status_code == 413, oversize.content[:300]
    text = (deep.content + oversize.content).decode()
    assert "é" in text or "octets" in text, text[:300]
    with capsys.disabled():
        print(f"\nCorps hostiles ({api}) : JSON à 100 000 niveaux → {deep.status_code}, {claimed // MIB} Mio → 413")
