"""Registry import: good XLSX and CSV files, re-imports, changed files, bad rows, scope."""

import csv
import io
import json

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from server.extensions import db
from server.idcard import mask
from server.importer import ImportFileError, import_file
from server.importer.columns import COLUMNS
from server.importer.template import template_bytes
from server.models import AuditEvent, Household, User, Village
from tests.conftest import id_number

# The file columns in the importer's own order, without the optional town.
HEADER = [column.header for column in COLUMNS if column.field != "town"]


def person(serial: int, birth: str = "19700101") -> str:
    return id_number(serial, birth=birth, region="370302")


def row(
    code,
    village,
    head,
    name,
    number,
    relation,
    klass="B",
    cadre=("李明", "13900000001"),
    health="健康",
    phone="13800000001",
    birth_year=None,
    sex=None,
    measures=None,
):
    return [
        code,
        village,
        head,
        name,
        number,
        relation,
        birth_year,
        sex,
        health,
        "普通劳动力",
        klass,
        phone,
        cadre[0],
        cadre[1],
        measures,
    ]


def registry_rows() -> list[list]:
    """Three new households: in 城子村 and 纱帽村 (existing villages) and in 新村 (a new one)."""
    return [
        row("T001", "城子村", "王大山", "王大山", person(11), "户主"),
        row("T001", "城子村", "王大山", "刘桂花", person(12), "配偶", health="长期慢性病"),
        row(
            "T002",
            "纱帽村",
            "赵二",
            "赵二",
            person(21),
            "户主",
            klass="C",
            cadre=("陈芳", "13900000002"),
        ),
        row("T003", "新村", "孙三", "孙三", person(31), "户主", klass="A"),
        row("T003", "新村", "孙三", "孙小妹", person(32, "20100101"), "女", klass="A"),
    ]


def write_xlsx(path, rows, header=HEADER, title=None):
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    workbook.save(path)
    return path


def write_csv(path, rows, header=HEADER, encoding="gbk"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def household(code: str) -> Household | None:
    db.session.expire_all()
    return db.session.scalar(select(Household).where(Household.code == code))


def active_cadres(h: Household) -> set[str]:
    return {a.cadre.display_name for a in h.assignments if a.ended_at is None}


# -- good files -------------------------------------------------------------------------------


def test_good_xlsx_creates_households_members_villages_and_cadres(world, tmp_path):
    path = write_xlsx(tmp_path / "registry.xlsx", registry_rows())
    progress = []
    report = import_file(path, town_name="太河镇", progress=lambda d, t: progress.append((d, t)))

    assert report.errors == []
    assert (report.households_created, report.members_created) == (3, 5)
    assert (report.cadres_created, report.villages_created) == (2, 1)
    assert progress[-1] == (5, 5)
    t001 = household("T001")
    assert t001.village_id == world.chengzi.id and t001.klass == "B"
    assert [(m.name, m.relation, m.sex) for m in t001.members] == [
        ("王大山", "户主", "M"),
        ("刘桂花", "配偶", "F"),
    ]
    assert t001.members[1].health == "长期慢性病" and t001.members[1].birth_year == 1970
    assert active_cadres(t001) == {"李明"}
    new_village = db.session.scalar(select(Village).where(Village.name == "新村"))
    assert new_village.town_id == world.town.id
    cadre = db.session.scalar(select(User).where(User.username == "13900000001"))
    assert (cadre.role, cadre.town_id, cadre.password_hash) == ("cadre", world.town.id, None)


def test_imported_and_changed_households_reach_the_change_sequence(world, tmp_path):
    import_file(write_xlsx(tmp_path / "a.xlsx", registry_rows()), town_name="太河镇")
    first = {code: household(code).change_seq for code in ("T001", "T002", "T003")}
    assert all(seq > 0 for seq in first.values())
    rows = registry_rows()
    rows[2][8] = "大病"  # T002's head falls ill
    import_file(write_xlsx(tmp_path / "b.xlsx", rows), town_name="太河镇")
    t001, t002 = household("T001"), household("T002")
    assert t001.change_seq == first["T001"] and t002.change_seq > first["T002"]
    assert t002.version == 2


def test_audit_events_mask_id_numbers_and_name_no_actor_from_a_command(world, tmp_path):
    import_file(write_xlsx(tmp_path / "r.xlsx", registry_rows()), town_name="太河镇")
    events = db.session.scalars(select(AuditEvent)).all()
    assert {(e.action, e.entity) for e in events} >= {
        ("create", "household"),
        ("create", "user"),
        ("create", "village"),
        ("import", "registry"),
    }
    assert all(e.actor_id is None and e.reason == "import r.xlsx" for e in events)
    dumped = json.dumps([[e.before, e.after] for e in events], ensure_ascii=False)
    assert person(11) not in dumped and mask(person(11)) in dumped


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_good_csv_with_english_aliases_in_any_order(world, tmp_path, encoding):
    header = [
        "village",
        "code",
        "class",
        "relation",
        "id_number",
        "name",
        "head_name",
        "备注",
        "sex",
        "cadre_phone",
        "cadre_name",
    ]
    rows = [
        [
            "城子村",
            "C001",
            "d",
            "户主",
            person(41),
            "钱四",
            "钱四",
            "任意备注",
            "男",
            "139-0000-0009",
            "周干部",
        ],
        [
            "城子村",
            "C001",
            "D类",
            "子",
            person(43, "19950505"),
            "钱小五",
            "钱四",
            "",
            "",
            "",
            "周干部",
        ],
    ]
    path = write_csv(tmp_path / "r.csv", rows, header, encoding)
    report = import_file(path, town_name="太河镇")
    assert report.errors == [] and report.households_created == 1
    c001 = household("C001")
    assert c001.klass == "D" and c001.phone is None
    assert [(m.name, m.sex, m.birth_year) for m in c001.members] == [
        ("钱四", "M", 1970),
        ("钱小五", "M", 1995),
    ]
    assert active_cadres(c001) == {"周干部"}
    cadre = db.session.scalar(select(User).where(User.display_name == "周干部"))
    assert cadre.username == cadre.phone == "13900000009"


def test_a_title_row_above_the_header_and_unordered_rows_are_fine(world, tmp_path):
    rows = registry_rows()
    shuffled = [rows[0], rows[3], rows[2], rows[4], rows[1]]  # a household's rows apart
    path = write_xlsx(tmp_path / "r.xlsx", shuffled, title="太河镇脱贫享受政策户花名册")
    report = import_file(path, town_name="太河镇")
    assert report.errors == [] and report.households_created == 3
    assert [m.name for m in household("T003").members] == ["孙三", "孙小妹"]


def test_the_only_town_is_the_default(app, tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", registry_rows())
    with pytest.raises(ImportFileError):  # an empty database: which town?
        import_file(path)
    report = import_file(path, town_name="太河镇")  # a command may create the town
    assert report.towns_created == 1
    assert import_file(path).households_unchanged == 3


# -- re-imports -------------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(world, tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", registry_rows())
    import_file(path, town_name="太河镇")
    events, versions = (
        audit_count(),
        {h.code: h.version for h in db.session.scalars(select(Household))},
    )

    report = import_file(path, town_name="太河镇")

    assert report.households_unchanged == 3 and report.errors == []
    assert report.households_created == report.households_updated == report.cadres_created == 0
    assert audit_count() == events
    db.session.expire_all()
    assert {h.code: h.version for h in db.session.scalars(select(Household))} == versions


def test_a_changed_file_updates_exactly_what_changed(world, tmp_path):
    import_file(write_xlsx(tmp_path / "a.xlsx", registry_rows()), town_name="太河镇")
    first_audit = db.session.scalar(select(func.max(AuditEvent.id)))
    old_member_id = household("T001").members[1].id
    rows = registry_rows()
    rows[0][10] = rows[1][10] = "C"  # T001: class B -> C
    rows[1][8] = "大病"  # T001: the spouse's health
    rows[0][12:14] = rows[1][12:14] = ["陈芳", "13900000002"]  # T001: another cadre
    rows.append(
        row(
            "T001",
            "城子村",
            "王大山",
            "王小明",
            person(13, "20000101"),
            "子",
            "C",
            cadre=("陈芳", "13900000002"),
        )
    )
    del rows[4]  # T003: the daughter leaves

    report = import_file(write_xlsx(tmp_path / "b.xlsx", rows), town_name="太河镇")

    assert report.errors == []
    assert (report.households_updated, report.households_unchanged) == (2, 1)
    assert (report.members_created, report.members_updated, report.members_removed) == (1, 1, 1)
    assert (report.assignments_started, report.assignments_ended, report.cadres_created) == (
        1,
        1,
        0,
    )
    t001, t002, t003 = household("T001"), household("T002"), household("T003")
    assert (t001.klass, t001.version, t002.version, t003.version) == ("C", 2, 1, 2)
    assert t001.members[1].id == old_member_id and t001.members[1].health == "大病"
    assert [m.name for m in t001.members] == ["王大山", "刘桂花", "王小明"]
    assert [m.name for m in t003.members] == ["孙三"]
    assert active_cadres(t001) == {"陈芳"}
    ended = [a for a in t001.assignments if a.ended_at is not None]
    assert [a.cadre.display_name for a in ended] == ["李明"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > first_audit)).all()
    assert sorted((e.action, e.entity) for e in events) == sorted(
        [
            ("update", "household"),  # class
            ("create", "member"),
            ("update", "member"),
            ("delete", "member"),
            ("unassign", "household"),
            ("assign", "household"),
            ("import", "registry"),
        ]
    )
    update = next(e for e in events if e.action == "update" and e.entity == "household")
    assert (update.before, update.after) == ({"klass": "B"}, {"klass": "C"})


def test_a_household_without_cadres_in_the_file_keeps_its_cadres(world, tmp_path):
    rows = [row("H0001", "城子村", "户主1", "户主1", id_number(1), "户主", cadre=(None, None))]
    report = import_file(write_xlsx(tmp_path / "r.xlsx", rows), town_name="太河镇")
    assert report.errors == [] and report.households_updated == 1  # health, labour, phone
    assert active_cadres(household("H0001")) == {"chengzi_cadre"}


def test_cadres_are_found_by_phone_then_by_name_within_the_town(world, tmp_path):
    world.users["other_cadre"].phone = "13911112222"
    world.users["town_supervisor"].phone = "13933334444"
    world.users["shamao_cadre"].phone = None
    db.session.commit()
    rows = [
        row("K001", "城子村", "甲", "甲", person(101), "户主", cadre=("shamao_cadre", None)),
        row("K002", "城子村", "乙", "乙", person(102), "户主", cadre=("某干部", "13911112222")),
        row("K003", "城子村", "丙", "丙", person(103), "户主", cadre=("某督导", "13933334444")),
        row("K004", "城子村", "丁", "丁", person(104), "户主", cadre=("无电话", None)),
    ]
    supervisor = world.users["town_supervisor"]
    report = import_file(write_xlsx(tmp_path / "r.xlsx", rows), actor=supervisor)
    assert report.households_created == 1 and report.cadres_created == 0
    assert active_cadres(household("K001")) == {"shamao_cadre"}
    assert {(e.household_code, e.field, e.message) for e in report.errors} == {
        ("K002", "cadre_phone", "该电话是其他镇干部的电话"),  # a town's import keeps to its own
        ("K003", "cadre_phone", "该电话已属于其他账号"),
        ("K004", "cadre_name", "新干部需要填写干部电话"),
    }


# -- bad rows ---------------------------------------------------------------------------------


def bad_rows() -> list[list]:
    wrong_check = person(51)[:17] + ("0" if person(51)[17] != "0" else "1")
    return [
        row("B001", "城子村", "甲", "甲", person(51), "户主"),
        row("B001", "城子村", "甲", "乙", wrong_check, "配偶", cadre=("新干部", "13900000077")),
        row("B002", "城子村", "丙", "丙", person(53), "户主"),
        row("B002", "城子村", "丙", "丁", person(54), "户主"),
        row("B003", "城子村", "戊", "戊", person(55), "户主", klass="E"),
        row("B004", "城子村", "己", "己", person(57), "户主", sex="女", birth_year=1980),
        row("G001", "城子村", "好", "好", person(59), "户主"),
    ]


def test_bad_rows_reject_their_household_only(world, tmp_path):
    before = audit_count()
    report = import_file(write_xlsx(tmp_path / "bad.xlsx", bad_rows()), town_name="太河镇")

    assert (report.households_created, report.households_rejected) == (1, 4)
    found = {(e.row, e.field, e.column, e.household_code) for e in report.errors}
    assert found == {
        (3, "id_number", "身份证号", "B001"),
        (5, "relation", "与户主关系", "B002"),
        (6, "klass", "类别", "B003"),
        (7, "birth_year", "出生年份", "B004"),
        (7, "sex", "性别", "B004"),
    }
    messages = {e.field: e.message for e in report.errors}
    assert messages["id_number"] == "校验位不正确"
    assert messages["klass"] == "应为 A、B、C、D 之一"
    assert str(report.errors[0]) == "第3行 身份证号：校验位不正确"
    assert household("G001") is not None
    for code in ("B001", "B002", "B003", "B004"):
        assert household(code) is None
    assert db.session.scalar(select(User).where(User.phone == "13900000077")) is None
    assert audit_count() == before + 3  # the good household, its new cadre, the summary


def test_duplicate_and_foreign_id_numbers_are_refused(world, tmp_path):
    rows = [
        row("D001", "城子村", "甲", "甲", person(61), "户主"),
        row("D002", "城子村", "乙", "乙", person(61), "户主"),  # the same person twice
        row("D003", "城子村", "丙", "丙", id_number(2), "户主"),  # H0002's head, not in file
    ]
    report = import_file(write_xlsx(tmp_path / "r.xlsx", rows), town_name="太河镇")
    assert report.households_created == 1
    assert {(e.household_code, e.message) for e in report.errors} == {
        ("D002", "与第2行重复"),
        ("D003", "已登记在户 H0002 中"),
    }


def test_an_id_number_stored_as_a_number_is_explained(world, tmp_path):
    rows = [row("N001", "城子村", "甲", "甲", float(person(71)[:17] + "1"), "户主")]
    report = import_file(write_xlsx(tmp_path / "r.xlsx", rows), town_name="太河镇")
    assert report.households_rejected == 1
    assert "文本格式" in report.errors[0].message


def test_a_missing_column_is_one_clear_error(world, tmp_path):
    header = [h for h in HEADER if h not in ("身份证号", "类别")]
    rows = [[v for h, v in zip(HEADER, r, strict=True) if h in header] for r in registry_rows()]
    with pytest.raises(ImportFileError) as caught:
        import_file(write_xlsx(tmp_path / "r.xlsx", rows, header), town_name="太河镇")
    assert caught.value.columns == ["身份证号", "类别"]
    assert str(caught.value.message) == "文件缺少必需的列：身份证号、类别。"
    assert household("T001") is None


def test_a_dry_run_writes_nothing(world, tmp_path):
    before = audit_count()
    report = import_file(
        write_xlsx(tmp_path / "r.xlsx", registry_rows()), town_name="太河镇", dry_run=True
    )
    assert (report.households_created, report.cadres_created, report.dry_run) == (3, 2, True)
    assert household("T001") is None and audit_count() == before
    assert db.session.scalar(select(Village).where(Village.name == "新村")) is None


# -- the command ------------------------------------------------------------------------------


def test_command_prints_a_summary_and_fails_on_rejected_rows(world, app, tmp_path):
    runner = app.test_cli_runner()
    good = write_xlsx(tmp_path / "good.xlsx", registry_rows())
    result = runner.invoke(args=["import", "households", str(good), "--town", "太河镇"])
    assert result.exit_code == 0, result.output
    assert "户：新增3，更新0，未变0，拒绝0" in result.output

    bad = write_xlsx(tmp_path / "bad.xlsx", bad_rows())
    result = runner.invoke(args=["import", "households", str(bad), "--town", "太河镇"])
    assert result.exit_code == 1
    assert "第3行 身份证号：校验位不正确" in result.output


def test_command_writes_a_template_that_imports(world, app, tmp_path):
    out = tmp_path / "template.xlsx"
    result = app.test_cli_runner().invoke(args=["import", "template", str(out), "--town", "太河镇"])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["户籍", "填写说明"]
    assert [c.value for c in workbook["填写说明"]["A"]][1:4] == ["户编号", "镇", "村"]
    report = import_file(out)
    assert (report.households_created, report.members_created, report.errors) == (1, 3, [])


# -- the API ----------------------------------------------------------------------------------


def upload(client, rows, name="r.xlsx", **form):
    buffer = io.BytesIO()
    write_xlsx(buffer, rows)
    data = {"file": (io.BytesIO(buffer.getvalue()), name), **form}
    return client.post("/api/imports", data=data, content_type="multipart/form-data")


def test_api_imports_within_a_village_supervisors_scope(world, login):
    rows = [
        row("S001", "城子村", "甲", "甲", person(81), "户主"),
        row("S002", "纱帽村", "乙", "乙", person(82), "户主"),  # not this supervisor's village
        row("H0003", "城子村", "丙", "丙", person(83), "户主"),  # a code from another town
    ]
    response = upload(login("chengzi_supervisor"), rows)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["households_created"], body["households_rejected"]) == (1, 2)
    errors = {(e["household_code"], e["field"], e["column"]) for e in body["errors"]}
    assert errors == {("S002", "village", "村"), ("H0003", "code", "户编号")}
    assert household("H0003").head_name == "户主3"
    supervisor = world.users["chengzi_supervisor"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "household"))
    assert event.actor_id == supervisor.id


def test_api_keeps_a_town_supervisor_in_the_town(world, login):
    rows = [row("S101", "东村", "甲", "甲", person(91), "户主")]
    client = login("town_supervisor")
    refused = upload(client, rows, town="寨里镇")
    assert refused.status_code == 422 and refused.get_json()["error"] == "bad_file"
    body = upload(client, rows).get_json()  # 东村 does not exist in 太河镇: it would be created
    assert body["households_created"] == 1 and body["villages_created"] == 1
    village = household("S101").village
    assert (village.name, village.town_id) == ("东村", world.town.id)


def test_api_refuses_cadres_and_explains_bad_files(world, login):
    rows = [row("S201", "城子村", "甲", "甲", person(92), "户主")]
    assert upload(login("chengzi_cadre"), rows).status_code == 403
    assert login("chengzi_cadre").get("/api/imports/template.xlsx").status_code == 403
    admin = login("admin")
    missing = admin.post("/api/imports", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.get_json()["fields"]
    garbage = admin.post(
        "/api/imports",
        data={"file": (io.BytesIO(b"\xd0\xcf\x11\xe0old excel"), "r.xls")},
        content_type="multipart/form-data",
    )
    assert garbage.status_code == 422 and garbage.get_json()["error"] == "bad_file"


def test_api_template_round_trips(world, login):
    client = login("town_supervisor")
    response = client.get("/api/imports/template.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = {"file": (io.BytesIO(response.data), "template.xlsx")}
    body = client.post("/api/imports", data=data, content_type="multipart/form-data").get_json()
    assert (body["households_created"], body["members_created"], body["errors"]) == (1, 3, [])


def test_template_documents_every_column():
    workbook = load_workbook(io.BytesIO(template_bytes("太河镇")))
    headers = [c.value for c in workbook["户籍"][1]]
    assert headers[:3] == ["户编号", "镇", "村"] and len(headers) == 16
    notes = list(workbook["填写说明"].iter_rows(min_row=2, values_only=True))
    assert [n[0] for n in notes] == headers and all(n[3] for n in notes)


def measures_of(code: str) -> dict[str, str | None]:
    """{kind: end date or None} of a household's measures."""
    return {
        m.kind: m.ended_on.isoformat() if m.ended_on else None for m in household(code).measures
    }


def test_support_measures_are_imported_replaced_and_kept(world, tmp_path):
    rows = registry_rows()
    rows[0][-1] = "公益岗位、医疗救助"
    rows[1][-1] = "医疗救助；分红"  # a second row of T001 adds to the first
    rows[2][-1] = "差异化分红"
    report = import_file(write_xlsx(tmp_path / "a.xlsx", rows), town_name="太河镇")
    assert report.errors == [] and report.measures_started == 4
    assert measures_of("T001") == {
        "public_welfare_post": None,
        "medical_relief": None,
        "dividend": None,
    }
    assert measures_of("T002") == {"dividend": None} and measures_of("T003") == {}

    again = import_file(write_xlsx(tmp_path / "b.xlsx", rows), town_name="太河镇")
    assert again.households_unchanged == 3 and again.measures_started == 0

    rows[0][-1], rows[1][-1] = "公益岗位", None  # T001 no longer gets relief or dividends
    rows[2][-1] = None  # T002 names none: it keeps its dividend
    changed = import_file(write_xlsx(tmp_path / "c.xlsx", rows), town_name="太河镇")
    assert (changed.measures_started, changed.measures_ended) == (0, 2)
    ended = measures_of("T001")
    assert ended["public_welfare_post"] is None
    assert ended["medical_relief"] == ended["dividend"] is not None
    assert measures_of("T002") == {"dividend": None}
    events = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity == "support_measure")
    ).all()
    assert events.count("update") == 2


def test_an_unknown_support_measure_rejects_its_household_with_the_name(world, tmp_path):
    rows = registry_rows()
    rows[2][-1] = "低保、扶贫鸡"
    report = import_file(write_xlsx(tmp_path / "a.xlsx", rows), town_name="太河镇")
    assert report.households_created == 2 and report.households_rejected == 1
    [error] = report.errors
    assert error.column == "帮扶措施" and "扶贫鸡" in str(error.reason)
    assert household("T002") is None
