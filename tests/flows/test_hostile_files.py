"""Hostile and broken inputs: each one is refused with a clear French finding, no exception escapes, and the
engine still validates the next (valid) invoice. Bombs are built here, never committed."""

import io
import stat
import struct
import tarfile
import zipfile

import pytest

from choeur.flows.validation import Limits, validate_bytes, validate_path
from tests.flows.conftest import facturx_pdf, fixture_bytes, pdf_bomb

MIB = 1024 * 1024
VALID_UBL = fixture_bytes("ubl_facture_b2g.xml")

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&secret;</ID></Invoice>"""

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)


def _zip(members: dict[str, bytes], *, symlinks: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            mode = stat.S_IFLNK | 0o777 if name in symlinks else stat.S_IFREG | 0o644
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _tar_gz(members: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


def _zip_declaring(size: int) -> bytes:
    """A tiny zip whose central directory claims a member of `size` bytes."""
    data = bytearray(_zip({"facture.xml": b"<a/>"}))
    header = data.index(b"PK\x01\x02")
    data[header + 24 : header + 28] = struct.pack("<I", size)  # uncompressed size
    return bytes(data)


def _zeros_zip(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("bombe.xml", "w") as handle:
            chunk = bytes(MIB)
            for _ in range(size // MIB):
                handle.write(chunk)
    return buffer.getvalue()


def _zeros_tar_gz(size: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        info = tarfile.TarInfo("bombe.xml")
        info.size = size
        archive.addfile(info, _Zeros(size))
    return buffer.getvalue()


class _Zeros(io.RawIOBase):
    """A file of zeros that is never materialised."""

    def __init__(self, size: int):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


CASES = {
    "xxe": (lambda: XXE, {}, "CHOEUR-XML-DOCTYPE", "DOCTYPE"),
    "billion_laughs": (lambda: BILLION_LAUGHS, {}, "CHOEUR-XML-ENTITES", "billion laughs"),
    "deep_nesting": (lambda: b"<a>" * 10_000 + b"</a>" * 10_000, {}, "CHOEUR-XML-PROFONDEUR", "profondeur"),
    "zip_declaring_3_gb": (lambda: _zip_declaring(3_000_000_000), {}, "CHOEUR-ARCHIVE-TAILLE", "bombe"),
    "zip_of_zeros": (
        lambda: _zeros_zip(32 * MIB),
        {"limits": Limits(max_archive_uncompressed_bytes=8 * MIB)},
        "CHOEUR-ARCHIVE-TAILLE",
        "8 Mio",
    ),
    "tar_gz_of_zeros": (
        lambda: _zeros_tar_gz(32 * MIB),
        {"limits": Limits(max_archive_uncompressed_bytes=8 * MIB)},
        "CHOEUR-ARCHIVE-TAILLE",
        "bombe",
    ),
    "pdf_bomb": (lambda: pdf_bomb(40 * MIB), {}, "CHOEUR-PDF-BOMBE", "20 Mio"),
    "zip_path_traversal": (lambda: _zip({"../evil.xml": VALID_UBL}), {}, "CHOEUR-ARCHIVE-CHEMIN", "../evil.xml"),
    "zip_absolute_path": (lambda: _zip({"/etc/evil.xml": VALID_UBL}), {}, "CHOEUR-ARCHIVE-CHEMIN", "/etc/evil.xml"),
    "zip_symlink": (
        lambda: _zip({"facture.xml": b"/etc/passwd"}, symlinks=("facture.xml",)),
        {},
        "CHOEUR-ARCHIVE-LIEN",
        "lien",
    ),
    "tar_gz_path_traversal": (lambda: _tar_gz({"../evil.xml": VALID_UBL}), {}, "CHOEUR-ARCHIVE-CHEMIN", "../evil.xml"),
    "tar_gz_absolute_path": (lambda: _tar_gz({"/tmp/evil.xml": VALID_UBL}), {}, "CHOEUR-ARCHIVE-CHEMIN", "/tmp/evil"),
    "tar_gz_symlink": (
        lambda: _tar_gz({"a.xml": VALID_UBL}, symlinks={"b.xml": "/etc/passwd"}),
        {},
        "CHOEUR-ARCHIVE-LIEN",
        "b.xml",
    ),
    "input_over_the_limit": (
        lambda: VALID_UBL,
        {"limits": Limits(max_input_bytes=1000)},
        "CHOEUR-TAILLE",
        "taille maximale",
    ),
    "xml_over_the_limit_in_a_zip": (
        lambda: _zip({"facture.xml": VALID_UBL}),
        {"limits": Limits(max_xml_bytes=1000)},
        "CHOEUR-TAILLE-XML",
        "facture.xml",
    ),
    "latin1_bytes_declared_utf8": (
        lambda: '<?xml version="1.0" encoding="UTF-8"?><Invoice>Café</Invoice>'.encode("latin-1"),
        {},
        "CHOEUR-XML-ENCODAGE",
        "UTF-8",
    ),
    "binary_garbage": (lambda: bytes(range(256)) * 4, {}, "CHOEUR-TYPE-FICHIER", "binaire"),
    "bom_then_garbage": (lambda: b"\xef\xbb\xbf<Invoice><ID>1</Invoice>", {}, "CHOEUR-XML-SYNTAXE", "bien formé"),
    "truncated_pdf": (
        lambda: facturx_pdf(VALID_UBL)[:700],
        {},
        "CHOEUR-PDF-ILLISIBLE",
        "tronqué",
    ),
    "encrypted_pdf": (lambda: facturx_pdf(VALID_UBL, password="secret"), {}, "CHOEUR-PDF-CHIFFRE", "chiffré"),
    "empty_file": (lambda: b"", {}, "CHOEUR-VIDE", "vide"),
    "blank_file": (lambda: b" \n\t ", {}, "CHOEUR-VIDE", "vide"),
    "not_an_invoice": (lambda: b"<html><body>Bonjour</body></html>", {}, "CHOEUR-FORMAT", "racine « html »"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_is_refused_and_the_next_file_validates(case):
    build, kwargs, rule, excerpt = CASES[case]
    reports = validate_bytes(build(), filename=f"{case}.bin", **kwargs)
    assert reports and not any(r.valid for r in reports)
    findings = [f for r in reports for f in r.findings if f.blocking]
    assert rule in [f.rule for f in findings], [(f.rule, f.message) for f in findings]
    finding = next(f for f in findings if f.rule == rule)
    assert excerpt in finding.message
    assert finding.message[0].isupper() and finding.layer
    # The engine is not left in a broken state.
    [after] = validate_bytes(VALID_UBL)
    assert after.valid, after.findings


def test_xxe_never_leaks_the_file():
    hostname = open("/etc/hostname").read().strip()
    [report] = validate_bytes(XXE)
    assert hostname not in repr(report.findings)
    assert report.invoice is None


def test_nested_archive_member_is_refused_but_its_siblings_are_checked():
    inner = _zip({"facture.xml": VALID_UBL})
    reports = validate_bytes(_zip({"lot.zip": inner, "facture.xml": VALID_UBL}))
    verdicts = {r.member: (r.valid, [f.rule for f in r.findings]) for r in reports}
    assert verdicts["lot.zip"] == (False, ["CHOEUR-ARCHIVE-IMBRIQUEE"])
    assert verdicts["facture.xml"] == (True, [])


def test_too_many_members_are_refused_before_extraction():
    members = {f"f{i}.xml": b"<a/>" for i in range(6)}
    [report] = validate_bytes(_zip(members), limits=Limits(max_archive_members=5))
    assert [f.rule for f in report.findings] == ["CHOEUR-ARCHIVE-MEMBRES"]
    assert "6 fichiers" in report.findings[0].message


def test_a_200_mb_file_is_refused_from_its_size_on_disk(tmp_path):
    path = tmp_path / "flux.xml"
    with open(path, "wb") as handle:
        handle.truncate(200 * MIB)  # sparse file: the test allocates nothing
    [report] = validate_path(path)
    assert not report.valid
    assert report.findings[0].rule == "CHOEUR-TAILLE"
    assert "200 Mio" in report.findings[0].message


def test_bom_and_non_utf8_encodings_are_decoded():
    # A BOM, UTF-16 or ISO-8859-1 are legitimate: the same invoice stays valid.
    text = VALID_UBL.decode("utf-8")
    latin1 = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    utf16 = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    for data in (b"\xef\xbb\xbf" + VALID_UBL, latin1, utf16):
        [report] = validate_bytes(data)
        assert report.valid, report.findings
        assert report.invoice.buyer.name == "Direction régionale de l'équipement"
