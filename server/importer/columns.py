"""The columns of a registry file: their Chinese headers, English aliases, and what they mean."""

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _


@dataclass(frozen=True)
class Column:
    field: str  # the English name used in code and in the API
    header: str  # the Chinese header a town office writes
    aliases: tuple[str, ...]
    required: bool
    description: object  # a lazy string, shown in the template's second sheet
    example: str


COLUMNS = (
    Column(
        "code",
        "户编号",
        ("household_code", "code", "户号", "户编码"),
        True,
        _("Household code from the town office; all members of a household share it."),
        "370302101001",
    ),
    Column(
        "town",
        "镇",
        ("town", "乡镇", "镇街"),
        False,
        _("Town. Optional: without it, rows go to the town named at import."),
        "太河镇",
    ),
    Column(
        "village",
        "村",
        ("village", "行政村", "村名", "村庄", "所在村"),
        True,
        _("Village; a new name creates the village in the town."),
        "城子村",
    ),
    Column(
        "head_name",
        "户主姓名",
        ("head_name", "head", "户主名"),
        True,
        _("Name of the household head, the same on every row of the household."),
        "张建国",
    ),
    Column(
        "member_name",
        "成员姓名",
        ("member_name", "name", "姓名", "家庭成员姓名"),
        True,
        _("This member's name."),
        "张建国",
    ),
    Column(
        "id_number",
        "身份证号",
        ("id_number", "身份证号码", "证件号码", "身份证", "证件号", "公民身份号码"),
        True,
        _("18-character resident ID number, stored as text (not as a number)."),
        "370302196307150215",
    ),
    Column(
        "relation",
        "与户主关系",
        ("relation", "关系", "与户主的关系", "家庭关系"),
        True,
        _("Relation to the head: exactly one row per household says 户主."),
        "户主",
    ),
    Column(
        "birth_year",
        "出生年份",
        ("birth_year", "出生年"),
        False,
        _("Year of birth; taken from the ID number when empty, must agree with it."),
        "1963",
    ),
    Column(
        "sex",
        "性别",
        ("sex", "gender"),
        False,
        _("男 or 女; taken from the ID number when empty, must agree with it."),
        "男",
    ),
    Column(
        "health",
        "健康状况",
        ("health", "健康状态"),
        False,
        _("Health, e.g. 健康, 长期慢性病, 大病, 残疾."),
        "健康",
    ),
    Column(
        "labour_capacity",
        "劳动能力",
        ("labour_capacity", "labor_capacity"),
        False,
        _("Labour capacity, e.g. 普通劳动力, 弱劳动力, 无劳动能力."),
        "普通劳动力",
    ),
    Column(
        "klass",
        "类别",
        ("klass", "class", "category", "分类", "户类别", "户类型"),
        True,
        _("Household class A, B, C or D, the same on every row of the household."),
        "B",
    ),
    Column(
        "phone",
        "联系电话",
        ("phone", "电话", "手机号", "手机", "手机号码", "电话号码", "户主电话", "联系方式"),
        False,
        _("Household phone; the head's row is used first."),
        "13800000001",
    ),
    Column(
        "cadre_name",
        "帮扶干部",
        ("cadre_name", "cadre", "帮扶责任人", "帮扶人", "责任人", "帮扶干部姓名", "帮扶责任人姓名"),
        False,
        _(
            "Responsible cadre. Several names across a household's rows assign several cadres; "
            "a household without any keeps its current cadres."
        ),
        "李明",
    ),
    Column(
        "cadre_phone",
        "干部电话",
        (
            "cadre_phone",
            "帮扶干部电话",
            "帮扶责任人电话",
            "帮扶人电话",
            "责任人电话",
            "干部手机号",
            "帮扶人手机号",
            "责任人手机号",
        ),
        False,
        _(
            "Cadre's mobile phone: finds the cadre's account, or becomes the user name of a new "
            "one (no password until an admin sets one)."
        ),
        "13900000001",
    ),
    Column(
        "measures",
        "帮扶措施",
        ("measures", "support_measures", "帮扶措施类型"),
        False,
        _(
            "Support measures in force, separated by 、 (e.g. 公益岗位、医疗救助); several "
            "rows of a household add up. Measures no longer listed end on the import day; a "
            "household whose rows name none keeps its current measures."
        ),
        "公益岗位、医疗救助",
    ),
)

BY_FIELD = {column.field: column for column in COLUMNS}
REQUIRED = tuple(column.field for column in COLUMNS if column.required)
_NOTE = re.compile(r"\(.*?\)$")


def normalise_header(raw) -> str:
    """Header text as compared: half-width, no spaces, no '*' marks or (notes), lower case."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    text = _NOTE.sub("", re.sub(r"[\s*]", "", text))
    return text.lower()


_LOOKUP = {
    normalise_header(name): column.field
    for column in COLUMNS
    for name in (column.header, column.field, *column.aliases)
}


def field_for(header) -> str | None:
    return _LOOKUP.get(normalise_header(header))
