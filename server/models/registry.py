"""The household registry: town, village, household, member, crops, cadre assignment."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crops import current_plots, seasons
from ..extensions import db
from .types import UTCDateTime, utcnow

KLASSES = ("A", "B", "C", "D")
SEXES = ("M", "F")
CROPS = ("kiwifruit", "tobacco", "other")
_CROP_LIST = ",".join(f"'{crop}'" for crop in CROPS)
# Support measures (帮扶措施), roughly by the class whose kind of support they are:
# A guide (引), B support (扶), C help (帮), D guarantee (包); any household may have any.
MEASURE_KINDS = (
    "skills_training",  # 技能培训
    "microcredit",  # 小额信贷
    "industry_project",  # 产业项目
    "public_welfare_post",  # 公益岗位
    "employment",  # 就业帮扶
    "medical_insurance",  # 医保参保资助
    "dividend",  # 差异化分红
    "temporary_relief",  # 临时救助
    "medical_relief",  # 医疗救助
    "dibao",  # 低保
    "tekun",  # 特困供养
    "disability_cert",  # 残疾证与残疾人补贴
    "nursing_home",  # 敬老院集中供养
    "care_service",  # 购买照料服务
    "other",  # 其他 (named in detail)
)


class Town(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    office_phone: Mapped[str | None] = mapped_column(String(32))
    # Overrides of server.settings.DEFAULTS (visit rhythm, flag thresholds) for this town.
    settings: Mapped[dict] = mapped_column(JSON, default=dict)

    villages: Mapped[list["Village"]] = relationship(back_populates="town", order_by="Village.name")


class Village(db.Model):
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))

    town: Mapped[Town] = relationship(back_populates="villages")


class Household(db.Model):
    __table_args__ = (
        CheckConstraint("klass IN ('A','B','C','D')", name="klass"),
        # Keyset pagination and filters walk these.
        Index("ix_household_village_id_id", "village_id", "id"),
        Index("ix_household_klass_id", "klass", "id"),
        Index("ix_household_change_seq_id", "change_seq", "id"),
        # PostgreSQL only: search by any part of the head's name (trigrams), by code prefix
        # whatever the database's collation (pattern ops). SQLite scans, fast enough there.
        Index(
            "ix_household_head_name_trgm",
            "head_name",
            postgresql_using="gin",
            postgresql_ops={"head_name": "gin_trgm_ops"},
            info={"dialect": "postgresql"},  # migrations/env.py: autogenerate there only
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_household_code_pattern",
            "code",
            postgresql_ops={"code": "varchar_pattern_ops"},
            info={"dialect": "postgresql"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # the town office's 户编号
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    head_name: Mapped[str] = mapped_column(String(64), index=True)
    klass: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    # The household's usual position, set by an admin; else derived from visits later.
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on every change; offline edits name the version they were based on.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Maintained with each visit, so coverage pages need not scan visits.
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The household version at which each field a phone may edit last changed, e.g.
    # {"phone": 7, "members.12.health": 9}; offline edits are merged against it (server.changes).
    field_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    # Position in the change sequence: bumped whenever the household or anything shown with it
    # (members, assignments, visits, crops, photos) changes. Phones pull "changed after N".
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The local day the household entered the registry (import or creation): its first
    # visit is due one rhythm later. None for households from before this was kept.
    entered_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    village: Mapped[Village] = relationship()
    members: Mapped[list["Member"]] = relationship(
        back_populates="household", order_by="Member.position", cascade="all, delete-orphan"
    )
    crops: Mapped[list["CropRecord"]] = relationship(
        back_populates="household", order_by="CropRecord.recorded_at.desc()"
    )
    assignments: Mapped[list["Assignment"]] = relationship(back_populates="household")
    measures: Mapped[list["SupportMeasure"]] = relationship(
        back_populates="household", order_by="(SupportMeasure.started_on, SupportMeasure.id)"
    )

    @property
    def current_crops(self) -> list["CropRecord"]:
        """The plots as last recorded (server/crops.py): not every visit's records added up."""
        return current_plots(self.crops)

    @property
    def crop_seasons(self) -> list:
        """Each season's plots as last recorded in it, newest season first."""
        return seasons(self.crops)

    @property
    def active_measures(self) -> list["SupportMeasure"]:
        return [m for m in self.measures if m.ended_on is None]

    @property
    def cadres(self) -> list["User"]:  # noqa: F821
        return [a.cadre for a in self.assignments if a.ended_at is None]


class Member(db.Model):
    __table_args__ = (
        UniqueConstraint("household_id", "id_number"),
        CheckConstraint("sex IN ('M','F')", name="sex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # 户主, 配偶, 子, 女, ...
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    sex: Mapped[str] = mapped_column(String(1))
    health: Mapped[str | None] = mapped_column(String(32))  # 健康, 长期慢性病, 大病, 残疾
    labour_capacity: Mapped[str | None] = mapped_column(String(32))  # 普通劳动力, 弱劳动力, 无

    household: Mapped[Household] = relationship(back_populates="members")

    @property
    def is_head(self) -> bool:
        return self.relation == "户主"


class Assignment(db.Model):
    """A cadre responsible for a household. Ended assignments are kept for history."""

    __table_args__ = (
        Index("ix_assignment_cadre_active", "cadre_id", "ended_at", "household_id"),
        Index("ix_assignment_household_active", "household_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    cadre_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    household: Mapped[Household] = relationship(back_populates="assignments")
    cadre: Mapped["User"] = relationship()  # noqa: F821


class SupportMeasure(db.Model):
    """A support measure a household receives (帮扶措施), from a date until it ends.

    Set by the town office or village committee; a cadre confirms at each visit which ones
    were carried out (visit.measures). `amount_fen` is the yearly amount where there is one
    (a dividend, an allowance), room for the relief fund and dividends to come."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(200))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    household: Mapped[Household] = relationship(back_populates="measures")


class CropRecord(db.Model):
    """A crop as a household grows it, recorded at a visit or by an office import."""

    __table_args__ = (CheckConstraint(f"crop IN ({_CROP_LIST})", name="crop"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True)  # made on the phone
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    crop: Mapped[str] = mapped_column(String(16))
    crop_name: Mapped[str | None] = mapped_column(String(32))  # the name when crop is "other"
    area_mu: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    plants: Mapped[int | None]
    yield_kg: Mapped[int | None]
    expected_income_fen: Mapped[int | None] = mapped_column(BigInteger)  # money is integer fen
    season_year: Mapped[int] = mapped_column(SmallInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text)

    household: Mapped[Household] = relationship(back_populates="crops")
