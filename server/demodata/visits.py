"""Six months of visit history and the crops recorded at visits.

Cadres keep roughly to the rhythm of each class (a little early, as people do), some fall
behind, phones fix positions with the accuracy cheap phones get in hilly villages, and most
visits find the situation unchanged.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

from ..codes import SITUATION_KEYS
from . import places

CHINA = timezone(timedelta(hours=8))  # Asia/Shanghai has no daylight saving time
# Chance that a visit meets a sudden event, by class.
SUDDEN = {"A": 0.006, "B": 0.010, "C": 0.025, "D": 0.025}

NOTES = {
    "A": (
        "了解家庭生产经营情况，户主在外务工收入稳定。",
        "交流种植技术，鼓励参加镇里组织的技能培训。",
        "了解产业发展打算，介绍小额信贷政策。",
        "户主带动邻里发展种植，继续做好示范。",
        "家中一切正常，讲解医保和养老保险缴费政策。",
    ),
    "B": (
        "公益岗位工作正常，按时领取岗位补贴。",
        "了解家庭收支情况，宣传就业帮扶政策。",
        "讲解医保报销流程，家庭情况无明显变化。",
        "联系就近务工岗位，户主表示愿意尝试。",
        "落实各项帮扶政策，家庭生活稳定。",
    ),
    "C": (
        "发放项目分红，了解家庭开支情况。",
        "老人慢性病用药正常，帮助办理门诊慢性病报销。",
        "家中生活困难有所缓解，继续落实差异化分红。",
        "帮助打扫院落，检查取暖和用电安全。",
        "了解医疗费用负担，协助申请临时救助。",
    ),
    "D": (
        "老人身体状况稳定，生活用品齐全。",
        "核实低保和特困供养金按时发放。",
        "检查房屋安全和冬季取暖，叮嘱邻居多照应。",
        "协助办理残疾证年审，老人情绪良好。",
    ),
}
NURSING_NOTES = (
    "到敬老院看望老人，精神状态良好。",
    "与敬老院工作人员沟通老人饮食和用药情况。",
    "敬老院探望，老人身体无明显变化。",
)
SUDDEN_EVENTS = {
    "illness": (
        "户主突发疾病住院治疗，医疗费用负担较重。",
        "家庭成员查出重病，需要长期治疗。",
    ),
    "disaster": (
        "冰雹导致果园受损，减产明显。",
        "连续暴雨造成院墙倒塌，房屋部分受损。",
    ),
}
NEEDS = (
    "希望了解大病保险报销政策。",
    "需要帮助联系农技人员指导果树管理。",
    "冬季取暖需要帮助。",
    "希望推荐附近的务工岗位。",
    "需要协助办理医疗费用报销。",
)


@dataclass
class CropPlan:
    crop: str  # kiwifruit or tobacco
    area_mu: Decimal
    expected_income_fen: int
    plants: int | None
    season_offset: int = 0  # 0: the visit's year; -1: last season, told at this visit
    notes: str | None = None
    previous_area_mu: Decimal | None = None  # tobacco that grew: last season's acreage


@dataclass
class CropRecordPlan:
    """A crop as the cadre wrote it down at a visit."""

    uuid: str
    crop: str
    area_mu: Decimal
    plants: int | None
    expected_income_fen: int
    season_year: int
    notes: str | None


@dataclass
class VisitPlan:
    uuid: str
    visited_at: datetime
    received_at: datetime
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    situation: dict
    sudden_event: str | None
    notes: str
    needs: str | None
    follow_up: str | None
    crops: list[CropRecordPlan] = field(default_factory=list)


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def visit_days(
    rng: random.Random, *, rhythm: int, overdue: bool, today: date, start: date
) -> list[date]:
    """Visit dates from `start` to yesterday, newest last; an overdue household's latest
    visit is older than its rhythm."""
    if overdue:
        latest = today - timedelta(days=rhythm + rng.randint(3, 45))
    else:
        latest = today - timedelta(days=rng.randint(1, max(rhythm - 3, 2)))
    days = []
    day = latest
    while day >= start:
        days.append(_weekday_mostly(rng, day))
        day -= timedelta(days=round(rhythm * rng.uniform(0.7, 1.0)))
    return sorted(days)


def _weekday_mostly(rng: random.Random, day: date) -> date:
    """Most visits happen on working days: a weekend visit usually moves to the Friday."""
    if day.weekday() >= 5 and rng.random() < 0.7:
        return day - timedelta(days=day.weekday() - 4)
    return day


def _moment(rng: random.Random, day: date) -> datetime:
    """A daytime moment on that day in China, as aware UTC."""
    minutes = rng.randint(8 * 60 + 30, 17 * 60 + 30)
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=CHINA)
    return local.astimezone(UTC)


def _received(rng: random.Random, visited_at: datetime) -> datetime:
    """Most visits sync at once; some wait for signal at the town office; a few for days."""
    roll = rng.random()
    if roll < 0.75:
        delay = timedelta(seconds=rng.randint(2, 600))
    elif roll < 0.95:
        delay = timedelta(minutes=rng.randint(20, 8 * 60))
    else:
        delay = timedelta(hours=rng.randint(20, 72))
    return visited_at + delay


def _position(rng: random.Random, lat: float, lon: float):
    """(lat, lon, accuracy) as a phone reports it near the house, or no fix at all."""
    roll = rng.random()
    if roll < 0.03:
        return None, None, None
    if roll < 0.73:
        accuracy = rng.uniform(4, 25)  # GPS under open sky
    elif roll < 0.93:
        accuracy = rng.uniform(25, 80)  # valleys, trees, indoors
    else:
        accuracy = rng.uniform(150, 1200)  # network location only
    off_by = abs(rng.gauss(0, accuracy * 0.5)) + rng.uniform(0, 15)  # yard and doorway
    found_lat, found_lon = places.at_distance(rng, lat, lon, off_by)
    return found_lat, found_lon, round(accuracy, 1)


def _situation(rng: random.Random, klass: str) -> dict:
    situation = dict.fromkeys(SITUATION_KEYS, "same")
    if rng.random() < (0.08 if klass in "AB" else 0.03):
        situation["income"] = "better"
    if rng.random() < (0.02 if klass in "AB" else 0.05):
        situation["health"] = rng.choice(("worse", "better"))
    return situation


def plan_visit(
    rng: random.Random, day: date, *, klass: str, lat: float, lon: float, nursing: bool
) -> VisitPlan:
    visited_at = _moment(rng, day)
    found_lat, found_lon, accuracy = _position(rng, lat, lon)
    situation = _situation(rng, klass)
    event = None
    notes = rng.choice(NURSING_NOTES if nursing else NOTES[klass])
    needs = rng.choice(NEEDS) if rng.random() < 0.08 else None
    follow_up = None
    if rng.random() < SUDDEN[klass]:
        event = "illness" if nursing or rng.random() < 0.7 else "disaster"
        notes = rng.choice(SUDDEN_EVENTS[event])
        situation["health" if event == "illness" else "housing"] = "worse"
        situation["income"] = "worse"
        follow_up = "上报镇扶贫办，申请临时救助，启动重新评定。"
    return VisitPlan(
        uuid=new_uuid(rng),
        visited_at=visited_at,
        received_at=_received(rng, visited_at),
        lat=found_lat,
        lon=found_lon,
        accuracy_m=accuracy,
        situation=situation,
        sudden_event=event,
        notes=notes,
        needs=needs,
        follow_up=follow_up,
    )


def _fen(area: Decimal, yuan_per_mu: int) -> int:
    """Expected income rounded to 100 yuan, in fen."""
    yuan = int((area * yuan_per_mu / 100).quantize(Decimal(1))) * 100
    return yuan * 100


def kiwifruit(rng: random.Random) -> CropPlan:
    area = Decimal(rng.choice(("0.5", "0.8", "1.0", "1.2", "1.5", "2.0", "3.0")))
    young = rng.random() < 0.4  # planted in the last two years, not yet in full fruit
    per_mu = 4_000 if young else rng.randint(6_000, 9_000)
    notes = "幼龄果园，两年后进入盛果期。" if young else None
    return CropPlan("kiwifruit", area, _fen(area, per_mu), int(area * 60), notes=notes)


def tobacco(rng: random.Random) -> CropPlan:
    area = Decimal(rng.randint(20, 70)) / 10
    crop = CropPlan("tobacco", area, _fen(area, rng.randint(1_800, 2_600)), int(area * 1_100))
    if rng.random() < 0.3:  # grown from a smaller field last season
        crop.previous_area_mu = (area * Decimal(rng.uniform(0.4, 0.7))).quantize(Decimal("0.1"))
    return crop


def article_kiwifruit() -> CropPlan:
    """Taihe's example: half a mu after a training course, +2,000 yuan this year."""
    return CropPlan(
        "kiwifruit",
        Decimal("0.5"),
        200_000,
        30,
        notes="参加技术培训后栽植半亩猕猴桃，今年增收2000元，两年后盛果期预计增收5000元。",
    )


def article_tobacco() -> CropPlan:
    """Taihe's example: tobacco grown from 2-3 mu to over 6 mu, +5,000 yuan."""
    return CropPlan(
        "tobacco",
        Decimal("6.2"),
        1_000_000,
        6_800,
        notes="黄烟种植由2.5亩扩大到6.2亩，预计增收5000元以上。",
        previous_area_mu=Decimal("2.5"),
    )


def record_crop(rng: random.Random, crop: CropPlan, visits: list[VisitPlan]) -> None:
    """The crop at the latest visit; a grown field's last season at the first one."""
    if not visits:
        return
    latest = visits[-1]
    year = latest.visited_at.astimezone(CHINA).year
    if crop.previous_area_mu is not None and len(visits) > 1:
        share = crop.previous_area_mu / crop.area_mu
        visits[0].crops.append(
            CropRecordPlan(
                uuid=new_uuid(rng),
                crop=crop.crop,
                area_mu=crop.previous_area_mu,
                plants=int(crop.plants * share) if crop.plants else None,
                expected_income_fen=int(round(crop.expected_income_fen * share / 10_000)) * 10_000,
                season_year=year - 1,
                notes=None,
            )
        )
    latest.crops.append(
        CropRecordPlan(
            uuid=new_uuid(rng),
            crop=crop.crop,
            area_mu=crop.area_mu,
            plants=crop.plants,
            expected_income_fen=crop.expected_income_fen,
            season_year=year,
            notes=crop.notes,
        )
    )
