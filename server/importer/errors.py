"""Why a file or a row was refused. Reasons are lazy strings, translated where they are shown."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, columns missing, wrong town)."""

    def __init__(self, message, columns: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.columns = columns or []


@dataclass
class RowError:
    row: int | None  # the row number as the spreadsheet shows it
    field: str | None  # English column name, e.g. "id_number"
    column: str | None  # the header as written in the file, e.g. "身份证号"
    reason: object  # lazy string
    household_code: str | None = None

    @property
    def message(self) -> str:
        return str(self.reason)

    def __str__(self) -> str:
        where = self.column or ""
        if self.row is None:
            return f"{where}: {self.reason}" if where else str(self.reason)
        return str(
            _("Row %(row)s %(column)s: %(reason)s", row=self.row, column=where, reason=self.reason)
        )


class RowProblem(Exception):
    """One cell's value is not acceptable; `reason` says why in plain words."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason
