"""What an import must do beyond reading rows: header variants, unknown columns, the edit
path's bookkeeping for class changes, the day a household entered, cadres across towns, and
progress in a log file."""

from datetime import timedelta

from sqlalchemy import select

from server.coverage import stats
from server.coverage.periods import current_month, local_today
from server.extensions import db
from server.importer import import_file
from server.models import KlassChange, User, VisitMonth, VisitMonthCount, utcnow
from tests.coverage_helpers import SHANGHAI, add_visit
from tests.test_import import (
    HEADER,
    active_cadres,
    household,
    person,
    registry_rows,
    row,
    write_csv,
    write_xlsx,
)


def renamed(header: list[str], names: dict[str, str]) -> list[str]:
    return [names.get(h, h) for h in header]


def test_common_header_variants_are_read_not_dropped(world, tmp_path):
    header = renamed(
        HEADER,
        {
            "帮扶干部": "帮扶人",
            "干部电话": "帮扶人电话",
            "联系电话": "手机号",
            "身份证号": "身份证号码",
        },
    )
    report = import_file(
        write_xlsx(tmp_path / "r.xlsx", registry_rows(), header), town_name="太河镇"
    )
    assert report.errors == [] and report.unknown_columns == []
    assert active_cadres(household("T001")) == {"李明"}
    assert active_cadres(household("T002")) == {"陈芳"}
    assert household("T001").phone == "13800000001"

    other = renamed(HEADER, {"帮扶干部": "责任人", "干部电话": "责任人电话"})
    rows = registry_rows()
    rows[0][12:14] = rows[1][12:14] = ["陈芳", "13900000002"]
    import_file(write_xlsx(tmp_path / "s.xlsx", rows, other), town_name="太河镇")
    assert active_cadres(household("T001")) == {"陈芳"}


def test_unknown_columns_are_named_and_the_command_warns_first(world, app, tmp_path):
    header = [*HEADER, "备注"]
    rows = [[*r, "x"] for r in registry_rows()]
    path = write_xlsx(tmp_path / "r.xlsx", rows, header)
    report = import_file(path, town_name="太河镇", dry_run=True)
    assert report.unknown_columns == ["备注"]
    result = app.test_cli_runner().invoke(
        args=["import", "households", str(path), "--town", "太河镇"]
    )
    assert result.exit_code == 0, result.output
    assert "注意：以下列无法识别，不会导入：备注" in result.stderr
    # Named before the summary of what was written.
    assert result.output.index("备注") < result.output.index("户：新增3")


def test_a_class_change_by_import_keeps_history_and_moves_the_month(world, tmp_path):
    import_file(write_xlsx(tmp_path / "a.xlsx", registry_rows()), town_name="太河镇")
    t001 = household("T001")
    cadre = db.session.scalar(select(User).where(User.phone == "13900000001"))
    add_visit(t001, cadre, utcnow() - timedelta(hours=1))
    month = current_month(utcnow(), SHANGHAI).month_keys[0]
    seq_before = household("T001").change_seq

    rows = registry_rows()
    rows[0][10] = rows[1][10] = "C"
    import_file(write_xlsx(tmp_path / "b.xlsx", rows), town_name="太河镇")

    t001 = household("T001")
    change = db.session.scalar(select(KlassChange).where(KlassChange.household_id == t001.id))
    assert (change.klass_from, change.klass_to, change.reason) == ("B", "C", "import b.xlsx")
    visited = db.session.get(VisitMonth, (t001.id, month))
    assert visited.klass == "C"
    counts = {
        c.klass: c.households
        for c in db.session.scalars(
            select(VisitMonthCount).where(
                VisitMonthCount.month == month, VisitMonthCount.village_id == t001.village_id
            )
        )
    }
    assert counts == {"B": 0, "C": 1}
    assert t001.change_seq > seq_before  # phones pull the new class


def test_an_import_records_its_user_on_the_class_change(world, tmp_path):
    import_file(write_xlsx(tmp_path / "a.xlsx", registry_rows()), town_name="太河镇")
    rows = registry_rows()
    rows[2][10] = "D"
    supervisor = world.users["town_supervisor"]
    import_file(write_xlsx(tmp_path / "b.xlsx", rows), actor=supervisor)
    change = db.session.scalar(select(KlassChange))
    assert change.changed_by_id == supervisor.id


def scope(world) -> stats.Scope:
    return stats.Scope(world.users["town_supervisor"], [(world.town, [world.chengzi])])


def chengzi_b(world, period, now) -> stats.Cell:
    (grid,) = stats.grids(scope(world), period, now)
    row_ = next(r for r in grid.rows if r.village.id == world.chengzi.id)
    return row_.cells["B"]


def test_no_month_before_a_household_entered_counts_it_overdue(world, tmp_path):
    rows = [row("N001", "城子村", "新", "新", person(71), "户主")]  # class B: every 60 days
    import_file(write_xlsx(tmp_path / "r.xlsx", rows), town_name="太河镇")
    new = household("N001")
    assert new.entered_on == local_today()
    now = utcnow()
    this_month = current_month(now, SHANGHAI)
    last_month = this_month.previous()
    # H0001, in the registry from before, is overdue then and now; N001 in neither.
    assert (
        chengzi_b(world, last_month, now).households,
        chengzi_b(world, last_month, now).overdue,
    ) == (1, 1)
    assert (
        chengzi_b(world, this_month, now).households,
        chengzi_b(world, this_month, now).overdue,
    ) == (2, 1)
    overdue_now = {
        h.code for h in db.session.scalars(stats.overdue_query(scope(world), this_month, now))
    }
    assert overdue_now == {"H0001"}

    new.entered_on = local_today() - timedelta(days=61)  # a rhythm has passed unvisited
    db.session.commit()
    assert chengzi_b(world, this_month, now).overdue == 2


def county_rows() -> list[list]:
    header = ["镇", *HEADER]
    shared = ("王干部", "13900000055")
    rows = [
        ["太河镇", *row("C001", "城子村", "甲", "甲", person(91), "户主", cadre=shared)],
        ["寨里镇", *row("C002", "东村", "乙", "乙", person(92), "户主", cadre=shared)],
    ]
    return header, rows


def test_in_a_county_import_one_cadre_serves_several_towns(world, tmp_path):
    header, rows = county_rows()
    report = import_file(write_xlsx(tmp_path / "county.xlsx", rows, header))
    assert report.errors == [] and report.cadres_created == 1
    assert active_cadres(household("C001")) == active_cadres(household("C002")) == {"王干部"}
    # The account exists already at the next import: found by phone in both towns again.
    report = import_file(write_xlsx(tmp_path / "county.xlsx", rows, header))
    assert report.errors == [] and report.households_unchanged == 2

    # A town's own import keeps to its cadres, as assigning in the app does.
    world.users["other_cadre"].phone = "13911112222"
    db.session.commit()
    mine = [row("C003", "城子村", "丙", "丙", person(93), "户主", cadre=("某", "13911112222"))]
    supervisor = world.users["town_supervisor"]
    report = import_file(write_xlsx(tmp_path / "town.xlsx", mine), actor=supervisor)
    assert [(e.household_code, e.field) for e in report.errors] == [("C003", "cadre_phone")]


def test_the_command_logs_progress_lines_when_not_on_a_terminal(world, app, tmp_path):
    rows = [
        row(
            f"L{n:05d}",
            "城子村",
            f"户{n}",
            f"户{n}",
            person(n % 1000, birth=f"19{50 + n // 1000}0101"),  # 1,000 serials a day
            "户主",
            cadre=(None, None),
        )
        for n in range(2500)
    ]
    path = write_csv(tmp_path / "big.csv", rows, encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["import", "households", str(path), "--town", "太河镇"]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "已导入" in line]
    assert len(lines) >= 5  # a line at each tenth, not one bar redrawn in place
    assert lines[-1].endswith("已导入 2500 / 2500 行（100%）")
    assert "\r" not in result.stderr
