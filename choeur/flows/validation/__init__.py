"""Validation engine for e-invoices: a database-free library (see docs/validation.md).

    from choeur.flows.validation import validate_bytes
    for report in validate_bytes(data, filename="facture.xml", rules="fr"):
        report.valid, report.syntax, report.profile, report.findings, report.invoice

Importing this package compiles nothing: the XSDs and XSLTs are loaded on the first validation (or by
`warm_up()` at worker start, after forking).
"""

from choeur.flows.validation.detect import (
    SYNTAXES_FLUX,
    UNSUPPORTED_SYNTAXES_FLUX,
    Detection,
    check_syntaxe_flux,
    detect,
    detect_syntaxe_flux,
)
from choeur.flows.validation.extract import InvoiceData, Line, Party, Totals, VatBreakdown, extract_invoice_data
from choeur.flows.validation.limits import DEFAULT_LIMITS, Limits
from choeur.flows.validation.pipeline import RULES, validate_bytes, validate_path, warm_up
from choeur.flows.validation.report import DocumentReport, Finding, RuleSetInfo

__all__ = [
    "DEFAULT_LIMITS",
    "RULES",
    "SYNTAXES_FLUX",
    "UNSUPPORTED_SYNTAXES_FLUX",
    "Detection",
    "DocumentReport",
    "Finding",
    "InvoiceData",
    "Limits",
    "Line",
    "Party",
    "RuleSetInfo",
    "Totals",
    "VatBreakdown",
    "check_syntaxe_flux",
    "detect",
    "detect_syntaxe_flux",
    "extract_invoice_data",
    "validate_bytes",
    "validate_path",
    "warm_up",
]
