"""Content-addressed storage of documents."""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import storages

from choeur.core.models import StoredFile

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"BZh", "application/x-bzip2"),
]


def sniff_mime(content: bytes) -> str:
    """The MIME type read from the bytes themselves (never trust the uploader's claim)."""
    head = content[:16]
    for signature, mime in _SIGNATURES:
        if head.startswith(signature):
            return mime
    stripped = content[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<"):
        lowered = stripped[:256].lower()
        if b"<svg" in lowered:
            return "image/svg+xml"
        if b"<html" in lowered or b"<!doctype html" in lowered:
            return "text/html"
        return "application/xml"
    try:
        content[:4096].decode("utf-8")
        return "text/plain"
    except UnicodeDecodeError:
        return "application/octet-stream"


def file_store(*, content: bytes, mime_type: str | None = None) -> StoredFile:
    """Store bytes under their SHA-256, once. Idempotent and safe under concurrent calls.

    The bytes are written first (content-addressed: writing the same name twice writes the same bytes), then
    the row is upserted in one statement (INSERT … ON CONFLICT (sha256) DO UPDATE … RETURNING): no read
    before, no savepoint around it — a flow stores two files per invoice, and that was 8 statements.
    """
    digest = hashlib.sha256(content).hexdigest()
    storage = storages["default"]
    name = f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    if not storage.exists(name):
        storage.save(name, ContentFile(content))
    row = StoredFile(sha256=digest, size=len(content), mime_type=mime_type or sniff_mime(content), storage_name=name)
    [stored] = StoredFile.objects.bulk_create(
        [row], update_conflicts=True, unique_fields=["sha256"], update_fields=["sha256"]
    )
    if stored.pk is None:  # a backend that cannot return the id of an upserted row
        return StoredFile.objects.get(sha256=digest)
    # Bytes stored before: same sha256, size, name and sniffed type; its `created_at` (and a type the first
    # caller forced) are the row's, read again by whoever reloads it.
    return stored
