import pytest

from choeur.core.files import file_store, sniff_mime

pytestmark = pytest.mark.django_db


def test_same_bytes_are_stored_once():
    a = file_store(content=b"%PDF-1.7 contenu")
    b = file_store(content=b"%PDF-1.7 contenu")
    assert a.pk == b.pk
    assert a.mime_type == "application/pdf"
    assert a.read() == b"%PDF-1.7 contenu"


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (b"\xef\xbb\xbf<?xml version='1.0'?><a/>", "application/xml"),
        (b"PK\x03\x04rest", "application/zip"),
        (b"\x00\x01\x02\xff\xfe", "application/octet-stream"),
        (b"bonjour", "text/plain"),
        (b"<!DOCTYPE html><html></html>", "text/html"),
    ],
)
def test_mime_is_sniffed_from_bytes(content, mime):
    assert sniff_mime(content) == mime
