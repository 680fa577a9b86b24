"""Coverage arithmetic at period edges, reassignment and class changes, scope, the pages."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.coverage import stats
from server.coverage.periods import Period, current_month
from server.extensions import db
from server.models import (
    Assignment,
    AuditEvent,
    DeviceStatus,
    KlassChange,
    NeedsAction,
    VisitMonth,
    VisitMonthCount,
    utcnow,
)
from tests.coverage_helpers import SHANGHAI, add_visit, local

MARCH = Period(2025, 3, SHANGHAI)
AFTER_MARCH = local(2025, 6, 1)  # "now" for the arithmetic tests: March is in the past


def town_scope(world, username="town_supervisor") -> stats.Scope:
    return stats.Scope(world.users[username], [(world.town, [world.chengzi, world.shamao])])


def cell(world, period, now, village="chengzi", klass="B", username="town_supervisor"):
    (grid,) = stats.grids(town_scope(world, username), period, now)
    row = next(r for r in grid.rows if r.village.id == getattr(world, village).id)
    return row.cells[klass]


# --- period edges ------------------------------------------------------------------------


def test_a_visit_at_2359_on_the_last_day_counts_in_that_month(world):
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], local(2025, 3, 31, 23, 59))
    add_visit(world.h_shamao, world.users["shamao_cadre"], local(2025, 4, 1, 0, 0))
    assert cell(world, MARCH, AFTER_MARCH).visited == 1
    assert cell(world, MARCH, AFTER_MARCH, village="shamao").visited == 0
    april = Period(2025, 4, SHANGHAI)
    assert cell(world, april, AFTER_MARCH, village="shamao").visited == 1
    # 23:59 Beijing time is 15:59 UTC: the month is the local one.
    assert (
        db.session.scalar(
            select(VisitMonth.month).where(VisitMonth.household_id == world.h_chengzi.id)
        )
        == 202503
    )


def test_period_edges_are_local_midnight():
    assert MARCH.start.isoformat() == "2025-02-28T16:00:00+00:00"
    assert MARCH.end.isoformat() == "2025-03-31T16:00:00+00:00"
    assert MARCH.contains(local(2025, 3, 31, 23, 59, 59))
    assert not MARCH.contains(local(2025, 4, 1))
    assert Period(2025, 12, SHANGHAI).end == local(2026, 1, 1)


def test_overdue_is_judged_at_the_end_of_a_past_period(world):
    cadre = world.users["chengzi_cadre"]
    # Class B: every 60 days. At the end of March (1 April 00:00) the limit is 31 January.
    add_visit(world.h_chengzi, cadre, local(2025, 1, 30, 12))
    assert cell(world, MARCH, AFTER_MARCH).overdue == 1
    add_visit(world.h_chengzi, cadre, local(2025, 2, 1, 9))
    assert cell(world, MARCH, AFTER_MARCH).overdue == 0
    # A visit after the period does not rescue it.
    assert cell(world, Period(2025, 1, SHANGHAI), AFTER_MARCH, village="shamao").overdue == 1


def test_overdue_now_reads_the_last_visit_kept_on_the_household(world):
    now = utcnow()
    period = current_month(now, SHANGHAI)
    assert cell(world, period, now).overdue == 1  # never visited
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], now - timedelta(days=59))
    db.session.refresh(world.h_chengzi)
    assert world.h_chengzi.last_visit_at == now - timedelta(days=59)
    assert cell(world, period, now).overdue == 0
    # An older visit arriving late leaves the last visit where it was.
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], now - timedelta(days=90))
    db.session.refresh(world.h_chengzi)
    assert world.h_chengzi.last_visit_at == now - timedelta(days=59)


def test_a_phone_clock_ahead_cannot_push_the_last_visit_into_the_future(world):
    now = utcnow()
    add_visit(
        world.h_chengzi,
        world.users["chengzi_cadre"],
        now + timedelta(days=30),
        received_at=now,
    )
    db.session.refresh(world.h_chengzi)
    assert world.h_chengzi.last_visit_at == now


def test_visits_to_one_household_in_a_month_count_once(world):
    cadre = world.users["chengzi_cadre"]
    for day in (3, 10, 31):
        add_visit(world.h_chengzi, cadre, local(2025, 3, day, 10))
    assert cell(world, MARCH, AFTER_MARCH).visited == 1
    row = db.session.scalar(select(VisitMonth))
    assert (row.visits, row.last_visit_at) == (3, local(2025, 3, 31, 10))


# --- reassignment ------------------------------------------------------------------------


def _reassign(world, household, old, new, at):
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.household_id == household.id, Assignment.cadre_id == old.id
        )
    )
    assignment.ended_at = at
    db.session.add(Assignment(household=household, cadre=new, started_at=at))
    db.session.commit()


def test_a_household_reassigned_mid_period_credits_the_cadre_who_visited(world):
    old, new = world.users["chengzi_cadre"], world.users["shamao_cadre"]
    now = utcnow()
    period = current_month(now, SHANGHAI)
    add_visit(world.h_chengzi, old, max(period.start, now - timedelta(days=1)))
    _reassign(world, world.h_chengzi, old, new, now)
    rows = {r.cadre.username: r for r in stats.cadre_page(town_scope(world), period, now, None, 50)}
    assert (rows["chengzi_cadre"].assigned, rows["chengzi_cadre"].visited) == (0, 1)
    assert rows["chengzi_cadre"].visited_not_assigned == 1
    # The new cadre now holds both households; the one visited this month is not overdue.
    new_row = rows["shamao_cadre"]
    assert (new_row.assigned, new_row.visited, new_row.overdue) == (2, 0, 1)
    # The household counts once in the grid, visited.
    assert cell(world, period, now).visited == 1


# --- class changes -----------------------------------------------------------------------


def test_class_in_force_at_period_end_is_used(world, login):
    household = world.h_chengzi  # B now
    # It became C on 10 March, then A in May (after March ended); a visit of 5 March
    # reaches the server only now, so its month row takes the class in force at March's end.
    household.klass = "A"
    db.session.add_all(
        [
            KlassChange(
                household_id=household.id,
                klass_from="B",
                klass_to="C",
                changed_at=local(2025, 3, 10),
            ),
            KlassChange(
                household_id=household.id,
                klass_from="C",
                klass_to="A",
                changed_at=local(2025, 5, 2),
            ),
        ]
    )
    db.session.commit()
    add_visit(household, world.users["chengzi_cadre"], local(2025, 3, 5, 10))
    assert cell(world, MARCH, AFTER_MARCH, klass="C").households == 1
    assert cell(world, MARCH, AFTER_MARCH, klass="C").visited == 1
    assert cell(world, MARCH, AFTER_MARCH, klass="A").households == 0
    assert cell(world, Period(2025, 2, SHANGHAI), AFTER_MARCH, klass="B").households == 1
    # C is visited monthly: at the end of April (no April visit) it is overdue as a C.
    assert cell(world, Period(2025, 4, SHANGHAI), AFTER_MARCH, klass="C").overdue == 1
    overdue = db.session.scalars(
        stats.overdue_query(town_scope(world), Period(2025, 4, SHANGHAI), AFTER_MARCH, klass="C")
    ).all()
    assert overdue == [household]
    series = stats.trend(town_scope(world), [Period(2025, 2, SHANGHAI), MARCH])
    assert series["C"][1] == 1.0 and series["B"][0] == 0.0


def test_editing_the_class_writes_its_history_and_moves_this_month(world, login):
    now = utcnow()
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], now - timedelta(minutes=5))
    response = login("town_supervisor").patch(
        f"/api/households/{world.h_chengzi.id}", json={"klass": "C", "reason": "户主大病，村民评议"}
    )
    assert response.status_code == 200
    change = db.session.scalar(select(KlassChange))
    assert (change.klass_from, change.klass_to) == ("B", "C")
    assert change.reason == "户主大病，村民评议"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "household"))
    assert event.reason == "户主大病，村民评议"
    assert change.changed_by_id == world.users["town_supervisor"].id
    db.session.expire_all()
    assert db.session.scalar(select(VisitMonth.klass)) == "C"
    period = current_month(now, SHANGHAI)
    assert cell(world, period, utcnow(), klass="C").visited == 1
    counts = {c.klass: c.households for c in db.session.scalars(select(VisitMonthCount))}
    assert counts == {"B": 0, "C": 1}
    assert stats.trend(town_scope(world), [period])["C"] == [1.0]
    # An edit that keeps the class writes no history.
    login("town_supervisor").patch(
        f"/api/households/{world.h_chengzi.id}", json={"phone": "13800000002"}
    )
    assert len(db.session.scalars(select(KlassChange)).all()) == 1


def test_inactive_households_are_left_out(world):
    now = utcnow()
    period = current_month(now, SHANGHAI)
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], now - timedelta(minutes=1))
    add_visit(world.h_shamao, world.users["shamao_cadre"], now - timedelta(minutes=1))
    assert stats.trend(town_scope(world), [period])["B"] == [1.0]
    world.h_chengzi.active = False
    db.session.commit()
    assert cell(world, period, now).households == 0
    assert stats.trend(town_scope(world), [period])["B"] == [1.0]  # 1 of 1, not 2 of 1


# --- pages and scope ---------------------------------------------------------------------


def test_anonymous_is_sent_to_the_sign_in_form_and_can_sign_in(world, client):
    response = client.get("/office/?period=2025-03")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    form = client.get("/login")
    assert form.status_code == 200
    token = _form_token(form.get_data(as_text=True))
    wrong = client.post(
        "/login", data={"username": "town_supervisor", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    signed = client.post(
        "/login",
        data={
            "username": "town_supervisor",
            "password": "correct horse battery",
            "csrf_token": token,
            "next": "/office/?period=2025-03",
        },
    )
    assert signed.status_code == 302 and signed.headers["Location"] == "/office/?period=2025-03"
    assert client.get("/office/").status_code == 200
    page = client.get("/office/").get_data(as_text=True)
    out = client.post("/logout", data={"csrf_token": _form_token(page)})
    assert out.status_code == 302
    assert client.get("/office/").status_code == 302


def test_sign_in_form_needs_its_token_and_refuses_foreign_next(world, client):
    client.get("/login")
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400
    token = _form_token(client.get("/login").get_data(as_text=True))
    signed = client.post(
        "/login",
        data={
            "username": "town_supervisor",
            "password": "correct horse battery",
            "csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert signed.headers["Location"] == "/office/"


def _form_token(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


PAGES = (
    "/office/",
    "/office/cadres",
    "/office/overdue",
    "/office/flags",
    "/office/needs-action",
    "/office/conflicts",
)


@pytest.mark.parametrize("url", PAGES)
def test_cadres_get_403_on_every_page(world, login, url):
    assert login("chengzi_cadre").get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_supervisors_and_admins(world, login, url):
    add_visit(
        world.h_chengzi,
        world.users["chengzi_cadre"],
        utcnow() - timedelta(hours=1),
        sudden_event="illness",
    )
    for username in ("admin", "town_supervisor", "chengzi_supervisor"):
        response = login(username).get(url)
        assert response.status_code == 200, (username, url)


def test_a_village_supervisor_sees_nothing_of_another_village(world, login):
    add_visit(
        world.h_shamao,
        world.users["shamao_cadre"],
        utcnow() - timedelta(hours=1),
        sudden_event="illness",
    )
    client = login("chengzi_supervisor")
    overview = client.get("/office/").get_data(as_text=True)
    assert "城子村" in overview and "纱帽村" not in overview
    assert "shamao_cadre" not in client.get("/office/cadres").get_data(as_text=True)
    assert "户主2" not in client.get("/office/overdue").get_data(as_text=True)
    assert "户主2" not in client.get("/office/needs-action").get_data(as_text=True)
    # Foreign ids answer 404, like missing ones.
    assert client.get(f"/office/households/{world.h_shamao.id}").status_code == 404
    assert client.get("/office/households/999999").status_code == 404
    assert client.get(f"/office/overdue?village={world.shamao.id}").status_code == 404
    assert client.get(f"/office/overdue?cadre={world.users['shamao_cadre'].id}").status_code == 404
    assert client.get(f"/office/cadres?village={world.dongcun.id}").status_code == 404
    assert client.get(f"/office/?town={world.other_town.id}").status_code == 404
    assert client.get(f"/office/villages/{world.shamao.id}/map").status_code == 404
    assert client.get(f"/office/overdue?cadre={world.users['chengzi_cadre'].id}").status_code == 200


def test_another_town_supervisor_sees_nothing_of_this_town(world, login):
    client = login("other_supervisor")
    assert "城子村" not in client.get("/office/").get_data(as_text=True)
    assert client.get(f"/office/households/{world.h_chengzi.id}").status_code == 404


def test_overview_shows_counts_trend_and_drilldown_links(world, login):
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], utcnow() - timedelta(hours=1))
    page = login("town_supervisor").get("/office/").get_data(as_text=True)
    assert "1/1" in page and "<svg" in page
    assert "/office/overdue?period=" in page and f"village={world.shamao.id}" in page


def test_bad_period_and_cursor_answer_400(world, login):
    client = login("town_supervisor")
    assert client.get("/office/?period=2025-13").status_code == 400
    assert client.get("/office/?period=2999-01").status_code == 400
    assert client.get("/office/overdue?after=!!").status_code == 400
    assert client.get("/office/overdue?klass=E").status_code == 400


def test_overdue_list_pages_by_keyset(world, login, app):
    from server.models import Household

    for n in range(60):
        db.session.add(
            Household(code=f"P{n:03d}", village=world.chengzi, head_name=f"逾期{n}", klass="C")
        )
    db.session.commit()
    client = login("chengzi_supervisor")
    first = client.get(f"/office/overdue?village={world.chengzi.id}").get_data(as_text=True)
    assert first.count("/office/households/") == 50
    cursor = first.split("after=")[1].split('"')[0].split("&")[0]
    second = client.get(f"/office/overdue?village={world.chengzi.id}&after={cursor}").get_data(
        as_text=True
    )
    assert second.count("/office/households/") == 11


def test_cadre_page_shows_device_status(world, login):
    db.session.add(
        DeviceStatus(
            user_id=world.users["chengzi_cadre"].id,
            device_id="phone-1",
            pending_records=3,
            pending_photos=2,
        )
    )
    db.session.commit()
    page = login("chengzi_supervisor").get("/office/cadres").get_data(as_text=True)
    assert "chengzi_cadre" in page and "3" in page and "2" in page


def test_household_timeline_shows_photos_crops_and_changes(world, login):
    from decimal import Decimal

    from server.models import CropRecord
    from tests.coverage_helpers import add_photo

    visit = add_visit(
        world.h_chengzi,
        world.users["chengzi_cadre"],
        utcnow() - timedelta(days=1),
        notes="猕猴桃长势好",
    )
    db.session.add(
        CropRecord(
            household_id=world.h_chengzi.id,
            visit_id=visit.id,
            crop="kiwifruit",
            area_mu=Decimal("0.5"),
            expected_income_fen=200000,
            season_year=2026,
        )
    )
    photo = add_photo(visit, "a" * 64)
    db.session.commit()
    client = login("town_supervisor")
    client.patch(f"/api/households/{world.h_chengzi.id}", json={"klass": "C"})
    page = client.get(f"/office/households/{world.h_chengzi.id}").get_data(as_text=True)
    assert "猕猴桃长势好" in page
    assert f"/api/photos/{photo.uuid}/thumb" in page
    assert "0.50" in page and "2,000.00" in page
    assert "<del>B 类</del> → <ins>C 类</ins>" in page


# --- needs action ------------------------------------------------------------------------


def test_needs_action_lists_events_worse_and_conflicts_oldest_first(world, login):
    cadre = world.users["chengzi_cadre"]
    now = utcnow()
    add_visit(
        world.h_chengzi,
        cadre,
        now - timedelta(days=2),
        situation={"health": "worse", "income": "same"},
    )
    add_visit(
        world.h_shamao,
        world.users["shamao_cadre"],
        now - timedelta(days=5),
        sudden_event="disaster",
    )
    add_visit(
        world.h_chengzi, cadre, now - timedelta(days=1), situation={"health": "same"}
    )  # nothing
    client = login("town_supervisor")
    page = client.get("/office/needs-action").get_data(as_text=True)
    assert page.index("户主2") < page.index("户主1")  # the disaster is older
    assert len(db.session.scalars(select(NeedsAction)).all()) == 2


def test_a_household_needs_action_until_handled(world, login):
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], utcnow() - timedelta(days=1),
              sudden_event="illness")  # fmt: skip
    client = login("chengzi_supervisor")
    page = client.get("/office/needs-action").get_data(as_text=True)
    assert "户主1" in page
    token = _form_token(page)
    refused = client.post(
        f"/office/needs-action/{world.h_shamao.id}/handled",
        data={"csrf_token": token, "note": "x"},
    )
    assert refused.status_code == 404
    assert (
        client.post(
            f"/office/needs-action/{world.h_chengzi.id}/handled", data={"note": "x"}
        ).status_code
        == 400
    )
    done = client.post(
        f"/office/needs-action/{world.h_chengzi.id}/handled",
        data={"csrf_token": token, "note": "已电话核实"},
    )
    assert done.status_code == 302
    after = client.get("/office/needs-action").get_data(as_text=True)
    assert "户主1：已标记为已处理。" in after  # said once, and the household left the list
    assert after.count("户主1") == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "handle"))
    assert event.entity_id == world.h_chengzi.id and event.reason == "已电话核实"
    item = db.session.scalar(select(NeedsAction))
    assert item.handled_by_id == world.users["chengzi_supervisor"].id


# --- town settings -----------------------------------------------------------------------


def test_admin_edits_town_settings_with_validation_and_audit(world, login):
    admin = login("admin")
    url = f"/office/towns/{world.town.id}/settings"
    form = admin.get(url)
    assert form.status_code == 200
    token = _form_token(form.get_data(as_text=True))
    values = {
        "csrf_token": token,
        "rhythm_A": "90",
        "rhythm_B": "45",
        "rhythm_C": "30",
        "rhythm_D": "14",
        "flag_distance_m": "800",
        "device_clock_tolerance_s": "600",
        "flag_accuracy_max_m": "1000",
        "flag_speed_window_min": "120",
        "flag_speed_min_distance_m": "1000",
        "flag_speed_kmh": "60",
    }
    bad = admin.post(url, data=values | {"rhythm_B": "0"})
    assert bad.status_code == 422
    db.session.expire_all()
    assert world.town.settings == {}
    assert admin.post(url, data=values).status_code == 302
    db.session.expire_all()
    assert stats.rhythm_for(world.town) == {"A": 90, "B": 45, "C": 30, "D": 14}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "town"))
    assert event.before["rhythm_days"]["B"] == 60 and event.after["flag_distance_m"] == 800
    assert login("town_supervisor").get(url).status_code == 403
    assert admin.get("/office/towns/999/settings").status_code == 404


def test_an_admin_sees_one_row_per_town_then_the_villages_of_one(world, login):
    client = login("admin")
    page = client.get("/office/").get_data(as_text=True)
    assert "太河镇" in page and "寨里镇" in page and "城子村" not in page
    assert f"town={world.town.id}" in page
    town = client.get(f"/office/?town={world.town.id}").get_data(as_text=True)
    assert "城子村" in town and "纱帽村" in town and "东村" not in town


def test_village_map_draws_households_and_visit_fixes(world, login):
    world.h_chengzi.lat, world.h_chengzi.lon = 36.45, 118.05
    db.session.commit()
    add_visit(
        world.h_chengzi,
        world.users["chengzi_cadre"],
        utcnow() - timedelta(hours=2),
        lat=36.451,
        lon=118.051,
    )
    page = (
        login("chengzi_supervisor")
        .get(f"/office/villages/{world.chengzi.id}/map")
        .get_data(as_text=True)
    )
    assert "<svg" in page and page.count("<rect x=") == 1 and page.count("<circle") == 1
