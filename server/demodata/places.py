"""Where the demo town is: villages in the hills east of Zichuan, positions, addresses."""

import math
import random
from dataclasses import dataclass

# Villages of the Taihe area (Zichuan district, Zibo); the first 20 make the demo town.
TAIHE_VILLAGES = (
    ("城子村", "纱帽村", "太河村", "峨庄村", "上端士村", "下端士村", "土泉村", "北峪村")
    + ("南峪村", "雕崖村", "东石村", "西石村", "柏树村", "双井村", "涌泉村", "梓桐村")
    + ("马棚村", "响泉村", "东坡村", "淄河村")
)
# Synthetic names for larger registries: a direction or a feature, then a landform.
_NAME_HEADS = tuple("东西南北上下前后大小中新老石柏杏桃柿枣黄青龙凤马牛")
_NAME_TAILS = (
    "峪",
    "庄",
    "河",
    "泉",
    "岭",
    "沟",
    "崖",
    "坡",
    "店",
    "峪口",
    "家庄",
    "山",
    "台",
    "崮",
)
# The families most houses of a village belong to.
_FAMILY_NAMES = tuple("王张李刘孙赵翟毕蒲苏袁韩高徐")

TOWN_CENTRE = (36.545, 118.148)  # around Taihe's town seat, east of the Zichuan city
VILLAGE_SPREAD = (0.07, 0.09)  # degrees of latitude and longitude around the centre
HOUSE_SPREAD_M = 220  # how far houses lie from their village centre (one sigma)
METRES_PER_DEG_LAT = 111_320


@dataclass
class VillagePlan:
    name: str
    code: str  # 12-digit administrative code: the town's 9 digits and 3 of its own
    lat: float
    lon: float
    surnames: tuple[str, ...]  # the families most houses belong to


def village_names(count: int, rng: random.Random, taken: tuple[str, ...] = ()) -> list[str]:
    """The Taihe villages first, then synthetic names, none repeated nor in `taken`."""
    names = [n for n in TAIHE_VILLAGES if n not in taken][:count]
    seen = set(names) | set(taken)
    while len(names) < count:
        name = rng.choice(_NAME_HEADS) + rng.choice(_NAME_TAILS) + "村"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def metres_to_degrees(north_m: float, east_m: float, lat: float) -> tuple[float, float]:
    lon_scale = METRES_PER_DEG_LAT * math.cos(math.radians(lat))
    return north_m / METRES_PER_DEG_LAT, east_m / lon_scale


def near(rng: random.Random, lat: float, lon: float, sigma_m: float) -> tuple[float, float]:
    """A point scattered around (lat, lon), normally distributed with sigma in metres."""
    d_lat, d_lon = metres_to_degrees(rng.gauss(0, sigma_m), rng.gauss(0, sigma_m), lat)
    return round(lat + d_lat, 6), round(lon + d_lon, 6)


def at_distance(rng: random.Random, lat: float, lon: float, metres: float) -> tuple[float, float]:
    """A point `metres` away from (lat, lon) in a random direction."""
    angle = rng.uniform(0, 2 * math.pi)
    d_lat, d_lon = metres_to_degrees(metres * math.cos(angle), metres * math.sin(angle), lat)
    return round(lat + d_lat, 6), round(lon + d_lon, 6)


def plan_villages(names: list[str], town_code: str, rng: random.Random) -> list[VillagePlan]:
    plans = []
    for number, name in enumerate(names, start=201):
        lat = TOWN_CENTRE[0] + rng.uniform(-1, 1) * VILLAGE_SPREAD[0]
        lon = TOWN_CENTRE[1] + rng.uniform(-1, 1) * VILLAGE_SPREAD[1]
        families = (rng.choice(_FAMILY_NAMES), rng.choice(_FAMILY_NAMES))
        plans.append(VillagePlan(name, f"{town_code}{number:03d}", lat, lon, families))
    return plans


def address(town_name: str, village: str, number: int) -> str:
    return f"山东省淄博市淄川区{town_name}{village}{number}号"


def nursing_home_address(town_name: str, village: str) -> str:
    return f"山东省淄博市淄川区{town_name}敬老院（原籍{village}）"
