"""Container layer: from the deposited bytes to the invoice XML documents they hold.

* bare XML → one document;
* PDF (Factur-X / ZUGFeRD 2 / XRechnung) → the embedded `factur-x.xml` (or `zugferd-invoice.xml`,
  `xrechnung.xml`), read with pypdf under tightened limits: encrypted PDFs refused, decompression bombs stopped
  by pypdf's `LimitReachedError`, truncated or corrupt PDFs reported;
* zip, tar, tar.gz → each member, after checking the archive's directory *before* extracting anything
  (member count, total uncompressed size, no absolute path, no `..`, no link or special file) — a nested
  archive is refused.

Nothing here raises on hostile input: every problem becomes a French finding.
"""

from __future__ import annotations

import io
import posixpath
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field

from choeur.flows.validation.limits import Limits, format_size
from choeur.flows.validation.messages import pipeline_message
from choeur.flows.validation.report import LAYER_CONTAINER, LAYER_TRANSPORT, Finding

# Names of the invoice XML embedded in a PDF, in order of preference (Factur-X, ZUGFeRD 2.x, XRechnung).
EMBEDDED_XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")

KIND_XML = "xml"
KIND_PDF = "pdf"
KIND_ZIP = "zip"
KIND_TAR = "tar"
KIND_GZIP = "gzip"
KIND_EMPTY = "empty"
KIND_UNKNOWN = "unknown"


@dataclass
class Extracted:
    """One invoice candidate: its XML bytes, or the findings that stopped its extraction."""

    name: str  # member name inside the container ("" for a bare XML)
    container: str  # KIND_XML or KIND_PDF: what directly holds the XML
    archive: str | None = None  # KIND_ZIP / KIND_TAR when it came out of an archive
    xml: bytes | None = None
    findings: list[Finding] = field(default_factory=list)


def sniff(data: bytes) -> str:
    if not data.strip():
        return KIND_EMPTY
    head = data[:1024]
    if head.startswith(b"%PDF-") or b"%PDF-" in head:  # PDF readers accept garbage before the header
        return KIND_PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return KIND_ZIP
    if head.startswith(b"\x1f\x8b"):
        return KIND_GZIP
    if len(data) > 262 and data[257:262] == b"ustar":
        return KIND_TAR
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return KIND_XML
    return KIND_UNKNOWN


def _finding(
    rule: str, *, layer: str = LAYER_CONTAINER, severity: str = "fatal", location: str = "", **params
) -> Finding:
    return Finding(
        rule=rule, severity=severity, message=pipeline_message(rule, **params), location=location, layer=layer
    )


def extract(data: bytes, *, filename: str = "", limits: Limits) -> list[Extracted]:
    """The invoice XML documents held by `data` (at least one entry, possibly carrying only findings)."""
    if len(data) > limits.max_input_bytes:
        return [
            Extracted(
                name="",
                container=KIND_XML,
                findings=[
                    _finding(
                        "CHOEUR-TAILLE",
                        layer=LAYER_TRANSPORT,
                        size=format_size(len(data)),
                        limit=format_size(limits.max_input_bytes),
                    )
                ],
            )
        ]
    kind = sniff(data)
    if kind == KIND_EMPTY:
        return [Extracted(name="", container=KIND_XML, findings=[_finding("CHOEUR-VIDE", layer=LAYER_TRANSPORT)])]
    if kind == KIND_XML:
        return [Extracted(name="", container=KIND_XML, xml=data)]
    if kind == KIND_PDF:
        return [_extract_pdf(data, name="", limits=limits)]
    if kind in (KIND_ZIP, KIND_TAR, KIND_GZIP):
        return _extract_archive(data, kind, limits=limits)
    return [
        Extracted(
            name="",
            container=KIND_XML,
            findings=[_finding("CHOEUR-TYPE-FICHIER", layer=LAYER_TRANSPORT, detail=_describe_unknown(data))],
        )
    ]


def _describe_unknown(data: bytes) -> str:
    head = data[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "document Office ancien format"
    if head[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"GIF8"):
        return "image"
    if head.startswith(b"Rar!"):
        return "archive RAR"
    if head.startswith(b"7z\xbc\xaf"):
        return "archive 7-Zip"
    try:
        data[:256].decode("utf-8")
        return "texte qui ne commence pas par une balise XML"
    except UnicodeDecodeError:
        return "fichier binaire"


# --- PDF -----------------------------------------------------------------------------------------------------


def _extract_pdf(data: bytes, *, name: str, limits: Limits, archive: str | None = None) -> Extracted:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    entry = Extracted(name=name, container=KIND_PDF, archive=archive)
    cap = limits.max_pdf_stream_bytes
    try:
        with apply_configuration(
            maximum_declared_stream_length=cap,
            array_based_stream_maximum_output_length=cap,
            zlib_maximum_output_length=cap,
            lzw_maximum_output_length=cap,
            run_length_maximum_output_length=cap,
            brotli_maximum_output_length=cap,
            jbig2_maximum_output_length=cap,
            image_maximum_buffer_size=cap,
            stream_decoding_work_maximum_length=4 * cap,
            xmp_maximum_input_length=min(cap, 5_000_000),
            # Never run an external jbig2dec on untrusted input.
            jbig2dec_binary=None,
        ):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                entry.findings.append(_finding("CHOEUR-PDF-CHIFFRE"))
                return entry
            candidates = []
            for attachment in reader.attachment_list:
                attachment_name = attachment.name or ""
                if attachment_name.lower().endswith(".xml"):
                    candidates.append(attachment)
            if not candidates:
                entry.findings.append(_finding("CHOEUR-PDF-SANS-XML"))
                return entry
            chosen = _choose_embedded(candidates)
            xml = chosen.content
            entry.name = _join(name, chosen.name)
    except LimitReachedError as exc:
        entry.findings.append(_finding("CHOEUR-PDF-BOMBE", limit=format_size(cap), detail=str(exc)[:200]))
        return entry
    except RecursionError:
        entry.findings.append(_finding("CHOEUR-PDF-ILLISIBLE", detail="structure d'objets récursive"))
        return entry
    except Exception as exc:  # pypdf raises many types on corrupt input (PdfReadError, ValueError, KeyError…)
        entry.findings.append(_finding("CHOEUR-PDF-ILLISIBLE", detail=_pdf_detail(exc)))
        return entry
    lowered = chosen.name.lower()
    if lowered not in EMBEDDED_XML_NAMES:
        entry.findings.append(_finding("CHOEUR-PDF-NOM-XML", severity="warning", name=chosen.name))
    invoice_names = [c.name for c in candidates if c.name.lower() in EMBEDDED_XML_NAMES]
    if len(invoice_names) > 1:
        entry.findings.append(
            _finding("CHOEUR-PDF-PLUSIEURS-XML", severity="warning", names=", ".join(invoice_names), name=chosen.name)
        )
    entry.xml = xml
    return entry


def _choose_embedded(candidates):
    for wanted in EMBEDDED_XML_NAMES:
        for candidate in candidates:
            if candidate.name.lower() == wanted:
                return candidate
    return candidates[0]


def _pdf_detail(exc: Exception) -> str:
    text = str(exc).strip()
    if not text:
        return exc.__class__.__name__
    return text.splitlines()[0][:200]


def _join(container_name: str, member: str) -> str:
    return f"{container_name}/{member}" if container_name else member


# --- Archives ------------------------------------------------------------------------------------------------


def _unsafe_path(name: str) -> bool:
    if not name or "\x00" in name:
        return True
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        return True
    return ".." in normalised.split("/")


def _skippable(name: str) -> bool:
    """macOS resource forks and folder metadata are not invoices and not worth an error."""
    base = posixpath.basename(name.rstrip("/"))
    return name.startswith("__MACOSX/") or base.startswith("._") or base in (".DS_Store", "Thumbs.db")


def _archive_failure(rule: str, archive: str, **params) -> list[Extracted]:
    return [Extracted(name="", container=KIND_XML, archive=archive, findings=[_finding(rule, **params)])]


def _gunzip(data: bytes, cap: int) -> bytes:
    """Decompress a gzip stream without ever holding more than `cap` + 1 bytes of output."""
    out = bytearray()
    remaining = data
    while remaining:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = remaining
        while chunk:
            out += decompressor.decompress(chunk, cap + 1 - len(out))
            if len(out) > cap:
                raise OverflowError
            chunk = decompressor.unconsumed_tail
        if not decompressor.eof:
            raise zlib.error("flux gzip tronqué")
        remaining = decompressor.unused_data  # concatenated gzip members
        if remaining and not remaining.strip(b"\x00"):
            break
    return bytes(out)


def _extract_archive(data: bytes, kind: str, *, limits: Limits) -> list[Extracted]:
    archive = KIND_ZIP if kind == KIND_ZIP else KIND_TAR
    if kind == KIND_ZIP:
        return _extract_zip(data, limits=limits)
    if kind == KIND_GZIP:
        try:
            # A tar.gz has no directory: bound the decompression itself (plus tar headers overhead).
            data = _gunzip(data, limits.max_archive_uncompressed_bytes + 512 * (limits.max_archive_members + 2))
        except OverflowError:
            return _archive_failure(
                "CHOEUR-ARCHIVE-TAILLE", archive, limit=format_size(limits.max_archive_uncompressed_bytes)
            )
        except zlib.error as exc:
            return _archive_failure("CHOEUR-ARCHIVE-ILLISIBLE", archive, detail=f"gzip : {exc}")
        inner = sniff(data)
        if inner != KIND_TAR:
            # A gzip of a single file (invoice.xml.gz) rather than a tar: accept the file itself.
            if inner in (KIND_XML, KIND_PDF):
                return _member(data, "", archive="gzip", limits=limits)
            return _archive_failure(
                "CHOEUR-ARCHIVE-ILLISIBLE", archive, detail="le contenu gzip n'est pas une archive tar"
            )
    return _extract_tar(data, limits=limits)


def _extract_zip(data: bytes, *, limits: Limits) -> list[Extracted]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        return _archive_failure("CHOEUR-ARCHIVE-ILLISIBLE", KIND_ZIP, detail=str(exc)[:200])
    files = [i for i in infos if not i.is_dir() and not _skippable(i.filename)]
    # Directory checks, all before extracting a single byte.
    for info in infos:
        if _unsafe_path(info.filename):
            return _archive_failure("CHOEUR-ARCHIVE-CHEMIN", KIND_ZIP, name=info.filename)
        # Unix file type bits, when the archiver recorded them (Python's writestr leaves them at 0).
        file_type = stat.S_IFMT(info.external_attr >> 16)
        if info.create_system == 3 and file_type and file_type not in (stat.S_IFREG, stat.S_IFDIR):
            return _archive_failure("CHOEUR-ARCHIVE-LIEN", KIND_ZIP, name=info.filename)
    if not files:
        return _archive_failure("CHOEUR-ARCHIVE-VIDE", KIND_ZIP)
    if len(files) > limits.max_archive_members:
        return _archive_failure("CHOEUR-ARCHIVE-MEMBRES", KIND_ZIP, count=len(files), limit=limits.max_archive_members)
    if sum(i.file_size for i in files) > limits.max_archive_uncompressed_bytes:
        return _archive_failure(
            "CHOEUR-ARCHIVE-TAILLE", KIND_ZIP, limit=format_size(limits.max_archive_uncompressed_bytes)
        )
    entries: list[Extracted] = []
    budget = limits.max_archive_uncompressed_bytes
    for info in files:
        if info.flag_bits & 0x1:
            entries.append(_rejected_member(info.filename, KIND_ZIP, "CHOEUR-ARCHIVE-CHIFFREE"))
            continue
        try:
            content = _read_bounded(archive.open(info), min(info.file_size, budget))
        except OverflowError:
            # The member inflates beyond what its header declared: a forged header, treat as a bomb.
            return _archive_failure(
                "CHOEUR-ARCHIVE-TAILLE", KIND_ZIP, limit=format_size(limits.max_archive_uncompressed_bytes)
            )
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, zlib.error) as exc:
            entries.append(
                Extracted(
                    name=info.filename,
                    container=KIND_XML,
                    archive=KIND_ZIP,
                    findings=[_finding("CHOEUR-ARCHIVE-ILLISIBLE", detail=f"{info.filename} : {exc}"[:200])],
                )
            )
            continue
        budget -= len(content)
        entries.extend(_member(content, info.filename, archive=KIND_ZIP, limits=limits))
    return entries


def _read_bounded(handle, size: int) -> bytes:
    with handle:
        content = handle.read(size + 1)
    if len(content) > size:
        raise OverflowError
    return content


def _extract_tar(data: bytes, *, limits: Limits) -> list[Extracted]:
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
        members = archive.getmembers()
    except (tarfile.TarError, OSError, ValueError, EOFError) as exc:
        return _archive_failure("CHOEUR-ARCHIVE-ILLISIBLE", KIND_TAR, detail=str(exc)[:200])
    for member in members:
        if _unsafe_path(member.name):
            return _archive_failure("CHOEUR-ARCHIVE-CHEMIN", KIND_TAR, name=member.name)
        if not (member.isfile() or member.isdir()):
            return _archive_failure("CHOEUR-ARCHIVE-LIEN", KIND_TAR, name=member.name)
    files = [m for m in members if m.isfile() and not _skippable(m.name)]
    if not files:
        return _archive_failure("CHOEUR-ARCHIVE-VIDE", KIND_TAR)
    if len(files) > limits.max_archive_members:
        return _archive_failure("CHOEUR-ARCHIVE-MEMBRES", KIND_TAR, count=len(files), limit=limits.max_archive_members)
    if sum(m.size for m in files) > limits.max_archive_uncompressed_bytes:
        return _archive_failure(
            "CHOEUR-ARCHIVE-TAILLE", KIND_TAR, limit=format_size(limits.max_archive_uncompressed_bytes)
        )
    entries: list[Extracted] = []
    for member in files:
        handle = archive.extractfile(member)
        content = handle.read(member.size) if handle is not None else b""
        entries.extend(_member(content, member.name, archive=KIND_TAR, limits=limits))
    return entries


def _rejected_member(name: str, archive: str, rule: str) -> Extracted:
    return Extracted(name=name, container=KIND_XML, archive=archive, findings=[_finding(rule, name=name)])


def _member(content: bytes, name: str, *, archive: str, limits: Limits) -> list[Extracted]:
    kind = sniff(content)
    if kind == KIND_XML:
        return [Extracted(name=name, container=KIND_XML, archive=archive, xml=content)]
    if kind == KIND_PDF:
        return [_extract_pdf(content, name=name, limits=limits, archive=archive)]
    if kind in (KIND_ZIP, KIND_TAR, KIND_GZIP):
        return [_rejected_member(name, archive, "CHOEUR-ARCHIVE-IMBRIQUEE")]
    if kind == KIND_EMPTY:
        return [Extracted(name=name, container=KIND_XML, archive=archive, findings=[_finding("CHOEUR-VIDE")])]
    return [
        Extracted(
            name=name,
            container=KIND_XML,
            archive=archive,
            findings=[_finding("CHOEUR-TYPE-FICHIER", detail=f"{name} : {_describe_unknown(content)}")],
        )
    ]
