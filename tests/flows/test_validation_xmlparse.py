"""Hardened XML parsing: DOCTYPEs refused, encodings honoured, Saxon only ever sees the root element."""

import pytest

from choeur.flows.validation.xmlparse import XmlRejected, parse_xml, serialise_root


def test_parses_utf8_with_and_without_bom():
    for data in (
        b"<r>\xc3\xa9t\xc3\xa9</r>",
        b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?><r>\xc3\xa9t\xc3\xa9</r>",
    ):
        parsed = parse_xml(data)
        assert parsed.root.text == "été"


def test_honours_the_declared_encoding():
    parsed = parse_xml('<?xml version="1.0" encoding="ISO-8859-1"?><r>Crème</r>'.encode("latin-1"))
    assert parsed.root.text == "Crème"
    assert parsed.encoding == "ISO-8859-1"


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b'<!DOCTYPE r SYSTEM "http://example.invalid/r.dtd"><r/>',
        b"<!DOCTYPE r><r/>",
    ],
)
def test_any_doctype_is_refused(data):
    with pytest.raises(XmlRejected) as error:
        parse_xml(data)
    assert error.value.finding.rule == "CHOEUR-XML-DOCTYPE"
    assert error.value.finding.severity == "fatal"
    assert error.value.finding.layer == "xml"


def test_invalid_bytes_for_the_encoding_say_which_line():
    with pytest.raises(XmlRejected) as error:
        parse_xml(b'<?xml version="1.0" encoding="UTF-8"?>\n<r>\n\xe9t\xe9</r>')
    finding = error.value.finding
    assert finding.rule == "CHOEUR-XML-ENCODAGE"
    assert "ligne 3" in finding.message and finding.location == "ligne 3"
    assert "UTF-8" in finding.message


def test_malformed_xml_is_explained():
    with pytest.raises(XmlRejected) as error:
        parse_xml(b"<r><a></r>")
    assert error.value.finding.rule == "CHOEUR-XML-SYNTAXE"
    assert "bien formé" in error.value.finding.message


def test_serialised_root_carries_no_declaration_nor_doctype():
    parsed = parse_xml(b'<?xml version="1.0" encoding="ISO-8859-1"?><r a="1"><b>\xe9</b></r>')
    text = serialise_root(parsed.root)
    assert text == '<r a="1"><b>é</b></r>'
