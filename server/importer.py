"""Registry import (filled in by the import work)."""

from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import data.")
