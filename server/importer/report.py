"""What an import did: counts, and the rows it refused."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import RowError

MAX_REPORTED_ERRORS = 1000  # a hopeless file should not answer megabytes of errors


@dataclass
class ImportReport:
    rows: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    households_rejected: int = 0
    members_created: int = 0
    members_updated: int = 0
    members_removed: int = 0
    assignments_started: int = 0
    assignments_ended: int = 0
    measures_started: int = 0
    measures_ended: int = 0
    cadres_created: int = 0
    villages_created: int = 0
    towns_created: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    errors_omitted: int = 0
    # Headers the importer does not know: their columns were not read.
    unknown_columns: list[str] = field(default_factory=list)
    # Handed every refused row, past the cap (an import job keeps them all).
    sink: Callable[[list[RowError]], None] | None = field(default=None, repr=False)

    def add_errors(self, errors: list[RowError]) -> None:
        if self.sink is not None and errors:
            self.sink(errors)
        room = MAX_REPORTED_ERRORS - len(self.errors)
        self.errors.extend(errors[: max(room, 0)])
        self.errors_omitted += max(len(errors) - max(room, 0), 0)

    def reject(self, errors: list[RowError]) -> None:
        self.households_rejected += 1
        self.add_errors(errors)

    def add(self, tally: Counter) -> None:
        for name, count in tally.items():
            setattr(self, name, getattr(self, name) + count)

    @property
    def changed(self) -> bool:
        return counts_change_something(self.counts())

    def counts(self) -> dict[str, int]:
        return {
            name: value
            for name, value in vars(self).items()
            if isinstance(value, int) and not isinstance(value, bool) and name != "errors_omitted"
        }


# The counts that say an import writes something (the others follow from these).
CHANGE_COUNTS = (
    "households_created",
    "households_updated",
    "cadres_created",
    "villages_created",
    "towns_created",
)


def counts_change_something(counts: dict) -> bool:
    return any(counts.get(name) for name in CHANGE_COUNTS)
