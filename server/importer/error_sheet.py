"""The refused rows of an import job as an XLSX: the file's own rows, with a column saying
why. Every refused row is in it, however many: a household refused for one bad row brings
its other rows too, since none of them was imported."""

from collections import defaultdict
from io import BytesIO

from flask_babel import gettext
from openpyxl import Workbook
from sqlalchemy import select

from ..extensions import db
from ..models import ImportJob, ImportRowError
from ..spreadsheet import safe_cell
from .reading import find_header, rows_of, text_of


def error_rows(job: ImportJob) -> tuple[dict[int, list[str]], dict[str, int], list[str]]:
    """Messages by row; each refused household's first bad row; errors with no row."""
    by_row: dict[int, list[str]] = defaultdict(list)
    households: dict[str, int] = {}
    unplaced = []
    query = (
        select(ImportRowError.row, ImportRowError.household_code, ImportRowError.message)
        .where(ImportRowError.job_id == job.id)
        .order_by(ImportRowError.row, ImportRowError.id)
    )
    for row, code, message in db.session.execute(query):
        if row is None:
            unplaced.append(message)
            continue
        by_row[row].append(message)
        if code is not None:
            households.setdefault(code, row)
    return by_row, households, unplaced


def error_workbook(job: ImportJob) -> bytes:
    by_row, households, unplaced = error_rows(job)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(gettext("Refused rows"))
    with rows_of(job.file_data) as rows:
        header = find_header(rows)
        code_index = next(i for i, field in header.indexes.items() if field == "code")
        sheet.append([gettext("Row"), *map(_cell, header.cells), gettext("Why refused")])
        for number, cells in rows:
            code = text_of(cells[code_index]) if code_index < len(cells) else None
            reasons = by_row.get(number)
            if reasons is None and code in households:
                reasons = [
                    gettext(
                        "Not imported: row %(row)s of this household was refused.",
                        row=households[code],
                    )
                ]
            if reasons:
                sheet.append([number, *map(_cell, cells), "；".join(reasons)])
    for message in unplaced:
        sheet.append([None, *([None] * len(header.cells)), message])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)  # calamine reads whole numbers as floats
    return safe_cell(value)
