"""`flask import households FILE` and `flask import template OUT.xlsx`."""

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale, gettext
from sqlalchemy import select

from ..extensions import db
from ..models import Town
from .errors import ImportFileError
from .report import ImportReport
from .service import import_file
from .template import template_bytes

import_cli = AppGroup("import", help="Import data.")

PROGRESS_MIN_ROWS = 2000  # below this the import is over before a bar helps
LOG_STEP_PERCENT = 10  # a log file gets a line at each tenth of the rows...
LOG_EVERY_SECONDS = 30  # ...and at least this often


def on_terminal() -> bool:
    return sys.stderr.isatty()


class ProgressBar:
    """A click progress bar, opened on the first report once the row count is known."""

    def __init__(self, label: str, counter: "ReadingCounter"):
        self.label, self.counter, self.bar, self.done = label, counter, None, 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None and total >= PROGRESS_MIN_ROWS:
            self.counter.close()
            self.bar = click.progressbar(
                length=total, label=self.label, file=click.get_text_stream("stderr")
            )
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        self.counter.close()
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


class ReadingCounter:
    """Rows read so far, rewritten in place on a terminal while the file is parked."""

    def __init__(self, label: str):
        self.label, self.shown = label, False

    def __call__(self, rows: int) -> None:
        if rows >= PROGRESS_MIN_ROWS and on_terminal():
            click.echo(f"\r{self.label} {rows}", nl=False, err=True)
            self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)
            self.shown = False


class ProgressLog:
    """Progress as whole lines, for a log file: a bar rewritten in place would be one
    unreadable line there (or nothing at all, as click leaves it out when not a terminal)."""

    def __init__(self):
        self.step, self.logged_at = -1, time.monotonic()

    def reading(self, rows: int) -> None:
        if rows >= PROGRESS_MIN_ROWS and self._due():
            self._line(gettext("Rows read: %(rows)s", rows=rows))

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_MIN_ROWS:
            return
        step = done * 100 // total // LOG_STEP_PERCENT
        if step > self.step or self._due():
            self.step = step
            text = gettext(
                "Imported %(done)s of %(total)s rows (%(percent)s%%)",
                done=done,
                total=total,
                percent=done * 100 // total,
            )
            self._line(text)

    def _due(self) -> bool:
        return time.monotonic() - self.logged_at >= LOG_EVERY_SECONDS

    def _line(self, text: str) -> None:
        self.logged_at = time.monotonic()
        click.echo(f"{time.strftime('%H:%M:%S')} {text}", err=True)

    def close(self) -> None:
        pass


def summary_lines(report: ImportReport) -> list[str]:
    lines = [
        gettext("Rows read: %(rows)s", rows=report.rows),
        gettext(
            "Households: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(rejected)s rejected",
            created=report.households_created,
            updated=report.households_updated,
            unchanged=report.households_unchanged,
            rejected=report.households_rejected,
        ),
        gettext(
            "Members: %(created)s added, %(updated)s changed, %(removed)s removed",
            created=report.members_created,
            updated=report.members_updated,
            removed=report.members_removed,
        ),
        gettext(
            "Cadres: %(created)s accounts created, %(started)s assignments started, "
            "%(ended)s ended",
            created=report.cadres_created,
            started=report.assignments_started,
            ended=report.assignments_ended,
        ),
    ]
    if report.villages_created or report.towns_created:
        lines.append(
            gettext(
                "New villages: %(villages)s, new towns: %(towns)s",
                villages=report.villages_created,
                towns=report.towns_created,
            )
        )
    return lines


def error_lines(report: ImportReport) -> list[str]:
    lines = [
        f"{error}  " + gettext("(household %(code)s)", code=error.household_code)
        if error.household_code
        else str(error)
        for error in report.errors
    ]
    if report.errors_omitted:
        lines.append(gettext("… and %(n)s more problems", n=report.errors_omitted))
    return lines


def warn_unknown_columns(headers: list[str]) -> None:
    click.echo(unknown_columns_warning(headers), err=True)


def unknown_columns_warning(headers: list[str]) -> str:
    return gettext(
        "Warning: these columns are not known and will not be imported: %(columns)s",
        columns="、".join(headers),
    )


@import_cli.command("households")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--town", help="Town to import into (default: the only town, or the 镇 column).")
@click.option("--dry-run", is_flag=True, help="Check and count, but write nothing.")
def import_households(file: Path, town: str | None, dry_run: bool):
    """Import the registry from an XLSX or CSV file, one row per household member."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        click.echo(gettext("Reading %(file)s…", file=file.name), err=True)
        started = time.monotonic()
        if on_terminal():
            counter = ReadingCounter(gettext("Rows read:"))
            bar = ProgressBar(gettext("Importing"), counter)
        else:
            bar = ProgressLog()
            counter = bar.reading
        try:
            report = import_file(
                file,
                town_name=town,
                progress=bar,
                reading=counter,
                dry_run=dry_run,
                unknown_columns=warn_unknown_columns,
            )
        except ImportFileError as exc:
            raise click.ClickException(str(exc.message)) from exc
        finally:
            bar.close()
            db.session.rollback()
        if dry_run:
            click.echo(gettext("Dry run: nothing was written."))
        for line in summary_lines(report):
            click.echo(line)
        click.echo(gettext("Took %(seconds).1f s", seconds=time.monotonic() - started))
        if report.errors:
            click.echo(gettext("Rejected rows (their households were not imported):"), err=True)
            for line in error_lines(report):
                click.echo("  " + line, err=True)
            click.get_current_context().exit(1)


@import_cli.command("template")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--town", help="Town written in the example rows (default: the only town).")
def write_template(out: Path, town: str | None):
    """Write an import template: the header, an example household and a sheet of notes."""
    if town is None:
        names = db.session.scalars(select(Town.name).limit(2)).all()
        town = names[0] if len(names) == 1 else "太河镇"
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        out.write_bytes(template_bytes(town))
        click.echo(gettext("Wrote %(file)s", file=str(out)))
