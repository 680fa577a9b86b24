"""Closed-month snapshots: a past month is judged once, reused, and judged again for exactly
what changed -- a late visit, a new, deactivated or moved household, a town's rhythm."""

import pytest
from sqlalchemy import func, select

from server.coverage import snapshots, stats
from server.coverage.periods import Period
from server.extensions import db
from server.models import Household, MonthSnapshot
from tests.coverage_helpers import SHANGHAI, add_visit, local

MARCH = Period(2025, 3, SHANGHAI)
APRIL = Period(2025, 4, SHANGHAI)
MAY = Period(2025, 5, SHANGHAI)
NOW = local(2025, 6, 10)  # March, April and May are closed


def town_scope(world) -> stats.Scope:
    return stats.Scope(
        world.users["town_supervisor"], [(world.town, [world.chengzi, world.shamao])]
    )


def figures(world, period) -> dict:
    """{(village name, class): (households, overdue)} for the cells that are not empty."""
    (grid,) = stats.grids(town_scope(world), period, NOW)
    return {
        (row.village.name, klass): (cell.households, cell.overdue)
        for row in grid.rows
        for klass, cell in row.cells.items()
        if cell.households
    }


@pytest.fixture
def judged(monkeypatch):
    """What each look at a closed month judged again: (villages whole, households)."""
    calls = []
    real = snapshots._facts

    def spy(scope, period, now, villages, household_ids):
        calls.append((sorted(villages), sorted(household_ids)))
        return real(scope, period, now, villages, household_ids)

    monkeypatch.setattr(snapshots, "_facts", spy)
    return calls


def without_snapshots(world, period, monkeypatch) -> dict:
    with monkeypatch.context() as patch:
        patch.setattr(snapshots, "usable", lambda *args: False)
        return figures(world, period)


def test_a_closed_month_is_judged_once_then_reused(world, judged, monkeypatch):
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], local(2025, 1, 30, 12))
    expected = {("城子村", "B"): (1, 1), ("纱帽村", "B"): (1, 1)}
    assert figures(world, MARCH) == expected
    assert judged == [(sorted([world.chengzi.id, world.shamao.id]), [])]
    assert db.session.scalar(select(func.count()).select_from(MonthSnapshot)) == 2
    judged.clear()
    # Another look, an unrelated change elsewhere (another town's household), a visit this
    # month to a household of another town: nothing to judge again.
    add_visit(world.h_other_town, world.users["other_cadre"], local(2025, 6, 9, 10))
    assert figures(world, MARCH) == expected
    assert figures(world, MARCH) == expected
    assert judged == [([], []), ([], [])]
    assert without_snapshots(world, MARCH, monkeypatch) == expected


def test_a_late_visit_changes_its_month_and_those_within_the_rhythm(world, judged, monkeypatch):
    cadre = world.users["chengzi_cadre"]
    add_visit(world.h_chengzi, cadre, local(2025, 1, 30, 12))
    for month in (MARCH, APRIL, MAY):
        assert figures(world, month)[("城子村", "B")] == (1, 1)
    judged.clear()
    # A visit of 20 March reaches the server in June. B is every 60 days: it counts at the
    # end of March and of April (cutoff 2 March), not at the end of May (cutoff 2 April).
    add_visit(world.h_chengzi, cadre, local(2025, 3, 20, 9))
    assert figures(world, MARCH)[("城子村", "B")] == (1, 0)
    assert figures(world, APRIL)[("城子村", "B")] == (1, 0)
    assert figures(world, MAY)[("城子村", "B")] == (1, 1)
    # One household judged again per month, not the village.
    assert judged == [([], [world.h_chengzi.id])] * 3
    for month in (MARCH, APRIL, MAY):
        assert figures(world, month) == without_snapshots(world, month, monkeypatch)


def test_a_new_household_counts_in_past_months(world, monkeypatch):
    assert figures(world, MARCH)[("城子村", "B")] == (1, 1)
    db.session.add(Household(code="H0099", village=world.chengzi, head_name="新户", klass="C"))
    db.session.commit()
    assert figures(world, MARCH)[("城子村", "C")] == (1, 1)
    assert figures(world, MARCH) == without_snapshots(world, MARCH, monkeypatch)


def test_a_deactivated_household_leaves_past_months(world, login, monkeypatch):
    assert figures(world, MARCH)[("纱帽村", "B")] == (1, 1)
    response = login("town_supervisor").patch(
        f"/api/households/{world.h_shamao.id}", json={"active": False}
    )
    assert response.status_code == 200
    assert ("纱帽村", "B") not in figures(world, MARCH)
    assert figures(world, MARCH) == without_snapshots(world, MARCH, monkeypatch)


def test_a_household_moved_to_another_village_moves_in_past_months(world, login, monkeypatch):
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], local(2025, 3, 5, 10))
    assert figures(world, MARCH) == {("城子村", "B"): (1, 0), ("纱帽村", "B"): (1, 1)}
    response = login("town_supervisor").patch(
        f"/api/households/{world.h_chengzi.id}", json={"village_id": world.shamao.id}
    )
    assert response.status_code == 200
    assert figures(world, MARCH) == {("纱帽村", "B"): (2, 1)}
    assert figures(world, MARCH) == without_snapshots(world, MARCH, monkeypatch)
    overdue = db.session.scalars(stats.overdue_query(town_scope(world), MARCH, NOW)).all()
    assert overdue == [world.h_shamao]


def test_a_rhythm_change_judges_past_months_again(world, judged, monkeypatch):
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], local(2025, 1, 30, 12))
    assert figures(world, MARCH)[("城子村", "B")] == (1, 1)  # 60 days: the limit is 31 Jan
    judged.clear()
    world.town.settings = {"rhythm_days": {"A": 90, "B": 90, "C": 30, "D": 30}}
    db.session.commit()
    assert figures(world, MARCH)[("城子村", "B")] == (1, 0)  # 90 days: the limit is 1 Jan
    assert judged == [(sorted([world.chengzi.id, world.shamao.id]), [])]
    assert figures(world, MARCH) == without_snapshots(world, MARCH, monkeypatch)


def test_a_class_change_keeps_the_class_in_force_at_the_months_end(world, login, monkeypatch):
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], local(2025, 3, 5, 10))
    assert figures(world, MARCH)[("城子村", "B")] == (1, 0)
    response = login("town_supervisor").patch(
        f"/api/households/{world.h_chengzi.id}", json={"klass": "C"}
    )
    assert response.status_code == 200
    assert figures(world, MARCH)[("城子村", "B")] == (1, 0)  # still a B for March
    assert figures(world, MARCH) == without_snapshots(world, MARCH, monkeypatch)


def test_the_past_overdue_list_reads_the_snapshot(world, login):
    scope = town_scope(world)
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], local(2025, 1, 30, 12))
    listed = stats.village_order(stats.overdue_query(scope, MARCH, NOW, klass="B"), None)
    assert db.session.scalars(listed).all() == [world.h_chengzi, world.h_shamao]
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], local(2025, 3, 30, 12))
    listed = db.session.scalars(stats.village_order(stats.overdue_query(scope, MARCH, NOW), None))
    assert listed.all() == [world.h_shamao]
    assert db.session.scalars(stats.overdue_query(scope, MARCH, NOW, klass="C")).all() == []
    page = login("town_supervisor").get("/office/overdue?period=2025-03")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert world.h_shamao.code in text and world.h_chengzi.code not in text


def test_long_id_lists_take_one_parameter(world):
    ids = [world.h_chengzi.id, *range(100_000, 100_000 + snapshots.SHORT_LIST)]
    found = db.session.scalars(select(Household.id).where(snapshots.one_of(Household.id, ids)))
    assert found.all() == [world.h_chengzi.id]


def test_changes_not_yet_committed_are_counted_without_snapshots(world, judged):
    assert figures(world, MARCH)[("城子村", "B")] == (1, 1)
    world.h_chengzi.active = False
    db.session.flush()
    assert ("城子村", "B") not in figures(world, MARCH)
    db.session.rollback()
    assert figures(world, MARCH)[("城子村", "B")] == (1, 1)


def test_the_monthly_command_judges_every_village_once_and_pages_reuse_it(app, world, judged):
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], local(2025, 3, 20))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["coverage", "snapshot", "--month", "2025-03"])
    assert result.exit_code == 0, result.output
    assert "202503: 3 villages judged" in result.output  # every town's villages, dongcun too
    db.session.expire_all()
    stored = db.session.scalar(
        select(func.count()).select_from(MonthSnapshot).where(MonthSnapshot.month == 202503)
    )
    assert stored == 3
    judged.clear()
    figures(world, MARCH)  # a supervisor's first look: nothing left to judge
    assert judged == [([], [])]
    refused = runner.invoke(args=["coverage", "snapshot", "--month", "2999-01"])
    assert refused.exit_code != 0 and "YYYY-MM" in refused.output
