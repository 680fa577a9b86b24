"""Reading a registry file (XLSX or CSV) into a scratch SQLite database, row by row.

Households are grouped by code, and a file need not keep a household's rows together, so the
rows are parked on disk and read back ordered by code: memory stays bounded at any file size.
The scratch database is SQLite's own temporary one (an empty file name): its file is gone
from the directory as soon as it is opened, so even a killed import leaves nothing behind.
"""

import codecs
import csv
import io
import json
import sqlite3
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _
from python_calamine_plus import CalamineError, CalamineWorkbook

from .columns import BY_FIELD, REQUIRED, field_for
from .errors import ImportFileError, RowError

HEADER_SEARCH_ROWS = 10  # a title line or two may stand above the header row
MIN_HEADER_MATCHES = 3
BATCH = 2000
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


def text_of(value) -> str | None:
    """A cell as text: numbers without a spurious '.0', blanks as None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, datetime | date | time):
        value = value.isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.startswith('="') and text.endswith('"'):  # Excel's way of keeping digits as text
        text = text[2:-1].strip()
    return text or None


def _jsonable(value):
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return text_of(value)
    return value


# -- the two file kinds -----------------------------------------------------------------------


Source = Path | str | bytes  # a file's name, or its bytes (an upload kept in the database)


def opened(source: Source) -> BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115


@contextmanager
def _xlsx_rows(source: Source):
    # calamine (Rust) parses a sheet several times faster than openpyxl, which spent half of
    # a county import's CPU, and this fork of it streams the rows without holding the sheet;
    # a file object, not a name, so an upload needs no .xlsx suffix.
    with opened(source) as handle:
        try:
            workbook = CalamineWorkbook.from_filelike(handle)
            rows = iter(workbook.stream_sheet_by_index(0))
        except (CalamineError, zipfile.BadZipFile, IndexError, ValueError, OSError) as exc:
            reason = str(exc)
            raise ImportFileError(_("The file cannot be read: %(reason)s", reason=reason)) from exc
        try:
            yield _numbered(rows)
        finally:
            workbook.close()


def _numbered(rows) -> Iterator[tuple[int, list]]:
    """Rows with the number the spreadsheet shows (every row from the first, blank ones
    too); calamine gives a missing cell as ''."""
    for number, cells in enumerate(rows, start=1):
        yield number, [None if cell == "" else cell for cell in cells]


def csv_encoding(source: Source) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK)."""
    with opened(source) as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


@contextmanager
def _csv_rows(source: Source):
    encoding = csv_encoding(source)
    with io.TextIOWrapper(opened(source), encoding, errors="replace", newline="") as handle:
        first_line = handle.readline()
        handle.seek(0)
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        yield enumerate(csv.reader(handle, delimiter=delimiter), start=1)


@contextmanager
def rows_of(source: Source):
    """(row number, cell values) for every row of the file's first sheet."""
    with opened(source) as handle:
        magic = handle.read(4)
    if magic == XLS_MAGIC:
        raise ImportFileError(_("This is an old .xls workbook: save it as .xlsx or .csv."))
    opener = _xlsx_rows if magic == XLSX_MAGIC else _csv_rows
    with opener(source) as rows:
        yield rows


# -- the header row ---------------------------------------------------------------------------


@dataclass
class Header:
    indexes: dict[int, str]  # column index -> field
    labels: dict[str, str]  # field -> the header as the file writes it
    unknown: list[str]  # headers the importer does not know: their data is not read
    cells: list  # the header row as it is


def _header_fields(cells) -> dict[int, str]:
    return {i: field for i, cell in enumerate(cells) if (field := field_for(cell))}


def find_header(rows) -> Header:
    """The header row, found among the first rows; the rows iterator is left after it."""
    first_seen = None
    for number, cells in rows:
        found = _header_fields(cells)
        first_seen = first_seen or (cells if any(text_of(c) for c in cells) else None)
        if len(found) >= MIN_HEADER_MATCHES:
            return _checked_header(found, cells)
        if number >= HEADER_SEARCH_ROWS:
            break
    if first_seen is None:
        raise ImportFileError(_("The file is empty."))
    return _checked_header(_header_fields(first_seen), first_seen)


def _checked_header(found: dict[int, str], cells) -> Header:
    labels: dict[str, str] = {}
    for index, field in found.items():
        if field in labels:
            raise ImportFileError(
                _("The column %(column)s appears twice.", column=BY_FIELD[field].header),
                [BY_FIELD[field].header],
            )
        labels[field] = text_of(cells[index]) or BY_FIELD[field].header
    missing = [BY_FIELD[f].header for f in REQUIRED if f not in labels]
    if missing:
        raise ImportFileError(
            _("The file lacks required columns: %(columns)s.", columns="、".join(missing)), missing
        )
    unknown = [
        header
        for index, cell in enumerate(cells)
        if index not in found and (header := text_of(cell)) is not None
    ]
    return Header(found, labels, unknown, list(cells))


# -- the scratch database ---------------------------------------------------------------------


class Staging:
    """The file's rows parked in a scratch SQLite file, read back one household at a time."""

    def __init__(self, labels: dict[str, str], unknown: list[str]):
        self.labels = labels
        self.unknown_columns = unknown
        self.rows = 0
        self.errors: list[RowError] = []
        self.conn = sqlite3.connect("")  # SQLite's temporary database: see the module's doc
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("CREATE TABLE row (code TEXT NOT NULL, row_no INTEGER, data TEXT)")

    def add(self, batch: list[tuple[str, int, str]]) -> None:
        self.conn.executemany("INSERT INTO row VALUES (?, ?, ?)", batch)

    def finish(self) -> None:
        self.conn.execute("CREATE INDEX row_code ON row (code, row_no)")
        self.conn.commit()

    def codes(self) -> set[str]:
        return {code for (code,) in self.conn.execute("SELECT DISTINCT code FROM row")}

    def households(self) -> Iterator[tuple[str, list[tuple[int, dict]]]]:
        code, rows = None, []
        for row_code, row_no, data in self.conn.execute(
            "SELECT code, row_no, data FROM row ORDER BY code, row_no"
        ):
            if row_code != code and rows:
                yield code, rows
                rows = []
            code = row_code
            rows.append((row_no, json.loads(data)))
        if rows:
            yield code, rows

    def close(self) -> None:
        self.conn.close()


def stage(source: Source, max_rows: int, reading=None) -> Staging:
    """Read every data row of the file into a Staging; rows without a code become errors.

    `reading(rows_read)` is told of progress now and then: the total is not known yet.
    """
    with rows_of(source) as rows:
        header = find_header(rows)
        indexes, labels = header.indexes, header.labels
        staging = Staging(labels, header.unknown)
        batch = []
        for number, cells in rows:
            values = {
                field: value
                for index, field in indexes.items()
                if index < len(cells) and (value := _jsonable(cells[index])) is not None
            }
            if not values:
                continue  # blank line
            staging.rows += 1
            if staging.rows > max_rows:
                staging.close()
                raise ImportFileError(_("The file has more than %(max)s rows.", max=max_rows))
            code = text_of(values.get("code"))
            if code is None:
                staging.errors.append(RowError(number, "code", labels["code"], _("is required")))
                continue
            batch.append((code, number, json.dumps(values, ensure_ascii=False)))
            if len(batch) >= BATCH:
                staging.add(batch)
                batch = []
                if reading is not None:
                    reading(staging.rows)
        staging.add(batch)
        staging.finish()
    return staging
