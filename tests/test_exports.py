"""Exports: XLSX that openpyxl opens with the right rows, CSV with a BOM, Chinese file names."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

from openpyxl import load_workbook

from server.extensions import db
from server.models import CropRecord, Household, utcnow
from tests.coverage_helpers import add_visit, local


def _xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = [tuple(row) for row in workbook.active.iter_rows(values_only=True)]
    width = len(rows[0])  # read-only mode leaves out trailing empty cells
    return [row + (None,) * (width - len(row)) for row in rows]


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _filename(response) -> str:
    header = response.headers["Content-Disposition"]
    assert header.startswith("attachment; filename=")
    return unquote(header.split("filename*=UTF-8''")[1])


def _march_visits(world):
    cadre = world.users["chengzi_cadre"]
    first = add_visit(
        world.h_chengzi,
        cadre,
        local(2025, 3, 31, 23, 59),
        notes="第一次",
        situation={"health": "worse", "income": "same"},
    )
    db.session.add_all(
        [
            CropRecord(
                household_id=world.h_chengzi.id,
                visit_id=first.id,
                crop="kiwifruit",
                area_mu=Decimal("0.5"),
                expected_income_fen=200050,
                season_year=2025,
            ),
            CropRecord(
                household_id=world.h_chengzi.id,
                visit_id=first.id,
                crop="other",
                crop_name="玉米",
                area_mu=Decimal("1.25"),
                season_year=2025,
            ),
        ]
    )
    add_visit(world.h_chengzi, cadre, local(2025, 3, 1, 0, 0), notes="月初")
    add_visit(world.h_chengzi, cadre, local(2025, 4, 1, 0, 0), notes="四月")
    add_visit(world.h_shamao, world.users["shamao_cadre"], local(2025, 3, 15), notes="纱帽")
    db.session.commit()


def test_visits_with_crops_xlsx_for_a_village_and_month(world, login):
    _march_visits(world)
    client = login("town_supervisor")
    response = client.get(f"/office/export/visits.xlsx?period=2025-03&village={world.chengzi.id}")
    rows = _xlsx_rows(response)
    header, body = rows[0], rows[1:]
    assert header[0] == "走访时间" and "预计收入（元）" in header
    # Two March visits in 城子村, one with two crops (two rows); not April's, not 纱帽村's.
    notes = [row[header.index("备注")] for row in body]
    assert notes == ["月初", "第一次", "第一次"]
    crops = [row[header.index("作物")] for row in body]
    assert crops == [None, "猕猴桃", "玉米"]
    kiwi = body[1]
    assert kiwi[0] == "2025-03-31 23:59"
    assert Decimal(str(kiwi[header.index("面积（亩）")])) == Decimal("0.5")
    assert Decimal(str(kiwi[header.index("预计收入（元）")])) == Decimal("2000.50")
    assert body[1][header.index("情况变化")] == "健康：变差"
    assert body[0][header.index("情况变化")] is None
    name = _filename(response)
    assert name == "走访记录_太河镇城子村_2025年03月.xlsx"


def test_visits_csv_has_a_bom_and_the_same_rows(world, login):
    _march_visits(world)
    response = login("town_supervisor").get("/office/export/visits.csv?period=2025-03")
    rows = _csv_rows(response)
    assert len(rows) == 1 + 4  # 城子村 3 rows, 纱帽村 1
    assert rows[1][0] == "2025-03-01 00:00"
    assert _filename(response).endswith("2025年03月.csv")
    year = _csv_rows(login("town_supervisor").get("/office/export/visits.csv?period=2025"))
    assert len(year) == 1 + 5


def test_coverage_table_export(world, login):
    _march_visits(world)
    rows = _xlsx_rows(login("town_supervisor").get("/office/export/coverage.xlsx?period=2025-03"))
    header = rows[0]
    assert header == ("镇", "村", "类别", "户数", "已走访", "逾期", "覆盖率%")
    chengzi_b = next(r for r in rows if r[1] == "城子村" and r[2] == "B")
    assert chengzi_b[3:] == (1, 1, 0, 100.0)
    total = next(r for r in rows if r[1] == "合计")
    assert total[3:6] == (2, 2, 0)
    csv_rows = _csv_rows(login("town_supervisor").get("/office/export/coverage.csv?period=2025-03"))
    assert csv_rows[0][0] == "镇" and len(csv_rows) == len(rows)


def test_overdue_export_lists_households_with_cadres(world, login):
    now = utcnow()
    add_visit(world.h_chengzi, world.users["chengzi_cadre"], now - timedelta(days=10))
    db.session.add(Household(code="H9999", village=world.chengzi, head_name="从未走访", klass="D"))
    db.session.commit()
    rows = _xlsx_rows(login("town_supervisor").get("/office/export/overdue.xlsx"))
    names = sorted(row[1] for row in rows[1:])
    assert names == ["从未走访", "户主2"]
    shamao = next(r for r in rows if r[1] == "户主2")
    assert shamao[7] == "shamao_cadre" and shamao[5] is None  # never visited
    csv_rows = _csv_rows(login("chengzi_supervisor").get("/office/export/overdue.csv"))
    assert [r[1] for r in csv_rows[1:]] == ["从未走访"]


def test_exports_obey_scope(world, login):
    _march_visits(world)
    client = login("chengzi_supervisor")
    rows = _csv_rows(client.get("/office/export/visits.csv?period=2025-03"))
    assert {r[2] for r in rows[1:]} == {"城子村"}
    assert (
        client.get(
            f"/office/export/visits.csv?period=2025-03&village={world.shamao.id}"
        ).status_code
        == 404
    )
    assert client.get("/office/export/secrets.csv").status_code == 404
    assert client.get("/office/export/coverage.pdf").status_code == 404
    assert client.get("/office/export/coverage.csv?period=2025").status_code == 400
    assert login("chengzi_cadre").get("/office/export/visits.csv").status_code == 403


def test_english_headers_when_english_is_chosen(world, login):
    _march_visits(world)
    client = login("town_supervisor")
    client.client.set_cookie("lang", "en")
    rows = _csv_rows(client.get("/office/export/visits.csv?period=2025-03"))
    assert rows[0][0] == "Visit time"


def test_xlsx_rows_are_written_as_openpyxl_writes_them(tmp_path):
    """The sheet's rows bypass openpyxl's per-cell objects; the XML must stay the same."""
    import zipfile
    from xml.etree.ElementTree import canonicalize

    from openpyxl import Workbook

    from server.coverage.exports import SHEET, write_xlsx

    rows = [
        ["走访时间", "户编号", "备注", "面积", "株数", "收入"],
        ["2025-03-05 10:00", "H0001", "a & b < c > d", Decimal("0.50"), 12, 2000.5],
        [None, "", " leading space", Decimal(200000) / 100, 0, float("nan")],
        ["=1+1", "trailing\n", "收入：变差；健康：好转", None, -3, 1e-7],
    ]
    ours = tmp_path / "ours.xlsx"
    write_xlsx(iter(rows), "走访记录", str(ours))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("走访记录")
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
    theirs = tmp_path / "theirs.xlsx"
    workbook.save(theirs)

    def sheet(path) -> str:  # canonical XML: lxml writes "&#36208;" where we write "走"
        return canonicalize(zipfile.ZipFile(path).read(SHEET).decode())

    # openpyxl writes a string starting with "=" as a formula; an export writes it as text,
    # neutralised (server/spreadsheet.py). And openpyxl writes NaN as an empty number, we
    # leave the cell out.
    expected = (
        sheet(theirs)
        .replace(
            '<c r="A4"><f>1+1</f><v></v></c>', '<c r="A4" t="inlineStr"><is><t>\'=1+1</t></is></c>'
        )
        .replace('<c r="F3" t="n"><v></v></c>', "")
    )
    assert sheet(ours) == expected
    with zipfile.ZipFile(ours) as built, zipfile.ZipFile(theirs) as reference:
        assert built.namelist() == reference.namelist()
    read = load_workbook(ours).active
    assert read.title == "走访记录"
    assert read["C2"].value == "a & b < c > d" and read["A4"].value == "'=1+1"
    assert read["D2"].value == 0.5 and read["C3"].value == " leading space"


def test_xlsx_drops_characters_xml_cannot_hold(tmp_path):
    from server.coverage.exports import write_xlsx

    path = tmp_path / "x.xlsx"
    write_xlsx(iter([["bell\x07 and tab\t", "x" * 40_000]]), "x", str(path))
    sheet = load_workbook(path).active
    assert sheet["A1"].value == "bell and tab\t"
    assert len(sheet["B1"].value) == 32767
