"""Writing a planned registry to the database with bulk inserts, in chunks."""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, selectinload

from .. import settings
from ..models import (
    Assignment,
    CropRecord,
    Household,
    Member,
    SupportMeasure,
    Town,
    User,
    Village,
    Visit,
)
from . import places
from .plan import RegistryPlan, plan_registry, validate_size

CHUNK = 2_000


@dataclass
class RegistryBuild:
    """What build_registry wrote."""

    town_id: int
    village_ids: dict[str, int]
    households: int
    members: int
    cadres: int
    visits: int
    crops: int
    by_klass: dict[str, int]
    # The cadre of about 8 households in the first village (a C and a D among them).
    showcase_village: str
    showcase_cadre_id: int | None
    showcase_households: int
    showcase_overdue: int


def build_registry(
    session: Session,
    *,
    households: int,
    villages: int,
    seed: int,
    today: date,
    visits_months: int = 6,
    town_name: str = "太河镇",
    town_code: str = "370302107",
    village_names: list[str] | None = None,
) -> RegistryBuild:
    """Plan the registry of a town that has no households yet from `seed`, and write it; the
    caller commits.

    `town_code` (9 digits) starts every village and household code, so towns built with
    different codes never collide. ID numbers and cadre phones already in the database are
    never reused.
    """
    problem = validate_size(households, villages)
    if problem:
        raise ValueError(f"A registry of {households} households in {villages} villages {problem}.")
    names = village_names or places.village_names(villages, _names_rng(seed, town_code))
    if len(names) < villages:
        raise ValueError(f"{villages} villages need as many names; {len(names)} given.")
    town = _town(session, town_name)
    plan = plan_registry(
        households=households,
        village_names=names[:villages],
        seed=seed,
        today=today,
        visits_months=visits_months,
        rhythm_days=settings.for_town(town)["rhythm_days"],
        town_name=town_name,
        town_code=town_code,
        taken_ids=set(session.scalars(select(Member.id_number))),
        taken_phones=set(session.scalars(select(User.phone).where(User.phone.is_not(None)))),
    )
    return _write(session, town, plan, since=_registry_start(today, visits_months), seed=seed)


def _names_rng(seed: int, town_code: str) -> random.Random:
    return random.Random(f"{seed}:{town_code}:village-names")


def _registry_start(today: date, visits_months: int) -> datetime:
    """When the registry and its assignments began: a while before the visit history."""
    day = today - timedelta(days=round(visits_months * 30.44) + 60)
    return datetime.combine(day, time(1, 0), tzinfo=UTC)


def _town(session: Session, name: str) -> Town:
    town = session.scalar(select(Town).where(Town.name == name))
    if town is None:
        town = Town(name=name, settings={})
        session.add(town)
        session.flush()
    return town


def _insert(session: Session, model, rows: list[dict], returning: bool = False) -> list[int]:
    """Insert rows in chunks; with `returning`, give them new ids first and return those."""
    table = model.__table__
    ids: list[int] = []
    if returning:
        ids = _new_ids(session, table, len(rows))
        rows = [row | {"id": new_id} for row, new_id in zip(rows, ids, strict=True)]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start : start + CHUNK])
    return ids


def _new_ids(session: Session, table, count: int) -> list[int]:
    """Ids for rows about to be inserted. Asking for them beforehand lets plain executemany
    run: RETURNING in order costs psycopg several times the insert itself."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.scalar(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": f'"{table.name}"'}
        )
        query = text("SELECT nextval(:sequence) FROM generate_series(1, :count)")
        return sorted(session.scalars(query, {"sequence": sequence, "count": count}))
    # SQLite: the next free ids, safe while nothing else writes, as during seeding.
    highest = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(highest + 1, highest + 1 + count))


def _village_ids(session: Session, town: Town, plan: RegistryPlan) -> list[int]:
    existing = {v.name: v.id for v in session.scalars(select(Village).where(Village.town == town))}
    missing = [
        {"town_id": town.id, "name": v.name} for v in plan.villages if v.name not in existing
    ]
    for row, new_id in zip(missing, _insert(session, Village, missing, True), strict=True):
        existing[row["name"]] = new_id
    return [existing[v.name] for v in plan.villages]


def _write(
    session: Session, town: Town, plan: RegistryPlan, since: datetime, seed: int
) -> RegistryBuild:
    village_ids = _village_ids(session, town, plan)
    household_rows = [
        {
            "code": h.code,
            "village_id": village_ids[h.village],
            "head_name": h.members[0].name,
            "klass": h.klass,
            "phone": h.phone,
            "address": h.address,
            "lat": h.lat,
            "lon": h.lon,
            "active": True,
            "version": 1,
            "last_visit_at": h.visits[-1].visited_at if h.visits else None,
            "created_at": since,
            "updated_at": since,
        }
        for h in plan.households
    ]
    household_ids = _insert(session, Household, household_rows, returning=True)
    member_rows = _member_rows(plan, household_ids)
    _insert(session, Member, member_rows)
    cadre_ids = _insert(session, User, _cadre_rows(plan, town, since), returning=True)
    _insert(session, Assignment, _assignment_rows(plan, household_ids, cadre_ids, since))
    measure_rows = _measure_rows(plan, household_ids, since, random.Random(f"measures-{seed}"))
    _insert(session, SupportMeasure, measure_rows)
    kinds: dict[int, list[str]] = {}
    for row in measure_rows:
        kinds.setdefault(row["household_id"], []).append(row["kind"])
    visit_rows = _visit_rows(plan, household_ids, cadre_ids, kinds)
    visit_ids = _insert(session, Visit, visit_rows, returning=True)
    _keep_coverage(session, village_ids, visit_rows, visit_ids)
    crop_rows = _crop_rows(plan, household_ids, visit_ids)
    _insert(session, CropRecord, crop_rows)
    showcase = plan.showcase_cadre
    return RegistryBuild(
        town_id=town.id,
        village_ids={v.name: i for v, i in zip(plan.villages, village_ids, strict=True)},
        households=len(household_ids),
        members=len(member_rows),
        cadres=len(cadre_ids),
        visits=len(visit_ids),
        crops=len(crop_rows),
        by_klass=dict(sorted(Counter(h.klass for h in plan.households).items())),
        showcase_village=plan.villages[0].name,
        showcase_cadre_id=cadre_ids[showcase] if showcase is not None else None,
        showcase_households=sum(1 for h in plan.households if h.cadre == showcase),
        showcase_overdue=sum(1 for h in plan.households if h.cadre == showcase and h.overdue),
    )


def _member_rows(plan: RegistryPlan, household_ids: list[int]) -> list[dict]:
    return [
        {
            "household_id": household_id,
            "position": position,
            "name": person.name,
            "id_number": person.id_number,
            "relation": person.relation,
            "birth_year": person.birth.year,
            "sex": person.sex,
            "health": person.health,
            "labour_capacity": person.labour,
        }
        for household, household_id in zip(plan.households, household_ids, strict=True)
        for position, person in enumerate(household.members)
    ]


def _cadre_rows(plan: RegistryPlan, town: Town, since: datetime) -> list[dict]:
    return [
        {
            "username": cadre.username,
            "display_name": cadre.name,
            "phone": cadre.phone,
            "role": "cadre",
            "password_hash": None,  # an admin sets one before the cadre can sign in
            "enabled": True,
            "town_id": town.id,
            "created_at": since,
            "session_epoch": 0,
        }
        for cadre in plan.cadres
    ]


def _assignment_rows(plan, household_ids, cadre_ids, since) -> list[dict]:
    return [
        {"household_id": household_id, "cadre_id": cadre_ids[h.cadre], "started_at": since}
        for h, household_id in zip(plan.households, household_ids, strict=True)
    ]


# The measures each class typically gets (引扶帮包), with how often, and a yearly amount in
# yuan where there is one: C households' dividends are 1.5 to 3 times B households'.
DIVIDEND_B = 500
MEASURES_BY_KLASS = {
    "A": (
        ("skills_training", 0.5, None),
        ("microcredit", 0.2, None),
        ("industry_project", 0.3, None),
    ),
    "B": (
        ("public_welfare_post", 0.35, 6000),
        ("employment", 0.4, None),
        ("medical_insurance", 0.5, None),
        ("dividend", 0.6, DIVIDEND_B),
    ),
    "C": (
        ("dividend", 0.95, None),  # 1.5 to 3 times B's, drawn below
        ("medical_insurance", 0.8, None),
        ("medical_relief", 0.3, None),
        ("temporary_relief", 0.15, 2000),
    ),
    "D": (("dibao", 0.8, 4800), ("disability_cert", 0.4, 1200), ("care_service", 0.3, None)),
}


def _measure_rows(plan, household_ids, since: datetime, rng: random.Random) -> list[dict]:
    rows = []
    for h, household_id in zip(plan.households, household_ids, strict=True):
        chosen = [(k, y) for k, share, y in MEASURES_BY_KLASS[h.klass] if rng.random() < share]
        if h.nursing:
            chosen = [("nursing_home", None), ("tekun", 6000)]
        for kind, yuan in chosen:
            if kind == "dividend" and h.klass == "C":
                yuan = round(DIVIDEND_B * rng.uniform(1.5, 3) / 50) * 50
            rows.append(
                {
                    "household_id": household_id,
                    "kind": kind,
                    "amount_fen": yuan * 100 if yuan else None,
                    "started_on": since.date(),
                    "created_at": since,
                }
            )
    return rows


def _visit_rows(plan, household_ids, cadre_ids, measures: dict[int, list[str]]) -> list[dict]:
    return [
        {
            "uuid": v.uuid,
            "household_id": household_id,
            "cadre_id": cadre_ids[h.cadre],
            "visited_at": v.visited_at,
            "received_at": v.received_at,
            "device_time_suspect": False,
            "lat": v.lat,
            "lon": v.lon,
            "accuracy_m": v.accuracy_m,
            "situation": v.situation,
            "sudden_event": v.sudden_event,
            "notes": v.notes,
            "needs": v.needs,
            "follow_up": v.follow_up,
            "photos_expected": 0,
            "measures": measures.get(household_id, []),
        }
        for h, household_id in zip(plan.households, household_ids, strict=True)
        for v in h.visits
    ]


def _keep_coverage(session: Session, village_ids, visit_rows, visit_ids) -> None:
    """What the sync push keeps with every visit it stores (the households' month rows and
    counts, needs-action items, flags), for the planned history, in time order."""
    from ..coverage import StoredVisit, flag_visits, record_visits  # the pages' package

    households = {
        h.id: h
        for h in session.scalars(
            select(Household)
            .where(Household.village_id.in_(set(village_ids)))
            .options(selectinload(Household.village).selectinload(Village.town))
        )
    }
    stored = sorted(
        (
            StoredVisit(
                id=visit_id,
                household=households[row["household_id"]],
                cadre_id=row["cadre_id"],
                visited_at=row["visited_at"],
                received_at=row["received_at"],
                lat=row["lat"],
                lon=row["lon"],
                accuracy_m=row["accuracy_m"],
                device_time_suspect=row["device_time_suspect"],
                situation=row["situation"],
                sudden_event=row["sudden_event"],
            )
            for row, visit_id in zip(visit_rows, visit_ids, strict=True)
        ),
        key=lambda visit: (visit.visited_at, visit.id),
    )
    for start in range(0, len(stored), CHUNK):
        chunk = stored[start : start + CHUNK]
        record_visits(chunk)
        flag_visits(chunk)


def _crop_rows(plan, household_ids, visit_ids) -> list[dict]:
    rows = []
    visits = (
        (household_id, visit)
        for h, household_id in zip(plan.households, household_ids, strict=True)
        for visit in h.visits
    )
    for (household_id, visit), visit_id in zip(visits, visit_ids, strict=True):
        rows.extend(
            {
                "uuid": record.uuid,
                "household_id": household_id,
                "visit_id": visit_id,
                "crop": record.crop,
                "crop_name": None,
                "area_mu": record.area_mu,
                "plants": record.plants,
                "yield_kg": None,
                "expected_income_fen": record.expected_income_fen,
                "season_year": record.season_year,
                "recorded_at": visit.visited_at,
                "notes": record.notes,
            }
            for record in visit.crops
        )
    return rows
