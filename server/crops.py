"""A household's crops as plots, not as records: every visit (and every import) records the
plots it saw, so adding all records up would count the same 6.2-mu plot once per visit.
The plots now are those of the latest recording; a season's plots are those of the latest
recording in that season."""

from dataclasses import dataclass
from decimal import Decimal

# Only the CropRecord rows' attributes are read here, so the models use it without a cycle.


def _recording(crop):
    """Records made together: one visit's, or one import's (no visit, one moment)."""
    return ("visit", crop.visit_id) if crop.visit_id is not None else ("at", crop.recorded_at)


def _latest_recording(crops: list) -> list:
    if not crops:
        return []
    latest = max(crops, key=lambda c: (c.recorded_at, c.id or 0))
    key = _recording(latest)
    return sorted((c for c in crops if _recording(c) == key), key=lambda c: c.id or 0)


def current_plots(crops) -> list:
    return _latest_recording(list(crops))


@dataclass
class Season:
    year: int
    plots: list  # CropRecord rows

    @property
    def area_mu(self) -> Decimal:
        return sum((c.area_mu for c in self.plots), Decimal(0))

    @property
    def expected_income_fen(self) -> int | None:
        known = [c.expected_income_fen for c in self.plots if c.expected_income_fen is not None]
        return sum(known) if known else None


def seasons(crops) -> list[Season]:
    """Newest season first, each with the plots as last recorded in it."""
    by_year: dict[int, list] = {}
    for crop in crops:
        by_year.setdefault(crop.season_year, []).append(crop)
    return [
        Season(year, _latest_recording(by_year[year])) for year in sorted(by_year, reverse=True)
    ]
