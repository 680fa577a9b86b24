"""The template a town office fills in: the header row, one example household, and a sheet
that explains every column."""

from io import BytesIO

from flask_babel import gettext
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .. import idcard
from ..spreadsheet import safe_cell
from .columns import BY_FIELD, COLUMNS
from .validation import SEX_NAMES

TEXT_FIELDS = ("code", "id_number", "phone", "cadre_phone")  # digits Excel must not reformat
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")


def _id_number(birth: str, serial: str) -> str:
    first17 = f"370302{birth}{serial}"
    return first17 + idcard.check_digit(first17)


def example_rows(town: str) -> list[dict]:
    household = {
        "code": "370302101001",
        "town": town,
        "village": "城子村",
        "head_name": "张建国",
        "klass": "B",
        "phone": "13800000001",
        "cadre_name": "李明",
        "cadre_phone": "13900000001",
    }
    members = [
        ("张建国", "19630715", "021", "户主", "健康", "普通劳动力"),
        ("王秀兰", "19660226", "042", "配偶", "长期慢性病", "弱劳动力"),
        ("张伟", "19901108", "013", "子", "健康", "普通劳动力"),
    ]
    rows = []
    for name, birth, serial, relation, health, labour in members:
        number = _id_number(birth, serial)
        rows.append(
            household
            | {
                "member_name": name,
                "id_number": number,
                "relation": relation,
                "birth_year": idcard.birth_year(number),
                "sex": SEX_NAMES[idcard.sex(number)],
                "health": health,
                "labour_capacity": labour,
            }
        )
    return rows


def _data_sheet(sheet, town: str) -> None:
    sheet.title = "户籍"
    sheet.append([column.header for column in COLUMNS])
    for row in example_rows(town):
        sheet.append([safe_cell(row.get(column.field)) for column in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 20 if column.field in TEXT_FIELDS else 12
        header = sheet.cell(row=1, column=index)
        header.font = Font(bold=True)
        if column.required:
            header.fill = REQUIRED_FILL
        if column.field in TEXT_FIELDS:
            sheet.column_dimensions[letter].number_format = "@"
            for cell in sheet[letter][1:]:
                cell.number_format = "@"
    sheet.freeze_panes = "A2"
    _choices(sheet, "klass", '"A,B,C,D"')
    _choices(sheet, "sex", '"男,女"')


def _choices(sheet, field: str, options: str) -> None:
    letter = get_column_letter(list(BY_FIELD).index(field) + 1)
    validation = DataValidation(type="list", formula1=options, allow_blank=True)
    validation.add(f"{letter}2:{letter}100000")
    sheet.add_data_validation(validation)


def _notes_sheet(sheet) -> None:
    sheet.title = "填写说明"
    sheet.append(
        [
            gettext("Column"),
            gettext("English name"),
            gettext("Required"),
            gettext("What to write"),
            gettext("Example"),
        ]
    )
    for column in COLUMNS:
        sheet.append(
            [
                column.header,
                column.field,
                gettext("yes") if column.required else "",
                str(column.description),
                column.example,
            ]
        )
    for letter, width in zip("ABCDE", (12, 16, 6, 80, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    for cell in sheet[1]:
        cell.font = Font(bold=True)


def template_bytes(town: str) -> bytes:
    workbook = Workbook()
    _data_sheet(workbook.active, town)
    _notes_sheet(workbook.create_sheet())
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
