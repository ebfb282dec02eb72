from openpyxl import Workbook

from choeur.core.spreadsheets import csv_text, xlsx_cell


def test_csv_text_prefixes_every_formula_start():
    for value in ("=1+1", "+33 1 23", "-2", "@A1", "\t=1", "\r=1", "＝1+1"):
        assert csv_text(value) == "'" + value
    for value in ("FAC-2026-001", "Commune de Belair", "", "1=1"):
        assert csv_text(value) == value


def test_xlsx_cell_keeps_formula_text_as_a_string():
    sheet = Workbook().active
    assert xlsx_cell(sheet["A1"], '=HYPERLINK("x")').data_type == "s"
    assert xlsx_cell(sheet["A2"], "FAC-1").data_type == "s"
    assert xlsx_cell(sheet["A3"], 12).data_type == "n"
