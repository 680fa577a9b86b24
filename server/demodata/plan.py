"""Planning a registry in memory: villages, households, families, cadres, visits, crops.

Everything is drawn from random generators seeded by the caller's seed, stage by stage, so a
seed and a date always give the same registry. Nothing here touches the database.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import names, people, places
from .visits import (
    CropPlan,
    VisitPlan,
    article_kiwifruit,
    article_tobacco,
    kiwifruit,
    plan_visit,
    record_crop,
    tobacco,
    visit_days,
)

# Taihe town, from the article: households by class, people, and D households in care.
TAIHE_KLASSES = {"A": 3112, "B": 2312, "C": 474, "D": 54}
TAIHE_HOUSEHOLDS = sum(TAIHE_KLASSES.values())
TAIHE_PEOPLE = 10_278
NURSING_HOME_SHARE = 36 / 54
# Share of households visited later than their class's rhythm asks, by class.
OVERDUE = {"A": 0.08, "B": 0.07, "C": 0.06, "D": 0.03}
# Share of households that grow kiwifruit or tobacco, by class.
GROWERS = {"A": 0.25, "B": 0.12, "C": 0.04, "D": 0.0}
GROUP = (5, 10)  # households per cadre
SHOWCASE_SIZE = 8


@dataclass(eq=False)  # compared by identity: plans are equal field by field until filled
class HouseholdPlan:
    code: str
    village: int  # index into RegistryPlan.villages
    klass: str
    nursing: bool  # a D household living in the town's nursing home
    members: list[people.Person] = field(default_factory=list)
    phone: str | None = None
    address: str = ""
    lat: float = 0.0
    lon: float = 0.0
    cadre: int = -1  # index into RegistryPlan.cadres
    overdue: bool = False
    crop: CropPlan | None = None
    visits: list[VisitPlan] = field(default_factory=list)


@dataclass
class CadrePlan:
    username: str
    name: str
    phone: str


@dataclass
class RegistryPlan:
    villages: list[places.VillagePlan]
    households: list[HouseholdPlan]
    cadres: list[CadrePlan]
    showcase_cadre: int | None  # the cadre the demo signs in as


def largest_remainder(total: int, weights: dict) -> dict:
    """Split `total` in proportion to `weights`, in whole numbers that add up to `total`."""
    whole = sum(weights.values())
    shares = {key: total * w / whole for key, w in weights.items()}
    counts = {key: math.floor(share) for key, share in shares.items()}
    by_remainder = sorted(shares, key=lambda k: counts[k] - shares[k])
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


def _village_sizes(rng: random.Random, households: int, villages: int) -> list[int]:
    """Uneven villages of at least one cadre's group each; the first one holds the showcase."""
    weights = {i: rng.uniform(0.5, 1.6) for i in range(villages)}
    weights[0] = max(weights.values())
    sizes = largest_remainder(households, weights)
    least = {i: GROUP[0] for i in range(villages)}
    least[0] = min(SHOWCASE_SIZE + GROUP[0], households - GROUP[0] * (villages - 1))
    for i in range(villages):
        while sizes[i] < least[i]:
            donor = max(sizes, key=lambda k: sizes[k] - least[k])
            sizes[donor] -= 1
            sizes[i] += 1
    return [sizes[i] for i in range(villages)]


def _slots(rng: random.Random, households: int, villages: int) -> list[HouseholdPlan]:
    """(village, class, nursing home) for every household, exact class counts."""
    counts = largest_remainder(households, TAIHE_KLASSES)
    klasses = [k for k, n in counts.items() for _ in range(n)]
    rng.shuffle(klasses)
    in_care = set(rng.sample(range(counts["D"]), round(counts["D"] * NURSING_HOME_SHARE)))
    d_seen = 0
    slots = []
    village_of = [
        v for v, size in enumerate(_village_sizes(rng, households, villages)) for _ in range(size)
    ]
    for village, klass in zip(village_of, klasses, strict=True):
        nursing = False
        if klass == "D":
            nursing, d_seen = d_seen in in_care, d_seen + 1
        slots.append(HouseholdPlan(code="", village=village, klass=klass, nursing=nursing))
    _bring_to_showcase_village(slots, lambda h: h.klass == "C")
    _bring_to_showcase_village(slots, lambda h: h.klass == "D" and not h.nursing)
    return slots


def _bring_to_showcase_village(slots: list[HouseholdPlan], wanted) -> None:
    """Make sure village 0 holds a household of a kind, by swapping it with an A household."""
    if any(h.village == 0 and wanted(h) for h in slots):
        return
    elsewhere = next((h for h in slots if wanted(h)), None)
    local = next((h for h in slots if h.village == 0 and h.klass == "A"), None)
    if elsewhere and local:
        elsewhere.village, local.village = 0, elsewhere.village


def _fill_households(
    rng: random.Random,
    slots: list[HouseholdPlan],
    villages: list[places.VillagePlan],
    *,
    people_target: int,
    taken_ids: set[str],
    today: date,
    town_name: str,
) -> None:
    ids = people.IdNumbers(rng, taken_ids)
    sizes = people.household_sizes(
        rng, [h.klass for h in slots], [h.nursing for h in slots], people_target
    )
    serials = [0] * len(villages)
    home = places.TOWN_CENTRE
    home_phone = f"0533-5{rng.randrange(10**6):06d}"  # the nursing home's office
    for household, size in zip(slots, sizes, strict=True):
        village = villages[household.village]
        serials[household.village] += 1
        number = serials[household.village]
        household.code = f"{village.code}{number:04d}"
        household.members = people.family(
            rng, ids, klass=household.klass, size=size, today=today, surnames=village.surnames
        )
        if household.nursing:
            household.address = places.nursing_home_address(town_name, village.name)
            household.lat, household.lon = places.near(rng, *home, 15)
            household.phone = home_phone
        else:
            household.address = places.address(town_name, village.name, number)
            household.lat, household.lon = places.near(
                rng, village.lat, village.lon, places.HOUSE_SPREAD_M
            )
            household.phone = names.mobile(rng) if rng.random() < 0.9 else None


def _group_sizes(rng: random.Random, count: int) -> list[int]:
    """Sizes between GROUP's bounds that add up to count (count >= GROUP[0])."""
    low, high = GROUP
    fewest, most = math.ceil(count / high), count // low
    groups = min(max(round(count / rng.uniform(6.5, 8.5)), fewest), most)
    sizes = [low] * groups
    for _ in range(count - low * groups):
        open_ = [i for i, s in enumerate(sizes) if s < high]
        sizes[rng.choice(open_)] += 1
    return sizes


def _showcase_group(households: list[HouseholdPlan]) -> list[HouseholdPlan]:
    """About eight households of village 0: a C, a D at home, the rest A and B."""
    pick = [
        next((h for h in households if h.klass == "C"), None),
        next((h for h in households if h.klass == "D" and not h.nursing), None),
    ]
    pick = [h for h in pick if h is not None]
    others = [h for h in households if h.klass in "AB"]
    pick += others[: SHOWCASE_SIZE - len(pick)]
    return pick


def _assign_cadres(
    rng: random.Random, slots: list[HouseholdPlan], villages: int, town_code: str, taken_phones
) -> tuple[list[CadrePlan], int | None]:
    cadres: list[CadrePlan] = []
    showcase = None
    for village in range(villages):
        local = [h for h in slots if h.village == village]
        rng.shuffle(local)
        groups = []
        if village == 0:
            chosen = _showcase_group(local)
            groups.append(chosen)
            local = [h for h in local if h not in chosen]
            showcase = len(cadres)
        start = 0
        for size in _group_sizes(rng, len(local)) if local else []:
            groups.append(local[start : start + size])
            start += size
        for group in groups:
            for household in group:
                household.cadre = len(cadres)
            cadres.append(_new_cadre(rng, len(cadres) + 1, town_code, taken_phones))
    return cadres, showcase


def _new_cadre(rng: random.Random, number: int, town_code: str, taken_phones: set) -> CadrePlan:
    sex = "M" if rng.random() < 0.7 else "F"
    name = names.surname(rng) + names.given_name(rng, sex, rng.randint(1968, 1998))
    phone = names.mobile(rng)
    while phone in taken_phones:
        phone = names.mobile(rng)
    taken_phones.add(phone)
    return CadrePlan(f"c{town_code}{number:04d}", name, phone)


def _showcase_story(households: list[HouseholdPlan]) -> None:
    """The showcase cadre's households: some overdue (a C among them), the article's crops."""
    a_and_b = [h for h in households if h.klass in "AB"]
    for household in households:
        household.overdue = household.klass == "C"
    for household in a_and_b[:2]:
        household.overdue = True
    if len(a_and_b) >= 4:
        a_and_b[2].crop = article_kiwifruit()
        a_and_b[3].crop = article_tobacco()


def _plan_visits(
    rng: random.Random, slots: list[HouseholdPlan], rhythm_days: dict, today: date, months: int
) -> None:
    start = today - timedelta(days=round(months * 30.44))
    for household in slots:
        days = visit_days(
            rng,
            rhythm=rhythm_days[household.klass],
            overdue=household.overdue,
            today=today,
            start=start,
        )
        household.visits = [
            plan_visit(
                rng,
                day,
                klass=household.klass,
                lat=household.lat,
                lon=household.lon,
                nursing=household.nursing,
            )
            for day in days
        ]


def _plan_crops(rng: random.Random, slots: list[HouseholdPlan]) -> None:
    """Some households grow kiwifruit or tobacco; their cadres record it at visits."""
    for household in slots:
        grows = household.crop is None and not household.nursing
        if grows and rng.random() < GROWERS[household.klass]:
            household.crop = kiwifruit(rng) if rng.random() < 0.55 else tobacco(rng)
        if household.crop is not None:
            record_crop(rng, household.crop, household.visits)


def plan_registry(
    *,
    households: int,
    village_names: list[str],
    seed: int,
    today: date,
    visits_months: int,
    rhythm_days: dict,
    town_name: str,
    town_code: str,
    taken_ids: set[str],
    taken_phones: set[str],
) -> RegistryPlan:
    def stage(name: str) -> random.Random:
        return random.Random(f"{seed}:{town_code}:{name}")

    villages = places.plan_villages(village_names, town_code, stage("villages"))
    slots = _slots(stage("slots"), households, len(villages))
    _fill_households(
        stage("people"),
        slots,
        villages,
        people_target=round(households * TAIHE_PEOPLE / TAIHE_HOUSEHOLDS),
        taken_ids=taken_ids,
        today=today,
        town_name=town_name,
    )
    cadres, showcase = _assign_cadres(
        stage("cadres"), slots, len(villages), town_code, taken_phones
    )
    overdue = stage("overdue")
    for household in slots:
        household.overdue = overdue.random() < OVERDUE[household.klass]
    if showcase is not None:
        _showcase_story([h for h in slots if h.cadre == showcase])
    _plan_visits(stage("visits"), slots, rhythm_days, today, visits_months)
    _plan_crops(stage("crops"), slots)
    return RegistryPlan(villages, slots, cadres, showcase)


def validate_size(households: int, villages: int) -> str | None:
    """Why a registry of this size cannot be built, or None."""
    if villages < 1:
        return "needs at least one village"
    if households < GROUP[0] * villages + SHOWCASE_SIZE:
        least = GROUP[0] * villages + SHOWCASE_SIZE
        return f"needs at least {least} households"
    return None
