"""Reading an uploaded invoice for the « dépôt »: a Factur-X / ZUGFeRD PDF, a UBL 2.1 or CII XML, or a
plain PDF. The flows engine's hardened readers do the work (container, XML parser, detection, extraction),
so a file is read the same way whether it comes as a flow or through this form."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from choeur.flows.validation.container import KIND_PDF, KIND_XML, extract, sniff
from choeur.flows.validation.detect import UnsupportedFormat, detect
from choeur.flows.validation.extract import InvoiceData, extract_invoice_data
from choeur.flows.validation.limits import DEFAULT_LIMITS
from choeur.flows.validation.xmlparse import XmlRejected, parse_xml
from choeur.flows.worker import invoice_input

KIND_FACTURX = "facturx"
KIND_STRUCTURED_XML = "xml"
KIND_PLAIN_PDF = "pdf"


class UploadRefused(Exception):
    """The file cannot become an invoice; `message` says why, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Reading:
    kind: str  # KIND_FACTURX, KIND_STRUCTURED_XML or KIND_PLAIN_PDF
    data: InvoiceData | None = None
    xml: bytes | None = None
    profile: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def structured(self) -> bool:
        return self.data is not None

    def draft_data(self) -> dict:
        """The structured data as `drafting.invoice_draft_create_from_data` takes it (the mapping the flows
        engine uses, so both doors read a file identically)."""
        if self.data is None:
            return {}
        return invoice_input(self.data).as_dict()


def _read_xml(xml: bytes) -> tuple[InvoiceData, str]:
    parsed = parse_xml(xml)
    detection = detect(parsed.root)
    return extract_invoice_data(parsed.root, detection.syntax), f"{detection.syntax} {detection.profile_label}"


def _check_pdf_pages(content: bytes) -> None:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise UploadRefused("Le PDF est protégé par un mot de passe : déposez une version non chiffrée.")
        if len(reader.pages) == 0:
            raise UploadRefused("Le PDF ne contient aucune page : déposez le document de la facture.")
    except UploadRefused:
        raise
    except Exception:
        raise UploadRefused(
            "Le PDF est illisible ou endommagé : il n'a pas pu être ouvert. Exportez de nouveau la facture au "
            "format PDF depuis votre logiciel, puis déposez-la."
        ) from None


def read_upload(content: bytes) -> Reading:
    """What the uploaded bytes hold; UploadRefused (French) for a corrupt PDF or an XML that is no invoice."""
    kind = sniff(content)
    if kind == KIND_XML:
        try:
            data, profile = _read_xml(content)
        except (XmlRejected, UnsupportedFormat) as exc:
            raise UploadRefused(f"Ce fichier XML n'est pas une facture lisible : {exc.finding.message}") from None
        return Reading(kind=KIND_STRUCTURED_XML, data=data, xml=content, profile=profile)
    if kind == KIND_PDF:
        entry = extract(content, limits=DEFAULT_LIMITS)[0]
        rules = {finding.rule for finding in entry.findings}
        if entry.xml is None:
            if rules - {"CHOEUR-PDF-SANS-XML"}:
                blocking = next(f for f in entry.findings if f.rule != "CHOEUR-PDF-SANS-XML")
                raise UploadRefused(f"Le PDF n'a pas pu être lu : {blocking.message}")
            _check_pdf_pages(content)
            return Reading(kind=KIND_PLAIN_PDF)
        _check_pdf_pages(content)
        try:
            data, profile = _read_xml(entry.xml)
        except (XmlRejected, UnsupportedFormat) as exc:
            # The PDF itself is fine: keep it as a plain PDF and say why its data were not read.
            return Reading(
                kind=KIND_PLAIN_PDF,
                notes=[
                    f"Les données embarquées dans le PDF n'ont pas été reprises ({exc.finding.message}) : "
                    "complétez la facture à la main."
                ],
            )
        return Reading(kind=KIND_FACTURX, data=data, xml=entry.xml, profile=profile)
    raise UploadRefused(
        "Ce fichier n'est ni un PDF ni un XML : déposez la facture en PDF (simple ou Factur-X) ou en XML "
        "(UBL 2.1 ou CII)."
    )
