"""A visit just stored, as the coverage bookkeeping needs it: plain values, no lazy loads.

The sync push builds these from the rows it inserted, so a batch of fifty visits is kept with
a handful of statements; `StoredVisit.of(visit)` makes one from an ORM visit for the code
paths that store visits one at a time (tests, demo data).
"""

from dataclasses import dataclass
from datetime import datetime

from ..models import Household, Visit


@dataclass(frozen=True, slots=True)
class StoredVisit:
    id: int
    household: Household  # with its village and town loaded
    cadre_id: int
    visited_at: datetime
    received_at: datetime
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    device_time_suspect: bool
    situation: dict
    sudden_event: str | None

    @classmethod
    def of(cls, visit: Visit, household: Household | None = None) -> "StoredVisit":
        return cls(
            id=visit.id,
            household=household or visit.household,
            cadre_id=visit.cadre_id,
            visited_at=visit.visited_at,
            received_at=visit.received_at,
            lat=visit.lat,
            lon=visit.lon,
            accuracy_m=visit.accuracy_m,
            device_time_suspect=bool(visit.device_time_suspect),
            situation=visit.situation or {},
            sudden_event=visit.sudden_event,
        )

    @property
    def household_id(self) -> int:
        return self.household.id

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def credited(self) -> datetime:
        """When the visit counts as done: a phone clock running ahead of the server's receipt
        cannot push a household's last visit into the future."""
        return min(self.visited_at, self.received_at)
