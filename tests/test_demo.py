"""The demo town: Taihe's shape, determinism, the demo logins, and when seeding refuses."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from server import idcard, schedule, settings
from server.coverage import stats
from server.coverage.periods import Period
from server.demo import DEMO_PASSWORD
from server.extensions import db
from server.models import (
    Assignment,
    Household,
    Member,
    NeedsAction,
    Town,
    User,
    Village,
    Visit,
    VisitFlag,
    VisitMonth,
    VisitMonthCount,
)
from tests.coverage_helpers import SHANGHAI

TODAY = "2026-11-27"
END_OF_TODAY = datetime(2026, 11, 27, 16, tzinfo=UTC)  # midnight in China
SMALL = ("--households", "300", "--today", TODAY)


def seed(app, *args):
    return app.test_cli_runner().invoke(args=["demo", "seed", *args])


def wipe():
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def cadre_loads() -> list[int]:
    query = (
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.ended_at.is_(None))
        .group_by(Assignment.cadre_id)
    )
    return list(db.session.scalars(query))


def fingerprint() -> dict:
    """What must come out the same for the same seed and date."""
    return {
        "households": db.session.execute(
            select(Household.code, Household.head_name, Household.klass, Household.lat).order_by(
                Household.code
            )
        ).all(),
        "id_numbers": sorted(db.session.scalars(select(Member.id_number))),
        "visits": sorted(db.session.scalars(select(Visit.uuid))),
        "cadres": sorted(db.session.scalars(select(User.display_name))),
    }


def test_the_full_demo_town_has_taihes_shape(app):
    result = seed(app, "--today", TODAY)
    assert result.exit_code == 0, result.output

    klasses = dict(
        db.session.execute(select(Household.klass, func.count()).group_by("klass")).all()
    )
    assert klasses == {"A": 3112, "B": 2312, "C": 474, "D": 54}
    people = db.session.scalar(select(func.count()).select_from(Member))
    assert abs(people - 10_278) <= 10_278 * 0.03
    villages = set(db.session.scalars(select(Village.name)))
    assert len(villages) == 20 and {"城子村", "纱帽村"} <= villages
    in_care = select(func.count()).where(
        Household.klass == "D", Household.address.contains("敬老院")
    )
    assert db.session.scalar(in_care) == 36

    loads = cadre_loads()
    assert sum(loads) == 5952  # one active cadre each
    assert min(loads) >= 5 and max(loads) <= 10

    numbers = list(db.session.scalars(select(Member.id_number)))
    assert all(idcard.problem(n) is None and n.startswith("370302") for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_d_households_are_old_sick_or_disabled_and_visits_keep_the_rhythm(app):
    assert seed(app, "--today", "2026-06-30", "--households", "1200").exit_code == 0
    heads = db.session.execute(
        select(Member.birth_year, Member.health, Member.labour_capacity)
        .join(Member.household)
        .where(Household.klass == "D", Member.relation == "户主")
    ).all()
    assert heads and all(year <= 1964 and health != "健康" for year, health, _ in heads)
    assert {labour for *_, labour in heads} == {"丧失劳动力"}

    by_household = select(Visit.household_id, func.max(Visit.visited_at)).group_by("household_id")
    latest = dict(db.session.execute(by_household).all())
    rhythm = settings.DEFAULTS["rhythm_days"]
    overdue = Counter()
    for household in db.session.scalars(select(Household)):
        assert household.last_visit_at == latest.get(household.id)
        overdue[household.klass] += schedule.is_overdue(
            household.last_visit_at, household.klass, rhythm, datetime(2026, 6, 30, 16, tzinfo=UTC)
        )
    total = db.session.scalar(select(func.count()).select_from(Household))
    assert 0.02 * total < sum(overdue.values()) < 0.15 * total


def test_the_same_seed_builds_the_same_town(app):
    assert seed(app, *SMALL, "--seed", "7").exit_code == 0
    first = fingerprint()
    assert len(first["households"]) == 300
    assert abs(len(first["id_numbers"]) - 300 * 10_278 / 5_952) <= 10
    assert min(cadre_loads()) >= 5 and max(cadre_loads()) <= 10
    wipe()
    assert seed(app, *SMALL, "--seed", "7").exit_code == 0
    assert fingerprint() == first
    wipe()
    assert seed(app, *SMALL, "--seed", "8").exit_code == 0
    other = fingerprint()
    assert other["id_numbers"] != first["id_numbers"]
    assert other["households"] != first["households"]


def test_demo_logins_see_their_scope(app, client):
    result = seed(app, *SMALL)
    assert result.exit_code == 0, result.output
    for username in ("admin", "supervisor", "cunwei", "cadre"):
        assert username in result.output
        response = client.post("/api/login", json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, (username, response.get_json())
    chengzi = db.session.scalar(select(Village).where(Village.name == "城子村"))

    client.post("/api/login", json={"username": "cadre", "password": DEMO_PASSWORD})
    mine = client.get("/api/households").get_json()["items"]
    assert 6 <= len(mine) <= 10
    assert {h["village"]["name"] for h in mine} == {"城子村"}
    assert {"C", "D"} <= {h["klass"] for h in mine}
    rhythm = settings.DEFAULTS["rhythm_days"]
    late = [
        h
        for h in mine
        if schedule.is_overdue(
            h["last_visit_at"] and datetime.fromisoformat(h["last_visit_at"]),
            h["klass"],
            rhythm,
            END_OF_TODAY,
        )
    ]
    assert 1 <= len(late) < len(mine)

    client.post("/api/login", json={"username": "cunwei", "password": DEMO_PASSWORD})
    village_view = client.get("/api/households?limit=200").get_json()["items"]
    assert village_view and {h["village"]["id"] for h in village_view} == {chengzi.id}

    client.post("/api/login", json={"username": "supervisor", "password": DEMO_PASSWORD})
    seen, cursor = 0, ""
    while cursor is not None:
        page = client.get(f"/api/households?limit=200&cursor={cursor}").get_json()
        seen, cursor = seen + len(page["items"]), page["next_cursor"]
    assert seen == 300


def test_seeding_is_refused_in_production(app):
    app.config["ENV"] = "production"
    result = seed(app, *SMALL)
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0


def test_if_empty_leaves_an_existing_registry_alone(app, world):
    result = seed(app, *SMALL, "--if-empty")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Household)) == 3
    assert db.session.scalar(select(User).where(User.username == "cadre")) is None

    refused = seed(app, *SMALL)
    assert refused.exit_code != 0 and "already holds households" in refused.output
    assert db.session.scalar(select(func.count()).select_from(Household)) == 3


def test_a_registry_too_small_for_its_villages_is_refused(app):
    result = seed(app, "--households", "40", "--villages", "20", "--today", TODAY)
    assert result.exit_code != 0 and "needs at least" in result.output
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0


def all_pages(client, query: str) -> list[int]:
    ids, cursor = [], ""
    while cursor is not None:
        page = client.get(f"/api/households?limit=7&{query}&cursor={cursor}").get_json()
        ids, cursor = ids + [h["id"] for h in page["items"]], page["next_cursor"]
    return ids


def test_a_town_supervisors_pages_walk_every_village_in_id_order(app, login):
    """Their pages merge each village's first households; the result is plain id order."""
    assert seed(app, *SMALL).exit_code == 0
    client = login("supervisor", DEMO_PASSWORD)
    everyone = list(db.session.scalars(select(Household.id).order_by(Household.id)))
    assert all_pages(client, "") == everyone
    b_class = select(Household.id).where(Household.klass == "B").order_by(Household.id)
    assert all_pages(client, "klass=B") == list(db.session.scalars(b_class))
    surname = db.session.scalar(select(Household.head_name).limit(1))[0]
    named = select(Household.id).where(Household.head_name.contains(surname))
    assert all_pages(client, f"q={surname}") == list(db.session.scalars(named.order_by("id")))


def test_the_demo_history_is_counted_flagged_and_partly_dealt_with(app, login):
    """The supervisors' pages see the demo's visits as if phones had pushed them: month rows
    and counts, flags and needs-action items, the old ones dealt with by the town office."""
    assert seed(app, *SMALL).exit_code == 0
    pairs = {
        (household_id, at.astimezone(SHANGHAI).strftime("%Y%m"))
        for household_id, at in db.session.execute(select(Visit.household_id, Visit.visited_at))
    }
    assert db.session.scalar(select(func.count()).select_from(VisitMonth)) == len(pairs)
    assert db.session.scalar(select(func.sum(VisitMonthCount.households))) == len(pairs)
    assert db.session.scalar(select(func.sum(VisitMonth.visits))) == db.session.scalar(
        select(func.count()).select_from(Visit)
    )
    items = db.session.scalars(select(NeedsAction)).all()
    assert items and any(i.handled_at for i in items) and any(not i.handled_at for i in items)
    assert all(i.handled_at or i.raised_at >= END_OF_TODAY - timedelta(days=15) for i in items)
    flags = db.session.scalars(select(VisitFlag)).all()
    assert flags and any(f.checked_at for f in flags) and any(not f.checked_at for f in flags)
    office = db.session.scalar(select(User).where(User.username == "supervisor"))
    town = db.session.get(Town, office.town_id)
    october = Period(2026, 10, SHANGHAI)
    (grid,) = stats.grids(stats.Scope(office, [(town, town.villages)]), october, END_OF_TODAY)
    assert grid.total.households == 300
    assert grid.total.visited == db.session.scalar(
        select(func.count()).select_from(VisitMonth).where(VisitMonth.month == 202610)
    )
    assert 0.3 < grid.total.coverage < 1  # A households are visited quarterly
    assert login("supervisor", DEMO_PASSWORD).get("/office/?period=2026-10").status_code == 200
