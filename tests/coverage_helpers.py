"""Making visits the way the sync code stores them, for the coverage tests."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.coverage import flag_visit, record_visit_aggregates
from server.extensions import db
from server.models import Photo, Visit, new_uuid

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    """A moment given in Beijing time."""
    return datetime(*args, tzinfo=SHANGHAI)


def add_visit(household, cadre, at: datetime, flag=False, **fields) -> Visit:
    fields.setdefault("received_at", at + timedelta(minutes=1))
    visit = Visit(uuid=new_uuid(), household=household, cadre=cadre, visited_at=at, **fields)
    db.session.add(visit)
    db.session.flush()
    record_visit_aggregates(household, visit)
    if flag:
        flag_visit(visit)
    db.session.commit()
    return visit


def add_photo(visit: Visit, sha256: str) -> Photo:
    photo = Photo(
        uuid=new_uuid(),
        household_id=visit.household_id,
        visit_id=visit.id,
        sha256=sha256,
        storage_key=sha256,
        size_bytes=1000,
        width=10,
        height=10,
    )
    db.session.add(photo)
    db.session.flush()
    return photo
