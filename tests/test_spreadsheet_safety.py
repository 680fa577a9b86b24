"""Text that a spreadsheet would run as a formula is neutralised in every CSV and XLSX the
site writes; numbers stay numbers."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from server.extensions import db
from server.importer.template import template_bytes
from server.models import Household, utcnow
from server.spreadsheet import FORMULA_STARTS, safe_cell
from tests.coverage_helpers import add_visit
from tests.test_exports import _csv_rows, _xlsx_rows

PAYLOADS = {
    "=": '=HYPERLINK("http://evil.example","点这里")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3",
    "@": "@SUM(1,1)",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}


def test_every_formula_start_is_covered():
    assert set(PAYLOADS) == set(FORMULA_STARTS)


@pytest.mark.parametrize("start", list(PAYLOADS))
def test_safe_cell_marks_formula_text_as_text(start):
    assert safe_cell(PAYLOADS[start]) == "'" + PAYLOADS[start]


@pytest.mark.parametrize("value", [-5, 0, 3.25, Decimal("-1.5"), None, "", "户主1", "a=b", "1-2"])
def test_safe_cell_leaves_numbers_and_plain_text_alone(value):
    assert safe_cell(value) == value
    assert type(safe_cell(value)) is type(value)


def _as_written(text: str) -> str:
    """XML readers turn a carriage return in a cell into a line feed; put it back."""
    return text.replace("\n", "\r")


def _households_named_with_payloads(world) -> None:
    for n, name in enumerate(PAYLOADS.values()):
        household = Household(code=f"F{n:04d}", village=world.chengzi, head_name=name, klass="D")
        db.session.add(household)
    db.session.commit()


def test_overdue_exports_neutralise_every_prefix_and_keep_numbers(world, login):
    _households_named_with_payloads(world)
    client = login("town_supervisor")
    xlsx = _xlsx_rows(client.get("/office/export/overdue.xlsx"))
    csv = _csv_rows(client.get("/office/export/overdue.csv"))
    for rows in (xlsx, csv):
        names = {_as_written(row[1]) for row in rows[1:]}
        assert {"'" + name for name in PAYLOADS.values()} <= names
        assert not names & set(PAYLOADS.values())


def test_visit_notes_are_neutralised_and_numbers_stay_numbers(world, login):
    for name in PAYLOADS.values():
        where = {"lat": -36.25, "lon": 118.0, "accuracy_m": 12.5}  # a negative number too
        add_visit(world.h_chengzi, world.users["chengzi_cadre"], utcnow(), notes=name, **where)
    client = login("town_supervisor")
    for fmt, read in (("xlsx", _xlsx_rows), ("csv", _csv_rows)):
        rows = read(client.get(f"/office/export/visits.{fmt}"))
        header = rows[0]
        notes = {_as_written(row[header.index("备注")]) for row in rows[1:]}
        assert notes == {"'" + name for name in PAYLOADS.values()}, fmt
        latitudes = {row[header.index("纬度")] for row in rows[1:]}
        assert latitudes == ({-36.25} if fmt == "xlsx" else {"-36.25"}), fmt


def test_the_import_template_writes_a_formula_town_name_as_text(app):
    workbook = load_workbook(io.BytesIO(template_bytes("=cmd|'/C calc'!A0")))
    cells = [cell for row in workbook["户籍"].iter_rows(min_row=2) for cell in row]
    town = [cell for cell in cells if isinstance(cell.value, str) and "cmd" in cell.value]
    assert town and all(cell.data_type == "s" and cell.value.startswith("'=") for cell in town)
    assert not any(cell.data_type == "f" for cell in cells)
