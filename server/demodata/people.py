"""Families of the households: who lives there, their ages, health, labour and ID numbers.

Households that left poverty in the hills are small and old: many elderly people alone or in
couples, some with a sick or disabled grown child, some grandparents raising a grandchild.
Capacity falls from class A to D, and so do health and the ability to work.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from .. import idcard
from . import names

ZICHUAN = "370302"  # the district's region code, the first six digits of its ID numbers

HEALTHY, CHRONIC, SERIOUS, DISABLED = "健康", "长期慢性病", "大病", "残疾"
SKILLED, ORDINARY, WEAK, LOST, NONE = (
    "技能劳动力",
    "普通劳动力",
    "弱劳动力",
    "丧失劳动力",
    "无劳动力",
)

# People per household by class; the mix yields about 1.73 people a household, as in Taihe.
SIZE_WEIGHTS = {
    "A": {1: 0.40, 2: 0.40, 3: 0.13, 4: 0.05, 5: 0.02},
    "B": {1: 0.48, 2: 0.40, 3: 0.09, 4: 0.03},
    "C": {1: 0.68, 2: 0.29, 3: 0.03},
    "D": {1: 0.85, 2: 0.15},
}
MAX_SIZE = 6
# Age of the household head: (low, high, mode) by class.
HEAD_AGE = {"A": (32, 68, 52), "B": (38, 82, 60), "C": (50, 88, 70), "D": (62, 95, 80)}
# Chances of (disabled, serious illness, chronic illness) for an adult, by class.
ILLNESS = {
    "A": (0.03, 0.02, 0.15),
    "B": (0.07, 0.05, 0.30),
    "C": (0.15, 0.12, 0.40),
    "D": (0.35, 0.20, 0.45),
}


@dataclass
class Person:
    name: str
    relation: str  # 户主, 配偶, 子, 女, 儿媳, 孙子, 孙女, 父亲, 母亲
    sex: str
    birth: date
    health: str
    labour: str
    id_number: str


def household_sizes(
    rng: random.Random, klasses: list[str], alone: list[bool], target: int
) -> list[int]:
    """Sizes drawn by class, then nudged (A and B households only) to exactly `target` people.

    Households marked `alone` (nursing-home residents) keep one person.
    """
    sizes = []
    for klass, single in zip(klasses, alone, strict=True):
        weights = SIZE_WEIGHTS[klass]
        sizes.append(1 if single else rng.choices(list(weights), list(weights.values()))[0])
    adjustable = [i for i, k in enumerate(klasses) if k in ("A", "B")]
    difference = target - sum(sizes)
    step = 1 if difference > 0 else -1
    room = sum((MAX_SIZE - 1 - sizes[i]) if step > 0 else (sizes[i] - 1) for i in adjustable)
    difference = step * min(abs(difference), room)  # as close as the households allow
    while difference:
        i = adjustable[rng.randrange(len(adjustable))]
        if 1 <= sizes[i] + step <= MAX_SIZE - 1:
            sizes[i] += step
            difference -= step
    return sizes


def _relatives(rng: random.Random, size: int, head_age: int) -> list[tuple[str, int]]:
    """(relation, age) of everyone but the head."""
    if size == 1:
        return []
    child_age = max(head_age - rng.randint(22, 34), 0)
    spouse = ("配偶", max(head_age + rng.randint(-5, 3), 20))
    child = (rng.choice(("子", "女")), child_age)
    if size == 2:
        if head_age >= 55:
            return [spouse] if rng.random() < 0.8 else [child]
        parent = (rng.choice(("父亲", "母亲")), head_age + rng.randint(22, 32))
        return [rng.choices((spouse, parent, child), (0.5, 0.25, 0.25))[0]]
    grandchild_age = child_age - rng.randint(22, 30)
    if grandchild_age < 0:  # too young to be a grandparent: a couple with children
        return [spouse] + [
            (rng.choice(("子", "女")), max(child_age - rng.randint(0, 8), 0))
            for _ in range(size - 2)
        ]
    grandchild = (rng.choice(("孙子", "孙女")), grandchild_age)
    if size == 3:
        return [child, grandchild] if rng.random() < 0.4 else [spouse, child]
    family = [spouse, ("子", child_age), ("儿媳", max(child_age + rng.randint(-3, 3), 20))]
    younger = [
        (rng.choice(("孙子", "孙女")), max(grandchild_age - rng.randint(0, 6), 0))
        for _ in range(size - 4)
    ]
    return (family + younger)[: size - 1]


def _sex(relation: str, head_sex: str) -> str:
    fixed = {"子": "M", "孙子": "M", "父亲": "M", "女": "F", "孙女": "F", "儿媳": "F", "母亲": "F"}
    if relation == "配偶":
        return "F" if head_sex == "M" else "M"
    return fixed[relation]


def health(rng: random.Random, klass: str, age: int, is_head: bool) -> str:
    if age < 18:
        roll = rng.random()
        return DISABLED if roll < 0.01 else SERIOUS if roll < 0.015 else HEALTHY
    # Other members of a C or D household fare like a B household's.
    disabled, serious, chronic = ILLNESS[klass if is_head or klass in "AB" else "B"]
    chronic += max(age - 60, 0) * 0.01
    roll = rng.random()
    if roll < disabled:
        return DISABLED
    if roll < disabled + serious:
        return SERIOUS
    if roll < disabled + serious + chronic or (klass == "D" and is_head):
        return CHRONIC
    return HEALTHY


def labour(rng: random.Random, klass: str, age: int, state: str, is_head: bool) -> str:
    if age < 16 or (age < 22 and rng.random() < 0.7):  # children and students
        return NONE
    if (klass == "D" and is_head) or age >= 75:
        return LOST
    if state in (DISABLED, SERIOUS):
        return LOST if rng.random() < 0.7 else WEAK
    if age >= 65 or (state == CHRONIC and rng.random() < 0.6):
        return WEAK
    return SKILLED if klass == "A" and rng.random() < 0.25 else ORDINARY


class IdNumbers:
    """Valid, unique Zichuan ID numbers: birth date, a sequence whose parity gives the sex,
    and the check digit."""

    def __init__(self, rng: random.Random, taken: set[str]):
        self.rng, self.taken = rng, taken

    def new(self, birth: date, sex: str) -> str:
        while True:
            sequence = 2 * self.rng.randrange(1, 500) + (1 if sex == "M" else 0)
            first17 = f"{ZICHUAN}{birth:%Y%m%d}{sequence:03d}"
            number = first17 + idcard.check_digit(first17)
            if number not in self.taken:
                self.taken.add(number)
                return number


def birth_date(rng: random.Random, age: int, today: date) -> date:
    return today - timedelta(days=int(age * 365.25) + rng.randrange(1, 365))


def family(
    rng: random.Random,
    ids: IdNumbers,
    *,
    klass: str,
    size: int,
    today: date,
    surnames: tuple[str, ...],
) -> list[Person]:
    """The members of one household, the head first."""
    head_age = round(rng.triangular(*HEAD_AGE[klass]))
    alone_and_old = size == 1 and head_age > 65
    head_sex = "F" if rng.random() < (0.55 if alone_and_old else 0.15) else "M"
    head_surname = names.surname(rng, surnames)
    people = [("户主", head_sex, head_age, head_surname)]
    line = head_surname  # the surname the children carry: the father's
    for relation, age in _relatives(rng, size, head_age):
        sex = _sex(relation, head_sex)
        own = None  # children and grandchildren: the family line, known once all are listed
        if relation in ("配偶", "儿媳", "母亲"):
            own = names.surname(rng)
        elif relation == "父亲":
            own = head_surname
        if relation == "配偶" and sex == "M":
            line = own
        people.append((relation, sex, age, own))
    members = []
    for relation, sex, age, own in people:
        born = birth_date(rng, age, today)
        state = health(rng, klass, age, relation == "户主")
        name = (own or line) + names.given_name(rng, sex, born.year)
        capacity = labour(rng, klass, age, state, relation == "户主")
        members.append(Person(name, relation, sex, born, state, capacity, ids.new(born, sex)))
    return members
