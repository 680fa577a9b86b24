"""Registry import from the XLSX and CSV files a town office keeps: one row per member."""

from .api import bp
from .commands import import_cli
from .errors import ImportFileError, RowError
from .report import ImportReport
from .service import import_file

__all__ = ["ImportFileError", "ImportReport", "RowError", "bp", "import_cli", "import_file"]
