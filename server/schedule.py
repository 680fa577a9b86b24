"""When a household's next visit is due, from its last visit and its class's rhythm."""

from datetime import datetime, timedelta


def next_due(last_visit_at: datetime | None, klass: str, rhythm_days: dict) -> datetime | None:
    """None means never visited: due now."""
    if last_visit_at is None:
        return None
    return last_visit_at + timedelta(days=rhythm_days[klass])


def is_overdue(last_visit_at: datetime | None, klass: str, rhythm_days: dict, now) -> bool:
    due = next_due(last_visit_at, klass, rhythm_days)
    return due is None or due < now
