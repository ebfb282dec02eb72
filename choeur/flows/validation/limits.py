"""Resource limits applied before and during extraction.

Every input is hostile until proven otherwise: each limit is checked *before* the expensive step it protects
(size before parsing, archive directory before extracting, pypdf decompression caps while reading a PDF).
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # One deposited file (XML, PDF or archive). Same order as CHOEUR_MAX_REQUEST_BYTES (160 MiB).
    max_input_bytes: int = 160 * MIB
    # One invoice XML once extracted. Chorus Pro and hosted validators cap an invoice at about 5 MB;
    # 20 MiB leaves room for invoices with a few thousand lines (≈ 10 s of BR-FR, see docs/validation.md).
    max_xml_bytes: int = 20 * MIB
    # pypdf: largest decompressed stream and largest declared /Length in a PDF.
    max_pdf_stream_bytes: int = 20 * MIB
    # Archives: Chorus Pro accepts at most 500 invoices per flow.
    max_archive_members: int = 500
    max_archive_uncompressed_bytes: int = 200 * MIB


DEFAULT_LIMITS = Limits()


def format_size(n: int) -> str:
    """French human-readable size (« 20 Mio »)."""
    if n >= MIB:
        value = n / MIB
        return f"{value:.0f} Mio" if value >= 10 or value == int(value) else f"{value:.1f} Mio".replace(".", ",")
    if n >= 1024:
        return f"{n / 1024:.0f} Kio"
    return f"{n} octets"
