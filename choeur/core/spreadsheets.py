"""Cells that a spreadsheet will not run as formulas.

Supplier-controlled text (invoice numbers, engagement numbers, structure names…) ends up in the CSV and XLSX
exports that buyers open in Excel or LibreOffice. A text cell starting with `=`, `+`, `-`, `@` (or a tab / carriage
return that some importers strip first) is taken as a formula there: `=HYPERLINK(…)` becomes a link that leaks
data, `+1+2` a computation. Every export writes its text cells through these two functions.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def csv_text(value: str) -> str:
    """A text cell for CSV: prefixed with an apostrophe when a spreadsheet would read it as a formula.

    Only text goes through here: amounts and dates are formatted by the export itself and stay numbers."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def xlsx_cell(cell, value):
    """Put `value` in an openpyxl cell so that text is always text (openpyxl stores a `=…` string as a formula)."""
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
    return cell
