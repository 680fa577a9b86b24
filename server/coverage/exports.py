"""Exports of the coverage table, the overdue list and the visits with their crops, as CSV
(UTF-8 with a BOM, so Excel reads the Chinese) or XLSX, streamed so a county's data leaves
without the request timing out."""

import csv
import io
import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import selectinload

from ..codes import SITUATION_KEYS
from ..extensions import db
from ..models import KLASSES, Assignment, CropRecord, Household, User, Visit
from ..models import utcnow as now
from ..spreadsheet import safe_cell
from . import labels, stats
from .periods import local_zone

BATCH = 5000
CHUNK = 256 * 1024
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _local(moment, zone=None) -> str:
    if moment is None:
        return ""
    t = moment.astimezone(zone or local_zone())
    return f"{t.year}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"  # strftime is slower


def _percent(cell: stats.Cell):
    return round(cell.coverage * 100, 1) if cell.coverage is not None else ""


# --- rows --------------------------------------------------------------------------------


def coverage_rows(scope, period) -> Iterator[list]:
    yield [_("Town"), _("Village"), _("Class"), _("Households"), _("Visited"), _("Overdue"),
           _("Coverage %")]  # fmt: skip
    for grid in stats.grids(scope, period, now()):
        for row in grid.rows:
            for klass in KLASSES:
                cell = row.cells[klass]
                yield [grid.town.name, row.village.name, klass, cell.households, cell.visited,
                       cell.overdue, _percent(cell)]  # fmt: skip
        total = grid.total
        yield [grid.town.name, _("Total"), "", total.households, total.visited, total.overdue,
               _percent(total)]  # fmt: skip


def overdue_rows(scope, period, klass) -> Iterator[list]:
    yield [_("Household code"), _("Head of household"), _("Village"), _("Class"), _("Phone"),
           _("Last visit"), _("Days since last visit"), _("Cadres")]  # fmt: skip
    judged = period.moment(now())
    query = stats.overdue_query(scope, period, now(), klass=klass).options(
        selectinload(Household.village),
        selectinload(Household.assignments).selectinload(Assignment.cadre),
    )
    after = None
    while True:
        batch = db.session.scalars(stats.village_order(query, after).limit(BATCH)).all()
        lasts = stats.last_visits_before([h.id for h in batch], judged)
        for household in batch:
            last = lasts.get(household.id)
            yield [household.code, household.head_name, household.village.name,
                   household.klass, household.phone or "", _local(last),
                   (judged - last).days if last else "",
                   "、".join(c.display_name for c in household.cadres)]  # fmt: skip
        if len(batch) < BATCH:
            return
        after = (batch[-1].village_id, batch[-1].id)
        db.session.expunge_all()


def N_(message: str) -> str:
    """Marks a string for the catalog; it is translated where it is used."""
    return message


VISIT_HEADER = (N_("Visit time"), N_("Received"), N_("Village"), N_("Household code"),
                N_("Head of household"), N_("Class now"), N_("Cadre"), N_("Latitude"),
                N_("Longitude"), N_("Accuracy (m)"), N_("Situation changes"),
                N_("Sudden event"), N_("Notes"), N_("Needs"), N_("Follow-up"), N_("Crop"),
                N_("Area (mu)"), N_("Plants"), N_("Yield (kg)"), N_("Expected income (yuan)"),
                N_("Season"))  # fmt: skip


VISIT_COLUMNS = (
    Visit.id,
    Visit.visited_at,
    Visit.received_at,
    Household.village_id,
    Household.code,
    Household.head_name,
    Household.klass,
    User.display_name,
    Visit.lat,
    Visit.lon,
    Visit.accuracy_m,
    cast(Visit.situation, Text).label("situation"),  # its words are cached by the text
    Visit.sudden_event,
    Visit.notes,
    Visit.needs,
    Visit.follow_up,
)
CROP_COLUMNS = (
    CropRecord.visit_id,
    CropRecord.crop,
    CropRecord.crop_name,
    CropRecord.area_mu,
    CropRecord.plants,
    CropRecord.yield_kg,
    CropRecord.expected_income_fen,
    CropRecord.season_year,
)


# A window of the period is read whole, sorted by the database, so no batch re-reads what an
# earlier one did. Windows hold about this many households' month of visits: a town's month
# in one, a county's month in four.
WINDOW_HOUSEHOLDS = 15_000


def visit_rows(scope, period) -> Iterator[list]:
    """A row per visit and crop (a visit without crops keeps one row), oldest first. Plain
    column rows, not ORM objects: this is the export that must handle a county."""
    yield [_(name) for name in VISIT_HEADER]
    query = (
        select(*VISIT_COLUMNS)
        .join(Household, Household.id == Visit.household_id)
        .join(User, User.id == Visit.cadre_id)
        .where(scope.visible())
        .order_by(Visit.visited_at, Visit.id)
    )
    villages = {v.id: v.name for v in scope.villages}
    zone, words = local_zone(), Words()
    # Core execution: plain rows, none of the ORM's per-row bookkeeping.
    connection = db.session.connection()
    households = connection.execute(select(func.count()).where(scope.visible())).scalar()
    for start, end in _windows(period, households):
        window = connection.execute(
            query.where(Visit.visited_at >= start, Visit.visited_at < end)
        ).all()
        for first in range(0, len(window), BATCH):
            batch = window[first : first + BATCH]
            crops = _crops_for([row.id for row in batch])
            for row in batch:
                base = _visit_cells(row, villages[row.village_id], zone, words)
                for crop in crops.get(row.id) or [None]:
                    yield base + _crop_cells(crop, words)


def _windows(period, households: int) -> Iterator[tuple]:
    days = max(1, 31 * WINDOW_HOUSEHOLDS // max(households, WINDOW_HOUSEHOLDS))
    start = period.start
    while start < period.end:
        end = min(start + timedelta(days=days), period.end)
        yield start, end
        start = end


def _crops_for(visit_ids) -> dict[int, list]:
    found = {}
    if visit_ids:
        for crop in db.session.connection().execute(
            select(*CROP_COLUMNS).where(CropRecord.visit_id.in_(visit_ids)).order_by(CropRecord.id)
        ):
            found.setdefault(crop.visit_id, []).append(crop)
    return found


class Words:
    """Translated labels for stored codes, looked up once per export rather than per row."""

    def __init__(self):
        self.keys = {k: labels.situation_key(k) for k in SITUATION_KEYS}
        self.values = {v: labels.situation_value(v) for v in ("better", "worse")}
        self.events = {}
        self.crops = {"kiwifruit": _("Kiwifruit"), "tobacco": _("Tobacco")}
        self.other_crop = _("Other crop")
        self.said = {}

    def changes_of(self, text: str | None) -> str | None:
        """The changes for a stored situation's JSON text; a county has few distinct ones."""
        if text not in self.said:
            self.said[text] = self.changes(json.loads(text) if text else None)
        return self.said[text]

    def changes(self, situation: dict | None) -> str | None:
        """Only what changed: "健康：变差；收入：好转"; nothing when all stayed the same."""
        found = [
            f"{self.keys.get(key, key)}：{self.values.get(value, value)}"
            for key, value in (situation or {}).items()
            if value != "same"
        ]
        return "；".join(found) or None

    def event(self, code: str | None) -> str | None:
        if code and code not in self.events:
            self.events[code] = labels.sudden_event(code)
        return self.events.get(code) if code else None

    def crop(self, crop) -> str:
        return self.crops.get(crop.crop) or crop.crop_name or self.other_crop


def _visit_cells(row, village: str, zone, words: Words) -> list:
    return [_local(row.visited_at, zone), _local(row.received_at, zone), village, row.code,
            row.head_name, row.klass, row.display_name, row.lat, row.lon, row.accuracy_m,
            words.changes_of(row.situation), words.event(row.sudden_event), row.notes, row.needs,
            row.follow_up]  # fmt: skip


def _crop_cells(crop, words: Words) -> list:
    if crop is None:
        return [None] * 6
    income = crop.expected_income_fen
    return [words.crop(crop), crop.area_mu, crop.plants, crop.yield_kg,
            Decimal(income) / 100 if income is not None else None, crop.season_year]  # fmt: skip


# --- formats -----------------------------------------------------------------------------


def csv_chunks(rows: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark, in chunks of a few hundred rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for n, row in enumerate(rows, start=1):
        writer.writerow(["" if cell is None else safe_cell(cell) for cell in row])
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_chunks(rows: Iterable[list], title: str) -> Iterator[bytes]:
    """A workbook built in a temporary file (see `write_xlsx`), then sent in chunks."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(rows, title, path)
        with open(path, "rb") as built:
            while chunk := built.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


SHEET = "xl/worksheets/sheet1.xml"
EMPTY_SHEET_DATA = (b"<sheetData></sheetData>", b"<sheetData/>")


def write_xlsx(rows: Iterable[list], title: str, path: str) -> None:
    """openpyxl writes the package -- workbook, styles, properties, content types and an empty
    sheet; the rows go straight into that sheet's <sheetData>, as the inline strings and
    numbers openpyxl's write-only mode writes, without its per-cell objects (which took two
    thirds of a county's export)."""
    shell = io.BytesIO()
    workbook = Workbook(write_only=True)
    workbook.create_sheet(title[:31])
    workbook.save(shell)
    with (
        zipfile.ZipFile(shell) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename != SHEET:
                target.writestr(item, data)
                continue
            empty = next(e for e in EMPTY_SHEET_DATA if e in data)
            head, tail = data.split(empty)
            with target.open(item.filename, "w") as sheet:
                sheet.write(head + b"<sheetData>")
                for chunk in sheet_rows(rows):
                    sheet.write(chunk)
                sheet.write(b"</sheetData>" + tail)


_COLUMNS = [get_column_letter(n) for n in range(1, 703)]  # A .. ZZ
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0
MAX_TEXT = 32767  # Excel's limit for a cell


def sheet_rows(rows: Iterable[list], per_chunk: int = 500) -> Iterator[bytes]:
    """<row> elements for a sheet, a few hundred rows per chunk of UTF-8."""
    parts = []
    for number, row in enumerate(rows, start=1):
        parts.append(f'<row r="{number}">')
        for column, value in zip(_COLUMNS, row, strict=False):
            if value is not None and value != "":
                parts.append(_cell(f"{column}{number}", value))
        parts.append("</row>")
        if number % per_chunk == 0:
            yield "".join(parts).encode("utf-8", "replace")
            parts.clear()
    yield "".join(parts).encode("utf-8", "replace")


def _cell(ref: str, value) -> str:
    if isinstance(value, str):
        text = safe_cell(value)[:MAX_TEXT]
        if _ILLEGAL.search(text):
            text = _ILLEGAL.sub("", text)
        if "&" in text or "<" in text or ">" in text:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}" t="n"><v>{value}</v></c>'
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            return ""
        return f'<c r="{ref}" t="n"><v>{float(value):.16g}</v></c>'
    raise TypeError(f"no XLSX cell for {type(value).__name__}")


def content_disposition(filename: str) -> str:
    """An ASCII fallback name and the real (Chinese) one, per RFC 6266 / RFC 5987."""
    fallback = "".join(c if c.isascii() and c not in '"\\;' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
