"""Screenshots of the office site on a modest demo-like town.

Builds 太河镇 (8 villages, about 600 households, a year of visits stored through the same
functions the sync code calls), serves it, and has headless Chromium photograph the office
pages (coverage, registry, a household, the forms, tasks, flags, conflicts, self-reports,
door cards) at phone (360 px) and desk (1280 px) widths into docs/screenshots/.

    .venv/bin/python bench/screenshots_office.py
"""

import random
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server import create_app, idcard  # noqa: E402
from server.coverage import flag_visit, record_visit_aggregates  # noqa: E402
from server.extensions import db  # noqa: E402
from server.idcard import check_digit  # noqa: E402
from server.models import (  # noqa: E402
    Assignment,
    CropRecord,
    DataConflict,
    DeviceStatus,
    Household,
    Member,
    Town,
    User,
    Village,
    Visit,
    new_uuid,
)
from server.passwords import hash_password  # noqa: E402
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PASSWORD = "screenshot pass 1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
OUT = ROOT / "docs" / "screenshots"
VILLAGES = ("城子村", "纱帽村", "太河村", "东石村", "峨庄村", "上端士村", "下端士村", "梦泉村")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "建国秀英桂兰玉珍德明凤英志强淑珍海燕春梅文华永胜丽娟长青金花保田红霞立新广福"
KLASSES = ["A"] * 52 + ["B"] * 39 + ["C"] * 8 + ["D"] * 1


def name(rng) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


def build_town(rng: random.Random, now: datetime) -> None:
    password = hash_password(PASSWORD)
    town = Town(name="太河镇", office_phone="0533-5000000")
    villages = [Village(town=town, name=v) for v in VILLAGES]
    db.session.add_all([town, *villages])
    db.session.add(
        User(
            username="zhen",
            display_name="镇扶贫办 王主任",
            role="supervisor",
            town=town,
            password_hash=password,
        )
    )
    db.session.flush()
    for n, village in enumerate(villages):
        cadres = [
            User(
                username=f"cadre{n}_{c}",
                display_name=name(rng),
                role="cadre",
                town=town,
                phone=f"1390533{n:02d}{c:02d}",
            )
            for c in range(rng.randint(5, 9))
        ]
        db.session.add_all(cadres)
        base = (36.40 + rng.random() * 0.15, 118.00 + rng.random() * 0.2)
        for h in range(rng.randint(60, 90)):
            household = Household(
                code=f"TH{n + 1:02d}{h + 1:03d}",
                village=village,
                head_name=name(rng),
                klass=rng.choice(KLASSES),
                phone=f"138{rng.randint(10000000, 99999999)}",
                lat=base[0] + rng.uniform(-0.004, 0.004) if rng.random() < 0.6 else None,
                lon=base[1] + rng.uniform(-0.004, 0.004),
            )
            if household.lat is None:
                household.lon = None
            household.members = family(rng, household.head_name, n * 1000 + h)
            cadre = cadres[h % len(cadres)]
            db.session.add_all([household, Assignment(household=household, cadre=cadre)])
            db.session.flush()
            visit_history(rng, household, cadre, base, now)
        for cadre in cadres:
            db.session.add(
                DeviceStatus(
                    user_id=cadre.id,
                    device_id=new_uuid(),
                    pending_records=rng.choice((0, 0, 0, 0, 2, 5)),
                    pending_photos=rng.choice((0, 0, 0, 1, 3)),
                    last_sync_at=now - timedelta(minutes=rng.uniform(5, 600)),
                )
            )
        db.session.commit()
    some = db.session.query(Household).first()
    db.session.add(
        DataConflict(
            household_id=some.id,
            record_uuid=new_uuid(),
            field="phone",
            server_value={"value": some.phone},
            phone_value={"value": "13905330000"},
            submitted_by_id=some.cadres[0].id,
        )
    )
    db.session.commit()


def id_number(rng, serial: int, year: int) -> str:
    first17 = f"370304{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{serial % 1000:03d}"
    return first17 + check_digit(first17)


def family(rng, head: str, serial: int) -> list[Member]:
    """The head, a spouse, and a child or two, with valid ID numbers."""
    people = [(head, "户主", rng.randint(1950, 1975)), (name(rng), "配偶", rng.randint(1952, 1978))]
    people += [(head[0] + name(rng)[1:], rng.choice(("之子", "之女")), rng.randint(1980, 2012))
               for _ in range(rng.randint(0, 2))]  # fmt: skip
    members = []
    for position, (who, relation, year) in enumerate(people):
        number = id_number(rng, serial * 7 + position, year)
        members.append(
            Member(
                name=who,
                relation=relation,
                id_number=number,
                position=position,
                birth_year=year,
                sex=idcard.sex(number),
                health=rng.choice(("健康", "健康", "健康", "长期慢性病", "残疾")),
                labour_capacity=rng.choice(("普通劳动力", "弱劳动力", "无劳动力")),
            )  # fmt: skip
        )
    return members


RHYTHM = {"A": 90, "B": 60, "C": 30, "D": 30}


def local_day_time(at: datetime, rng) -> datetime:
    """Somewhere between 8:00 and 17:59, Beijing time, on that day."""
    local = at.astimezone(SHANGHAI).replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59))
    return local.astimezone(UTC)


def visit_history(rng, household, cadre, base, now) -> None:
    """A year of visits at roughly the class rhythm; some households fall behind lately."""
    at = now - timedelta(days=365 - rng.uniform(0, 30))
    stop = now - timedelta(days=rng.uniform(40, 120) if rng.random() < 0.15 else 0)
    while at < stop:
        located = rng.random() > 0.04
        lat = (household.lat or base[0]) + rng.uniform(-0.0008, 0.0008)
        lon = (household.lon or base[1]) + rng.uniform(-0.0008, 0.0008)
        if rng.random() < 0.01:
            lat += 0.02  # a visit logged far from home
        situation = {
            "health": "same",
            "income": rng.choice(("same", "same", "better")),
            "housing": "same",
            "schooling": "same",
        }
        if rng.random() < 0.02:
            situation["health"] = "worse"
        visited_at = local_day_time(at, rng)
        visit = Visit(
            uuid=new_uuid(),
            household=household,
            cadre=cadre,
            visited_at=visited_at,
            received_at=visited_at + timedelta(hours=rng.uniform(0.1, 30)),
            lat=lat if located else None,
            lon=lon if located else None,
            accuracy_m=(rng.choice((8.0, 12.0, 20.0, 35.0)) if rng.random() > 0.02 else 0.0)
            if located
            else None,
            situation=situation,
            sudden_event="illness" if rng.random() < 0.006 else None,
            notes=rng.choice(
                (
                    "例行走访，家中一切正常。",
                    "猕猴桃长势良好，已套袋。",
                    "老人腿脚不便，已联系村医。",
                    "黄烟烤房检修完成。",
                )
            ),
        )
        db.session.add(visit)
        db.session.flush()
        if rng.random() < 0.2:
            db.session.add(
                CropRecord(
                    household_id=household.id,
                    visit_id=visit.id,
                    crop=rng.choice(("kiwifruit", "tobacco")),
                    area_mu=Decimal(rng.choice(("0.5", "1.0", "2.5", "6.0"))),
                    expected_income_fen=rng.choice((200000, 500000, 800000)),
                    season_year=at.year,
                    recorded_at=visit.visited_at,
                )
            )
        record_visit_aggregates(household, visit)
        flag_visit(visit)
        at += timedelta(days=RHYTHM[household.klass] * rng.uniform(0.55, 1.05))


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def change_through_the_forms(page, base: str) -> None:
    """A class change and a member's health through the household page's own forms, so the
    screenshots show a change history."""
    page.goto(f"{base}/office/households/5")
    page.locator("details#class summary").click()
    page.select_option("details#class select[name=klass]", "C")
    page.fill("details#class input[name=reason]", "家中老人大病，收入骤减")
    page.click("details#class button")
    page.locator(".member-actions details summary").first.click()
    form = page.locator(".member-actions form").first
    form.locator("input[name=health]").fill("大病")
    form.locator("input[name=reason]").fill("县医院确诊")
    form.locator("button").click()


def shoot(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 360, "height": 800}, device_scale_factor=2, locale="zh-CN",
        )  # fmt: skip
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "zhen")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/office/")
        change_through_the_forms(page, base)
        shots = [
            ("coverage-overview-phone.png", "/office/", 360),
            ("coverage-cadres-phone.png", "/office/cadres?village=1", 360),
            ("coverage-overdue-phone.png", "/office/overdue?village=1", 360),
            ("coverage-needs-action-phone.png", "/office/needs-action", 360),
            ("coverage-overview-desk.png", "/office/", 1280),
            ("coverage-cadres-desk.png", "/office/cadres", 1280),
            ("coverage-flags-desk.png", "/office/flags", 1280),
            ("coverage-needs-action-desk.png", "/office/needs-action", 1280),
            ("coverage-map-desk.png", "/office/villages/1/map", 1280),
            ("coverage-conflicts-phone.png", "/office/conflicts", 360),
            ("office-households-phone.png", "/office/households?village=1", 360),
            ("office-households-desk.png", "/office/households?q=王", 1280),
            ("office-household-phone.png", "/office/households/5", 360),
            ("office-household-desk.png", "/office/households/5", 1280),
            ("office-household-new-phone.png", "/office/households/new", 360),
            ("office-household-new-desk.png", "/office/households/new", 1280),
            ("office-reports-desk.png", "/office/reports?status=all", 1280),
            ("office-cards-phone.png", "/office/cards", 360),
        ]
        for filename, path, width in shots:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(base + path)
            if filename == "office-household-desk.png":  # the forms, not only their titles
                for details in page.locator("main details").all()[:3]:
                    details.evaluate("d => d.open = true")
            page.screenshot(path=str(OUT / filename), full_page=True)
            print("wrote", OUT / filename)
        context.close()


def main() -> None:
    rng, now = random.Random(7), datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "ENV": "development",
                "SECRET_KEY": "shots",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/shots.db",
                "INSTANCE_PATH": folder,
            }
        )
        with app.app_context():
            upgrade()
            build_town(rng, now)
            db.session.remove()
        server = serve(app)
        try:
            shoot(f"http://127.0.0.1:{server.server_port}")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
