"""Office figures that must be right: what waits on a cadre's phones after their last push,
unanswered and late self-reports per cadre and per village, the overdue export's last visit
and days since, and a household's crops as its plots rather than every visit's records."""

import io
from datetime import timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from server.coverage import stats
from server.coverage.periods import Period, current_month
from server.extensions import db
from server.models import CropRecord, DeviceStatus, SelfReport, User, utcnow
from tests.coverage_helpers import SHANGHAI, add_visit
from tests.syncdata import DEVICE, crop, new_uuid, results, visit
from tests.test_photos import jpeg, upload
from tests.test_selfreport import make_report


def _cadre_row(world, username="chengzi_cadre") -> stats.CadreRow:
    db.session.expire_all()
    user = db.session.get(User, world.users["town_supervisor"].id)
    scope = stats.Scope(user, _groups(world))
    cadre = db.session.get(User, world.users[username].id)
    now = utcnow()
    [row] = stats.cadre_rows(scope, [cadre], current_month(now, SHANGHAI), now)
    return row


def _groups(world):
    return [(world.town, [world.chengzi, world.shamao, world.dongcun])]


# --- waiting on the phone ----------------------------------------------------------------


def test_waiting_on_the_phone_is_what_the_current_devices_hold_after_their_push(world, login):
    cadre = login("chengzi_cadre")
    photo = new_uuid()
    batch = [visit(world.h_chengzi.id, photo_uuids=[photo]), visit(world.h_chengzi.id)]
    device = DEVICE | {"pending_records": 3, "pending_photos": 1}  # one record stays queued
    results(cadre, batch, device=device)
    row = _cadre_row(world)
    assert (row.pending_records, row.pending_photos) == (1, 1)  # the photo uploads next

    assert upload(cadre, photo, batch[0]["uuid"], jpeg()).status_code in (200, 201)
    assert _cadre_row(world).pending_photos == 0

    # A phone the cadre gave up two months ago, with records it never sent, no longer counts.
    db.session.add(
        DeviceStatus(
            user_id=world.users["chengzi_cadre"].id,
            device_id="old-phone",
            pending_records=5,
            pending_photos=4,
            last_sync_at=utcnow() - timedelta(days=60),
        )
    )
    db.session.commit()
    row = _cadre_row(world)
    assert (row.pending_records, row.pending_photos) == (1, 0)

    # The same phone's next push, with its last record: nothing waits any more.
    last = DEVICE | {"pending_records": 1, "pending_photos": 0}
    results(cadre, [visit(world.h_chengzi.id)], device=last)
    assert (_cadre_row(world).pending_records, _cadre_row(world).pending_photos) == (0, 0)


# --- self-reports per cadre and per village -----------------------------------------------


def test_unanswered_and_late_reports_are_counted_per_cadre_and_village(world, login):
    fresh = make_report(world.h_chengzi, "housing", False)
    late = make_report(world.h_chengzi, "illness", True, minutes_ago=60 * 24 * 10)
    make_report(world.h_shamao, "work", False, minutes_ago=60 * 24 * 30)
    handled = make_report(world.h_chengzi, "other", False, minutes_ago=60 * 24 * 20)
    handled.handled_at = utcnow()
    db.session.commit()
    assert late.late(utcnow()) and not fresh.late(utcnow())

    row = _cadre_row(world)
    assert (row.open_reports, row.late_reports) == (2, 1)
    shamao = _cadre_row(world, "shamao_cadre")
    assert (shamao.open_reports, shamao.late_reports) == (1, 1)

    user = db.session.get(User, world.users["town_supervisor"].id)
    scope = stats.Scope(user, _groups(world))
    assert stats.late_reports_by_village(scope, utcnow()) == {
        world.chengzi.id: 1,
        world.shamao.id: 1,
    }
    page = login("town_supervisor").get("/office/").get_data(as_text=True)
    assert "1 条自主申报超期" in page
    village = login("chengzi_supervisor").get("/office/cadres").get_data(as_text=True)
    assert "chengzi_cadre" in village


def test_a_late_report_is_shown_late_on_the_phone(world, login):
    late = make_report(world.h_chengzi, "illness", True, minutes_ago=60 * 24 * 10)
    body = login("chengzi_cadre").get("/api/sync/pull").get_json()
    household = next(h for h in body["households"] if h["id"] == world.h_chengzi.id)
    [pulled] = household["reports"]
    assert pulled["id"] == late.id and pulled["late"] is True and pulled["due_at"]
    assert body["codes"]["report_open_statuses"] == ["received", "seen"]


# --- the overdue export ------------------------------------------------------------------


def test_the_overdue_export_has_last_visit_and_days_since(world, login):
    now = utcnow()
    add_visit(world.h_shamao, world.users["shamao_cadre"], now - timedelta(days=95))
    response = login("town_supervisor").get("/office/export/overdue.xlsx")
    rows = list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))
    shamao = next(r for r in rows if r[1] == world.h_shamao.head_name)
    assert shamao[5] and shamao[6] == 95


def test_a_closed_months_overdue_export_judges_at_the_months_end(world, login):
    now = utcnow()
    month = current_month(now, SHANGHAI)
    last_month = Period(month.year, month.month - 1, SHANGHAI) if month.month > 1 else None
    if last_month is None:
        last_month = Period(month.year - 1, 12, SHANGHAI)
    visited = last_month.start - timedelta(days=100)
    add_visit(world.h_shamao, world.users["shamao_cadre"], visited)
    add_visit(world.h_shamao, world.users["shamao_cadre"], now - timedelta(minutes=5))
    url = f"/office/export/overdue.csv?period={last_month.year}-{last_month.month:02d}"
    body = login("town_supervisor").get(url).get_data().decode("utf-8-sig")
    line = next(r for r in body.splitlines() if world.h_shamao.head_name in r)
    assert str((last_month.end - visited).days) in line.split(",")


# --- crops as plots ----------------------------------------------------------------------


def test_crops_are_the_current_plots_with_history_by_season(world, login):
    cadre = login("chengzi_cadre")
    plot = {"area_mu": "6.2", "season_year": 2025}
    for _ in range(4):
        results(cadre, [visit(world.h_chengzi.id, crops=[crop(**plot)])])
    for _ in range(3):
        results(
            cadre,
            [
                visit(
                    world.h_chengzi.id,
                    crops=[crop(area_mu="6.2"), crop(crop="tobacco", area_mu="1.5")],
                )
            ],
        )
    db.session.expire_all()
    assert len(db.session.scalars(select(CropRecord)).all()) == 10  # every record is kept

    household = cadre.get(f"/api/households/{world.h_chengzi.id}").get_json()
    assert sorted(c["area_mu"] for c in household["crops"]) == ["1.50", "6.20"]
    seasons = [(s["year"], s["area_mu"], len(s["plots"])) for s in household["crop_seasons"]]
    assert seasons == [(2026, "7.70", 2), (2025, "6.20", 1)]

    pulled = cadre.get("/api/sync/pull").get_json()["households"]
    mine = next(h for h in pulled if h["id"] == world.h_chengzi.id)
    assert sum(Decimal(c["area_mu"]) for c in mine["crops"]) == Decimal("7.70")

    page = login("town_supervisor").get(f"/office/households/{world.h_chengzi.id}")
    text = page.get_data(as_text=True)
    assert '<td class="area">7.70</td>' in text and '<td class="area">6.20</td>' in text
    assert "43.40" not in text


def test_reports_left_in_scope_only(world):
    """Counting reports never crosses scope: a village committee sees its village's only."""
    make_report(world.h_shamao, "work", False, minutes_ago=60 * 24 * 30)
    user = db.session.get(User, world.users["chengzi_supervisor"].id)
    scope = stats.Scope(user, [(world.town, [world.chengzi])])
    assert stats.late_reports_by_village(scope, utcnow()) == {}
    assert db.session.scalar(select(SelfReport.due_at)) is not None
