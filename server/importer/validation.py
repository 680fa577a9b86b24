"""Turning a household's rows into a plan to write, or into plain reasons why not.

Nothing here touches the database: these are the checks one file can answer by itself.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _

from .. import idcard
from ..models import KLASSES, MEASURE_KINDS
from .errors import RowError, RowProblem
from .reading import text_of

HEAD = "户主"
HEAD_ALIASES = {"户主", "本人", "户主本人"}
SEX_WORDS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
SEX_NAMES = {"M": "男", "F": "女"}
CODE_SHAPE = re.compile(r"^[0-9A-Za-z\-]{1,32}$")
PHONE_SHAPE = re.compile(r"^\+?[0-9][0-9\-]{4,19}$")
NUMBER_SHAPE = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
ID_REASONS = {
    "must be 18 characters": _("must be 18 characters"),
    "must be 17 digits followed by a digit or X": _("must be 17 digits followed by a digit or X"),
    "contains an impossible birth date": _("contains an impossible birth date"),
    "check digit does not match": _("check digit does not match"),
}
HOUSEHOLD_FIELDS = ("town", "village", "head_name", "klass")
# Support measures as a town office writes them (MEASURE_KINDS; "other" needs a detail, which
# a file cell cannot give, so it is set on the household page instead).
MEASURE_NAMES = {
    "技能培训": "skills_training",
    "小额信贷": "microcredit",
    "产业项目": "industry_project",
    "产业帮扶": "industry_project",
    "公益岗位": "public_welfare_post",
    "公益岗": "public_welfare_post",
    "就业帮扶": "employment",
    "医保参保资助": "medical_insurance",
    "医保资助": "medical_insurance",
    "分红": "dividend",
    "项目分红": "dividend",
    "差异化分红": "dividend",
    "临时救助": "temporary_relief",
    "医疗救助": "medical_relief",
    "低保": "dibao",
    "特困供养": "tekun",
    "特困": "tekun",
    "残疾人补贴": "disability_cert",
    "残疾证": "disability_cert",
    "敬老院": "nursing_home",
    "敬老院集中供养": "nursing_home",
    "购买照料服务": "care_service",
    "照料服务": "care_service",
} | {kind: kind for kind in MEASURE_KINDS if kind != "other"}
MEASURE_SEPARATORS = re.compile(r"[、,，;；/\s]+")


@dataclass
class MemberPlan:
    row: int
    name: str
    id_number: str
    relation: str
    birth_year: int
    sex: str
    health: str | None = None
    labour_capacity: str | None = None


@dataclass
class CadreRef:
    row: int
    name: str | None
    phone: str | None


@dataclass
class HouseholdPlan:
    code: str
    rows: list[int]
    town: str | None
    village: str
    head_name: str
    klass: str
    phone: str | None
    members: list[MemberPlan]
    cadres: list[CadreRef] | None  # None: the file names no cadre, so the current ones stay
    measures: list[str] | None = None  # None: the file names none, so the current ones stay
    errors: list[RowError] = field(default_factory=list)


# -- one cell ---------------------------------------------------------------------------------


def _text(value, max_length: int, required: bool = False) -> str | None:
    text = text_of(value)
    if text is None:
        if required:
            raise RowProblem(_("is required"))
        return None
    if len(text) > max_length:
        raise RowProblem(_("is longer than %(max)s characters", max=max_length))
    return text


def parse_code(value) -> str:
    text = _text(value, 32, required=True)
    if not CODE_SHAPE.match(text):
        raise RowProblem(_("must be letters, digits or '-' (at most 32)"))
    return text


def parse_id_number(value) -> str:
    if isinstance(value, float) or (isinstance(value, str) and NUMBER_SHAPE.match(value.strip())):
        raise RowProblem(
            _("was stored as a number and lost its last digits: format the column as text")
        )
    number = idcard.normalise(_text(value, 32, required=True))
    reason = idcard.problem(number)
    if reason:
        raise RowProblem(ID_REASONS.get(reason, reason))
    return number


def parse_relation(value) -> str:
    text = _text(value, 16, required=True)
    return HEAD if text in HEAD_ALIASES else text


def parse_klass(value) -> str:
    text = (_text(value, 8, required=True) or "").upper().removesuffix("类")
    if text not in KLASSES:
        raise RowProblem(_("must be one of A, B, C, D"))
    return text


def parse_sex(value) -> str | None:
    text = _text(value, 8)
    if text is None:
        return None
    if text.lower() not in SEX_WORDS:
        raise RowProblem(_("must be 男 or 女"))
    return SEX_WORDS[text.lower()]


def parse_birth_year(value) -> int | None:
    text = _text(value, 16)
    if text is None:
        return None
    text = text.removesuffix("年")
    latest = date.today().year
    if not text.isdigit() or not 1900 <= int(text) <= latest:
        raise RowProblem(_("must be a year between 1900 and %(max)s", max=latest))
    return int(text)


def parse_phone(value) -> str | None:
    text = _text(value, 32)
    if text is None:
        return None
    text = re.sub(r"\s", "", text)
    if not PHONE_SHAPE.match(text):
        raise RowProblem(_("must be a phone number"))
    return text


def parse_cadre_phone(value) -> str | None:
    phone = parse_phone(value)
    return phone.replace("-", "") if phone else None


def parse_measures(value) -> list[str] | None:
    text = _text(value, 200)
    if text is None:
        return None
    kinds, unknown = [], []
    for name in filter(None, MEASURE_SEPARATORS.split(text)):
        kind = MEASURE_NAMES.get(name) or MEASURE_NAMES.get(name.lower())
        if kind is None:
            unknown.append(name)
        elif kind not in kinds:
            kinds.append(kind)
    if unknown:
        raise RowProblem(
            _(
                "names unknown support measures (%(names)s); use e.g. %(known)s",
                names="、".join(unknown),
                known="、".join(list(MEASURE_NAMES)[:6]),
            )
        )
    return kinds or None


PARSERS = {
    "code": parse_code,
    "town": lambda v: _text(v, 64),
    "village": lambda v: _text(v, 64, required=True),
    "head_name": lambda v: _text(v, 64, required=True),
    "member_name": lambda v: _text(v, 64, required=True),
    "id_number": parse_id_number,
    "relation": parse_relation,
    "birth_year": parse_birth_year,
    "sex": parse_sex,
    "health": lambda v: _text(v, 32),
    "labour_capacity": lambda v: _text(v, 32),
    "klass": parse_klass,
    "phone": parse_phone,
    "cadre_name": lambda v: _text(v, 64),
    "cadre_phone": parse_cadre_phone,
    "measures": parse_measures,
}


# -- one row, one household -------------------------------------------------------------------


class HouseholdCheck:
    """Builds one household's plan from its rows, collecting every problem on the way."""

    def __init__(self, code: str, labels: dict[str, str]):
        self.code, self.labels = code, labels
        self.errors: list[RowError] = []

    def problem(self, row: int, field_name: str, reason) -> None:
        label = self.labels.get(field_name) or field_name
        self.errors.append(RowError(row, field_name, label, reason, self.code))

    def parse(self, row: int, raw: dict) -> dict:
        values = {}
        for name in self.labels:
            try:
                values[name] = PARSERS[name](raw.get(name))
            except RowProblem as exc:
                self.problem(row, name, exc.reason)
        if "id_number" in values:
            self._agree_with_id(row, values)
        return values

    def _agree_with_id(self, row: int, values: dict) -> None:
        number = values["id_number"]
        year, sex = idcard.birth_year(number), idcard.sex(number)
        if values.get("birth_year") not in (None, year):
            self.problem(row, "birth_year", _("does not match the ID number (%(x)s)", x=year))
        if values.get("sex") not in (None, sex):
            self.problem(row, "sex", _("does not match the ID number (%(x)s)", x=SEX_NAMES[sex]))
        values["birth_year"], values["sex"] = year, sex

    def consistent(self, parsed: list[tuple[int, dict]]) -> None:
        """Household fields agree across rows; one head; no ID number twice."""
        first_row, first = parsed[0]
        for row, values in parsed[1:]:
            for name in HOUSEHOLD_FIELDS:
                if name in first and name in values and values[name] != first[name]:
                    reason = _(
                        "differs from row %(row)s of the same household (%(value)s)",
                        row=first_row,
                        value=first[name] or "",
                    )
                    self.problem(row, name, reason)
        self._one_head(parsed)
        self._distinct_id_numbers(parsed)

    def _one_head(self, parsed) -> None:
        heads = [(row, v) for row, v in parsed if v.get("relation") == HEAD]
        if not heads and all("relation" in v for _row, v in parsed):
            self.problem(parsed[0][0], "relation", _("the household has no head (户主) row"))
        for row, _values in heads[1:]:
            reason = _(
                "the household has more than one head (户主): see row %(row)s", row=heads[0][0]
            )
            self.problem(row, "relation", reason)
        if len(heads) == 1:
            row, values = heads[0]
            head_name = parsed[0][1].get("head_name")
            if head_name and values.get("member_name") and values["member_name"] != head_name:
                reason = _("does not match 户主姓名 (%(name)s)", name=head_name)
                self.problem(row, "member_name", reason)

    def _distinct_id_numbers(self, parsed) -> None:
        seen: dict[str, int] = {}
        for row, values in parsed:
            number = values.get("id_number")
            if number in seen:
                self.problem(
                    row,
                    "id_number",
                    _("appears twice in the household (row %(row)s)", row=seen[number]),
                )
            elif number:
                seen[number] = row


def _cadres(parsed: list[tuple[int, dict]]) -> list[CadreRef] | None:
    """The distinct cadres named on a household's rows; a name alone joins a same-named phone."""
    refs: list[CadreRef] = []
    for row, values in parsed:
        name, phone = values.get("cadre_name"), values.get("cadre_phone")
        if not name and not phone:
            continue
        same = next(
            (r for r in refs if (phone and r.phone == phone) or (name and r.name == name)), None
        )
        if same is None:
            refs.append(CadreRef(row, name, phone))
        else:
            same.name, same.phone = same.name or name, same.phone or phone
    return refs or None


def _measures(parsed: list[tuple[int, dict]]) -> list[str] | None:
    """The measures named on any of a household's rows, in the order first named."""
    kinds: list[str] = []
    for _row, values in parsed:
        kinds += [k for k in values.get("measures") or () if k not in kinds]
    return kinds or None


def _phone(parsed: list[tuple[int, dict]]) -> str | None:
    ordered = sorted(parsed, key=lambda item: item[1].get("relation") != HEAD)
    return next((v["phone"] for _row, v in ordered if v.get("phone")), None)


def plan_household(code: str, rows: list[tuple[int, dict]], labels: dict[str, str]):
    """The household's plan, or None and the problems found in its rows."""
    check = HouseholdCheck(code, labels)
    parsed = [(row, check.parse(row, raw)) for row, raw in rows]
    check.consistent(parsed)
    if check.errors:
        return None, check.errors
    first = parsed[0][1]
    members = [
        MemberPlan(
            row=row,
            name=v["member_name"],
            id_number=v["id_number"],
            relation=v["relation"],
            birth_year=v["birth_year"],
            sex=v["sex"],
            health=v.get("health"),
            labour_capacity=v.get("labour_capacity"),
        )
        for row, v in parsed
    ]
    plan = HouseholdPlan(
        code=code,
        rows=[row for row, _v in parsed],
        town=first.get("town"),
        village=first["village"],
        head_name=first["head_name"],
        klass=first["klass"],
        phone=_phone(parsed),
        members=members,
        cadres=_cadres(parsed),
        measures=_measures(parsed),
    )
    return plan, []
