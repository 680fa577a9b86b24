"""Each flag firing and not firing, the flags page, and checking a flag."""

from datetime import timedelta

from sqlalchemy import select

from server.coverage import flag_photo, flag_visit
from server.coverage.flags import distance_m
from server.extensions import db
from server.models import AuditEvent, VisitFlag, utcnow
from tests.coverage_helpers import add_photo, add_visit

HOME = (36.4500, 118.0500)  # somewhere near Taihe
NEAR = (36.4520, 118.0500)  # about 220 m north
FAR = (36.4600, 118.0500)  # about 1.1 km north
GOOD = {"accuracy_m": 15.0}


def kinds(visit) -> set[str]:
    return set(db.session.scalars(select(VisitFlag.kind).where(VisitFlag.visit_id == visit.id)))


def visit(world, at=None, where=HOME, household=None, cadre=None, **fields):
    household = household or world.h_chengzi
    cadre = cadre or world.users["chengzi_cadre"]
    if where is not None:
        fields.setdefault("accuracy_m", 15.0)
        fields["lat"], fields["lon"] = where
    return add_visit(household, cadre, at or utcnow() - timedelta(days=1), flag=True, **fields)


def test_haversine_is_right():
    assert round(distance_m(*HOME, *NEAR)) == 222
    assert 1100 < distance_m(*HOME, *FAR) < 1120


def test_no_location(world):
    assert kinds(visit(world, where=None)) == {"no_location"}
    assert kinds(visit(world)) == set()


def test_accuracy_zero_implausible_or_missing(world):
    assert kinds(visit(world, accuracy_m=0.0)) == {"bad_accuracy"}
    assert kinds(visit(world, accuracy_m=-3.0)) == {"bad_accuracy"}
    assert kinds(visit(world, accuracy_m=2500.0)) == {"bad_accuracy"}
    assert kinds(visit(world, accuracy_m=None)) == {"bad_accuracy"}
    assert kinds(visit(world, accuracy_m=999.0)) == set()


def test_far_from_the_position_set_for_the_household(world):
    world.h_chengzi.lat, world.h_chengzi.lon = HOME
    db.session.commit()
    assert kinds(visit(world, where=NEAR)) == set()
    far = visit(world, where=FAR)
    assert kinds(far) == {"far_from_home"}
    detail = db.session.scalar(select(VisitFlag.detail).where(VisitFlag.visit_id == far.id))
    assert detail["reference"] == "household" and detail["distance_m"] > 1000


def test_far_from_the_median_of_earlier_visits(world):
    start = utcnow() - timedelta(days=100)
    for n, where in enumerate((HOME, NEAR, HOME)):
        assert kinds(visit(world, at=start + timedelta(days=10 * n), where=where)) == set()
    wild = visit(world, at=start + timedelta(days=40), where=FAR)
    assert kinds(wild) == {"far_from_home"}
    detail = db.session.scalar(select(VisitFlag.detail).where(VisitFlag.visit_id == wild.id))
    assert detail["reference"] == "visits" and detail["fixes"] == 3
    assert kinds(visit(world, at=start + timedelta(days=50), where=NEAR)) == set()


def test_the_distance_threshold_comes_from_the_town_settings(world):
    world.h_chengzi.lat, world.h_chengzi.lon = HOME
    world.town.settings = {"flag_distance_m": 2000}
    db.session.commit()
    assert kinds(visit(world, where=FAR)) == set()


def test_device_time_ahead_suspect_or_behind_when_online(world):
    now = utcnow()
    ahead = visit(world, at=now + timedelta(hours=2), received_at=now)
    assert kinds(ahead) == {"device_time"}
    assert kinds(visit(world, device_time_suspect=True)) == {"device_time"}
    # Three days late is normal for a phone that was offline...
    late = visit(world, at=now - timedelta(days=3), received_at=now)
    assert kinds(late) == set()
    # ...but not for a visit the phone says it recorded online.
    db.session.execute(VisitFlag.__table__.delete())
    flag_visit(late, recorded_online=True)
    assert kinds(late) == {"device_time"}
    assert kinds(visit(world, at=now - timedelta(minutes=5), received_at=now)) == set()


def test_same_photo_on_visits_of_two_households(world):
    first = visit(world)
    second = visit(world, household=world.h_shamao, cadre=world.users["shamao_cadre"])
    add_photo(first, "f" * 64)
    flag_photo(add_photo(second, "f" * 64))
    db.session.commit()
    assert kinds(first) == kinds(second) == {"duplicate_photo"}
    detail = db.session.scalar(select(VisitFlag.detail).where(VisitFlag.visit_id == second.id))
    assert detail["other_household_ids"] == [world.h_chengzi.id]


def test_same_photo_twice_on_one_household_is_not_flagged(world):
    first, second = visit(world), visit(world)
    add_photo(first, "e" * 64)
    assert flag_photo(add_photo(second, "e" * 64)) is False
    assert kinds(first) == kinds(second) == set()


def test_photos_already_attached_are_checked_with_the_visit(world):
    first = visit(world)
    add_photo(first, "d" * 64)
    other = add_visit(
        world.h_shamao,
        world.users["chengzi_cadre"],
        utcnow(),
        lat=HOME[0],
        lon=HOME[1],
        accuracy_m=9.0,
    )
    add_photo(other, "d" * 64)
    assert "duplicate_photo" in flag_visit(other)


def test_implausible_speed_between_two_households(world):
    cadre = world.users["chengzi_cadre"]
    at = utcnow() - timedelta(hours=5)
    first = visit(world, at=at, where=HOME)
    # 1.1 km in 10 minutes is 6.7 km/h: walking pace, fine.
    walk = visit(
        world, at=at + timedelta(minutes=10), where=FAR, household=world.h_shamao, cadre=cadre
    )
    assert kinds(walk) == set()
    jump = visit(
        world,
        at=at + timedelta(minutes=15),
        where=(36.63, 118.05),
        household=world.h_shamao,
        cadre=cadre,
    )
    assert kinds(jump) == {"implausible_speed"}
    detail = db.session.scalar(select(VisitFlag.detail).where(VisitFlag.visit_id == jump.id))
    # 20 km from the first visit, 15 minutes after it: 80 km/h.
    assert detail["speed_kmh"] > 60 and detail["other_household_id"] == world.h_chengzi.id
    # The other end of the trip is flagged too; the walk to the same household is not a trip.
    assert kinds(first) == {"implausible_speed"}
    assert kinds(walk) == set()


def test_same_household_minutes_apart_is_not_a_trip(world):
    at = utcnow() - timedelta(hours=5)
    visit(world, at=at, where=HOME)
    assert "implausible_speed" not in kinds(
        visit(world, at=at + timedelta(minutes=2), where=(36.63, 118.05))
    )


def test_flagging_twice_adds_nothing(world):
    first = visit(world, where=None)
    flag_visit(first)
    flag_visit(first)
    db.session.commit()
    assert len(db.session.scalars(select(VisitFlag)).all()) == 1


def test_flags_page_filters_and_checking_is_audited(world, login):
    mine = visit(world, where=None)
    foreign = visit(world, where=None, household=world.h_shamao, cadre=world.users["shamao_cadre"])
    client = login("chengzi_supervisor")
    page = client.get("/office/flags").get_data(as_text=True)
    assert "户主1" in page and "户主2" not in page
    assert "户主1" not in client.get("/office/flags?kind=device_time").get_data(as_text=True)
    assert client.get("/office/flags?kind=nonsense").status_code == 400
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    foreign_flag = db.session.scalar(select(VisitFlag.id).where(VisitFlag.visit_id == foreign.id))
    refused = client.post(
        f"/office/flags/{foreign_flag}/check", data={"csrf_token": token, "comment": "x"}
    )
    assert refused.status_code == 404
    flag_id = db.session.scalar(select(VisitFlag.id).where(VisitFlag.visit_id == mine.id))
    assert (
        client.post(f"/office/flags/{flag_id}/check", data={"csrf_token": token}).status_code == 400
    )
    done = client.post(
        f"/office/flags/{flag_id}/check",
        data={"csrf_token": token, "comment": "山里没信号，已电话核实", "next": "/office/flags"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    flag = db.session.get(VisitFlag, flag_id)
    assert flag.checked_by_id == world.users["chengzi_supervisor"].id and flag.comment.startswith(
        "山里"
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "visit_flag"))
    assert event.entity_id == flag_id and event.after["comment"].startswith("山里")
    after = client.get("/office/flags").get_data(as_text=True)
    assert "已核查此标记。" in after and "户主1" not in after
    assert "山里没信号" in client.get("/office/flags?state=checked").get_data(as_text=True)
    assert (
        login("chengzi_cadre")
        .post(f"/office/flags/{flag_id}/check", data={"csrf_token": token, "comment": "x"})
        .status_code
        == 403
    )
