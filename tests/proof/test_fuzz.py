"""Time-bounded fuzzing (hypothesis): the XML parser, the detection and data extraction behind it, the
container reader (PDF, zip, tar, gzip) and the /cpro/ JSON bodies. No input crashes them: only the documented
refusals (XmlRejected, UnsupportedFormat, findings, a 4xx envelope) come out.

Bounded for CI (examples and a deadline per example); `PROOF_FUZZ_EXAMPLES` raises the bound (`make proof`)."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from choeur.flows.validation.container import extract
from choeur.flows.validation.detect import UnsupportedFormat, detect
from choeur.flows.validation.extract import extract_invoice_data
from choeur.flows.validation.limits import MIB, Limits
from choeur.flows.validation.xmlparse import XmlRejected, parse_xml
from tests.flows.fixtures import facturx_pdf, invoice_xml, tar_gz_of, zip_of

EXAMPLES = int(os.environ.get("PROOF_FUZZ_EXAMPLES", "120"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    database=None,
)
# Tight limits: a bomb found by the fuzzer stops at a few Mio, not at the production 200 Mio.
LIMITS = Limits(
    max_input_bytes=4 * MIB,
    max_xml_bytes=2 * MIB,
    max_pdf_stream_bytes=2 * MIB,
    max_archive_uncompressed_bytes=8 * MIB,
    max_archive_members=50,
)

UBL = invoice_xml(supplier_siret="40000001400011", buyer_siret="21690123100011")
CII = invoice_xml(supplier_siret="40000001400011", buyer_siret="21690123100011", syntax="CII")
SEEDS = {"ubl": UBL, "cii": CII}
CONTAINERS = {
    "zip": zip_of({"a.xml": UBL, "b.xml": CII}),
    "tar.gz": tar_gz_of({"a.xml": UBL}),
    "pdf": facturx_pdf(CII),
}
EXECUTIONS: dict[str, int] = {}


def mutated(seeds: dict[str, bytes]):
    """A seed with some bytes replaced, inserted or cut off: near-valid inputs reach deep into the readers."""

    @st.composite
    def strategy(draw):
        data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
        for _ in range(draw(st.integers(0, 8))):
            position = draw(st.integers(0, len(data) - 1))
            op = draw(st.sampled_from(("replace", "insert", "delete")))
            chunk = draw(st.binary(min_size=1, max_size=12) | st.sampled_from(HOSTILE_CHUNKS))
            if op == "replace":
                data[position : position + len(chunk)] = chunk
            elif op == "insert":
                data[position:position] = chunk
            else:
                del data[position : position + draw(st.integers(1, 64))]
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]
        return bytes(data)

    return strategy()


HOSTILE_CHUNKS = [
    b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
    b"&e;",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"<![CDATA[",
    b"]]>",
    b"</",
    b"<?xml version='1.0' encoding='UTF-16'?>",
    b"<?xml version='1.0' encoding='x-inconnu'?>",
    b"99999999999999999999999999.999999",
    b"-Infinity",
    b"NaN",
    b"\xc3\x28",
]


def _count(name):
    EXECUTIONS[name] = EXECUTIONS.get(name, 0) + 1


@BOUNDED
@given(data=st.binary(max_size=2048) | mutated(SEEDS))
def test_xml_parser_detection_and_extraction(data):
    _count("xml")
    try:
        parsed = parse_xml(data)
    except XmlRejected as refused:
        assert refused.finding.message  # a French message, never an empty refusal
        return
    try:
        detection = detect(parsed.root)
    except UnsupportedFormat as refused:
        assert refused.finding.message
        return
    extract_invoice_data(parsed.root, detection.syntax)


@BOUNDED
@given(data=st.binary(max_size=2048) | mutated(CONTAINERS) | mutated(SEEDS))
def test_container_reader(data):
    _count("container")
    candidates = extract(data, filename="depot.bin", limits=LIMITS)
    assert candidates, "le lecteur de conteneur n'a rien rendu"
    for candidate in candidates:
        assert candidate.xml is not None or candidate.findings, candidate
        for finding in candidate.findings:
            assert finding.message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=20,
)
CPRO_PATHS = (
    "factures/v1/rechercher/fournisseur",
    "factures/v1/rechercher/recipiendaire",
    "factures/v1/consulter/fournisseur",
    "structures/v1/rechercher",
    "structures/v1/consulter",
    "transverses/v1/rechercher/destinataire",
    "transverses/v1/consulterCR",
    "engagementsJuridiques/v1/rechercher",
    "facturesTravaux/v1/rechercher",
)


def _field_bodies():
    """Well-known field names with hostile values: the body schema is passed, the values must not crash."""
    names = (
        "idFacture",
        "idStructure",
        "idStructureCPP",
        "numeroFacture",
        "numeroFluxDepot",
        "montantTTC",
        "dateDepot",
        "pageResultatDemandee",
        "nbResultatsParPage",
        "typeIdentifiantStructure",
    )
    return st.dictionaries(
        st.sampled_from(names), JSON | st.sampled_from(["NaN", "1e999999", "\x00", "-0"]), max_size=4
    )


@pytest.mark.django_db
def test_cpro_json_bodies(client):
    from tests.proof.world import build_world

    world = build_world()
    headers = world.raccordements["attacker"].headers()

    @BOUNDED
    @given(path=st.sampled_from(CPRO_PATHS), body=JSON | _field_bodies(), raw=st.booleans())
    def call(path, body, raw):
        _count("cpro")
        data = json.dumps(body) if not raw else json.dumps(body)[:-1]  # half the time, truncated JSON
        response = client.post(f"/cpro/{path}", data=data, content_type="application/json", headers=headers)
        assert response.status_code < 500, (path, data, response.content[:300])
        if response.status_code >= 400:
            assert response["Content-Type"].startswith("application/json"), (path, data)

    call()


def test_report_executions(capsys):
    with capsys.disabled():
        total = sum(EXECUTIONS.values())
        print(f"\nFuzzing : {total} exécutions ({', '.join(f'{k} {v}' for k, v in sorted(EXECUTIONS.items()))})")
