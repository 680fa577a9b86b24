"""The plain function that imports a registry file: used by the command, the API and the bench."""

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

from flask import current_app

from ..models import User
from .reading import Source, stage
from .references import Directory, check_town_choice, scope_for
from .report import ImportReport
from .validation import plan_household
from .writing import RegistryWriter

CHUNK_HOUSEHOLDS = 500

Progress = Callable[[int, int], None]


def import_file(
    source: Source,
    *,
    town_name: str | None = None,
    actor: User | None = None,
    progress: Progress | None = None,
    reading: Callable[[int], None] | None = None,
    dry_run: bool = False,
    source_name: str | None = None,
    every_error: Callable[[list], None] | None = None,
    unknown_columns: Callable[[list[str]], None] | None = None,
) -> ImportReport:
    """Import households from an XLSX or CSV file (its name or its bytes), one row per member.

    Households are written whole or not at all; bad rows come back in the report. `actor` is
    the importing user (None for a command), whose scope limits what may be written.
    `reading(rows_read)` reports the first pass over the file, `progress(done_rows,
    total_rows)` the writing that follows. `every_error(errors)` is handed every refused
    row as it is found (the report keeps the first 1,000); `unknown_columns(headers)` the
    headers it does not know, before anything is written.
    Raises ImportFileError when the file as a whole cannot be imported.
    """
    if source_name is None and not isinstance(source, bytes):
        source_name = Path(source).name
    scope = scope_for(actor, town_name)
    staging = stage(source, current_app.config["IMPORT_MAX_ROWS"], reading)
    if unknown_columns is not None and staging.unknown_columns:
        unknown_columns(staging.unknown_columns)
    try:
        directory = Directory.load()
        scope = check_town_choice(scope, directory, "town" in staging.labels)
        report = ImportReport(
            rows=staging.rows,
            dry_run=dry_run,
            unknown_columns=staging.unknown_columns,
            sink=every_error,
        )
        report.add_errors(staging.errors)
        writer = RegistryWriter(
            scope=scope,
            directory=directory,
            labels=staging.labels,
            file_codes=staging.codes(),
            report=report,
            actor=actor,
            reason=f"import {source_name or 'file'}"[:200],
        )
        done = len(staging.errors)
        _tell(progress, done, staging.rows)
        for chunk in _chunks(staging.households(), CHUNK_HOUSEHOLDS):
            writer.write(_plans(chunk, staging.labels, report))
            done += sum(len(rows) for _code, rows in chunk)
            _tell(progress, done, staging.rows)
        writer.finish()
    finally:
        staging.close()
    report.errors.sort(key=lambda e: (e.row or 0, e.column or ""))
    return report


def _plans(chunk, labels, report: ImportReport) -> list:
    plans = []
    for code, rows in chunk:
        plan, errors = plan_household(code, rows, labels)
        if plan is None:
            report.reject(errors)
        else:
            plans.append(plan)
    return plans


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _tell(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
