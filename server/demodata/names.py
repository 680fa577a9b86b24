"""Synthetic Chinese names and phone numbers, drawn from pools by sex and generation.

The surnames are the common ones of Zichuan (翟 and 蒲 are typical there); the given names
follow the fashions of each generation, so a grandmother is a 秀英 and a grandson a 浩然.
No name here belongs to a real person on purpose: they are random combinations.
"""

import random

SURNAMES = tuple("王张李刘孙赵杨徐高韩翟毕蒲苏袁马宋崔于吕郭陈周董孟司石田魏商")

# Given-name characters by (sex, generation): first characters and second characters.
_GIVEN = {
    ("M", "old"): (
        "德传玉洪庆兆守长宝金福广立延世茂吉树振学",
        "山林福才田贵胜发义俊明春祥海生成顺和堂",
    ),
    ("F", "old"): ("秀桂玉凤淑兰翠春冬素美爱金月", "英兰珍芝荣梅花云琴香霞芳莲娥"),
    ("M", "mid"): ("建国红卫军志新永振海宏明庆文", "国军华东平伟强刚民忠峰涛波林"),
    ("F", "mid"): ("丽红艳晓春秀美玲燕桂爱", "红霞梅丽萍燕芳娟玲华荣"),
    ("M", "young"): ("志俊文晓建鹏海子家", "强杰博东磊超涛亮浩凯晨鹏"),
    ("F", "young"): ("晓文佳雪丽婷静慧倩", "燕静慧婷娜雪敏莉倩"),
}
_SINGLE = {
    ("M", "mid"): "伟强刚军勇斌磊涛",
    ("F", "mid"): "丽红艳静敏霞燕娟",
    ("M", "young"): "磊伟鹏超涛亮浩凯杰",
    ("F", "young"): "静丽敏倩婷娜雪",
}
_CHILDREN = {
    "M": ("子涵", "浩然", "宇轩", "梓豪", "一鸣", "皓轩", "思远", "博文", "俊熙", "子墨"),
    "F": ("欣怡", "梓涵", "诗涵", "雨桐", "可欣", "佳怡", "若汐", "一诺", "思彤", "梦瑶"),
}


def generation(birth_year: int) -> str:
    if birth_year < 1960:
        return "old"
    if birth_year < 1980:
        return "mid"
    if birth_year < 2005:
        return "young"
    return "child"


def given_name(rng: random.Random, sex: str, birth_year: int) -> str:
    era = generation(birth_year)
    if era == "child":
        return rng.choice(_CHILDREN[sex])
    if (sex, era) in _SINGLE and rng.random() < 0.3:
        return rng.choice(_SINGLE[sex, era])
    first, second = _GIVEN[sex, era]
    return rng.choice(first) + rng.choice(second)


def surname(rng: random.Random, common: tuple[str, ...] = ()) -> str:
    """A surname; villages are dominated by a few families, so `common` ones come first."""
    if common and rng.random() < 0.6:
        return rng.choice(common)
    return rng.choice(SURNAMES)


def mobile(rng: random.Random) -> str:
    """A synthetic mainland mobile number (11 digits, 13x/15x/17x/18x)."""
    return f"1{rng.choice('3578')}{rng.randrange(10)}{rng.randrange(10**8):08d}"
