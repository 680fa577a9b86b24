"""Screenshots of the cadres' app at a phone's size (360x800), for the README and for review:
the household list, a household, the visit form and the sync state.

    .venv/bin/python bench/screenshots.py [output folder, default docs/screenshots]

Builds a throwaway SQLite instance with a small Taihe town, pushes some past visits through
the real sync API, then drives Debian's Chromium like a cadre would.
"""

import hashlib
import io
import sys
import tempfile
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402
from server.idcard import check_digit  # noqa: E402
from server.models import (  # noqa: E402
    Assignment,
    Household,
    Member,
    SupportMeasure,
    Town,
    User,
    Village,
)
from server.passwords import hash_password  # noqa: E402
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PASSWORD = "screenshots only"
# head, class, village, phone, days since the last visit (None: never), crop of that visit
HOUSEHOLDS = [
    ("王秀兰", "C", "城子村", "13905331234", 50, None),
    ("李建国", "A", "纱帽村", "13853386620", 20, ("kiwifruit", "0.5", 40, 200000)),
    ("赵明", "B", "城子村", "13706431187", 70, ("tobacco", "6", None, 500000)),
    ("孙桂英", "D", "东坪村", None, None, None),
    ("刘长海", "B", "纱帽村", "15953305512", 10, None),
    ("陈玉兰", "C", "东坪村", "13969379921", 26, None),
    ("周福", "A", "城子村", "13864400318", 100, ("kiwifruit", "1.2", 90, 450000)),
    ("吴春花", "B", "东坪村", "18253390047", 30, None),
]

# Support measures by class (kind, yearly amount in fen, detail).
MEASURES = {
    "A": [("skills_training", None, "猕猴桃种植技术培训")],
    "B": [("public_welfare_post", 600000, "村保洁员"), ("medical_insurance", None, None)],
    "C": [("dividend", 150000, "光伏项目分红"), ("medical_relief", None, None)],
    "D": [("dibao", 480000, None), ("care_service", None, "邻里照料")],
}


def photo_bytes(seed: int, size=(1600, 1200)) -> bytes:
    """A plain drawing of a farmhouse: enough to look like a photo in a thumbnail."""
    image = Image.new("RGB", size, (120 + seed * 20 % 100, 170, 220))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle([0, h * 0.62, w, h], fill=(92, 140, 60))
    draw.rectangle([w * 0.3, h * 0.35, w * 0.7, h * 0.72], fill=(222, 205, 170))
    draw.polygon(
        [(w * 0.25, h * 0.37), (w * 0.5, h * 0.15), (w * 0.75, h * 0.37)], fill=(150, 40, 30)
    )
    draw.rectangle([w * 0.46, h * 0.52, w * 0.54, h * 0.72], fill=(90, 60, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def id_number(first17: str) -> str:
    return first17 + check_digit(first17)


def seed(app) -> None:
    town = Town(name="太河镇", office_phone="0533-5000000")
    villages = {name: Village(town=town, name=name) for name in ("城子村", "纱帽村", "东坪村")}
    cadre = User(
        username="zhangwei",
        display_name="张伟",
        role="cadre",
        town=town,
        password_hash=hash_password(PASSWORD),
        phone="13900000000",
    )
    db.session.add_all([town, cadre])
    for n, (head, klass, village, phone, _, _) in enumerate(HOUSEHOLDS, start=1):
        household = Household(
            code=f"TH{n:04d}",
            village=villages[village],
            head_name=head,
            klass=klass,
            phone=phone,
            address=f"{village}{n}号",
        )
        household.members = [
            Member(
                name=head,
                id_number=id_number(f"3703021{958 + n}0312{n:03d}"),
                relation="户主",
                sex="F" if head.endswith(("兰", "英", "花")) else "M",
                birth_year=1958 + n,
                health="长期慢性病" if klass in "CD" else "健康",
                labour_capacity="弱劳动力" if klass in "CD" else "普通劳动力",
            ),
            Member(
                name=head[0] + "小" + "明强丽军华芳红平"[n % 8],
                id_number=id_number(f"3703021{985 + n % 10}0612{n + 100:03d}"),
                relation="子" if n % 2 else "女",
                sex="M" if n % 2 else "F",
                birth_year=1985 + n % 10,
                health="健康",
                labour_capacity="普通劳动力",
            ),
        ]
        household.measures = [
            SupportMeasure(kind=kind, amount_fen=amount, detail=detail, started_on=date(2026, 1, 1))
            for kind, amount, detail in MEASURES[klass]
        ]
        db.session.add_all([household, Assignment(household=household, cadre=cadre)])
    db.session.commit()


def push_history(app) -> None:
    """Past visits, as earlier syncs from the cadre's phone would have left them."""
    client = app.test_client()
    me = client.post("/api/login", json={"username": "zhangwei", "password": PASSWORD}).get_json()
    headers = {"X-CSRF-Token": me["csrf_token"]}
    now = datetime.now(UTC)
    households = {h.head_name: h for h in db.session.query(Household)}
    for n, (head, _, _, _, days, crop) in enumerate(HOUSEHOLDS):
        if days is None:
            continue
        visit_uuid, photo_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        crops = []
        if crop:
            kind, area, plants, income = crop
            crops.append(
                {
                    "uuid": str(uuid.uuid4()),
                    "crop": kind,
                    "crop_name": None,
                    "area_mu": area,
                    "plants": plants,
                    "yield_kg": None,
                    "expected_income_fen": income,
                    "season_year": now.year,
                }
            )
        data = {
            "household_id": households[head].id,
            "visited_at": (now - timedelta(days=days)).isoformat(),
            "location": {"lat": 36.58, "lon": 118.12, "accuracy_m": 15.0},
            "situation": {
                "health": "worse" if n == 0 else "same",
                "income": "better" if crop else "same",
                "housing": "same",
                "schooling": "same",
            },
            "sudden_event": "illness" if n == 0 else None,
            "notes": "老人腿疼，已联系村医上门。" if n == 0 else "家中情况稳定。",
            "needs": "申请临时救助" if n == 0 else None,
            "follow_up": "下周陪同到镇卫生院复查" if n == 0 else None,
            "crops": crops,
            "photo_uuids": [photo_uuid],
            "report_id": None,
        }
        body = {
            "device": {"id": "seed"},
            "records": [{"uuid": visit_uuid, "kind": "visit", "data": data}],
        }
        result = client.post("/api/sync/push", json=body, headers=headers).get_json()["results"][0]
        assert result["status"] == "created", result
        image = photo_bytes(n)
        form = {
            "visit_uuid": visit_uuid,
            "sha256": hashlib.sha256(image).hexdigest(),
            "file": (io.BytesIO(image), "photo.jpg"),
        }
        answer = client.put(f"/api/sync/photos/{photo_uuid}", data=form, headers=headers)
        assert answer.status_code in (200, 201), answer.get_json()


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def shoot(base_url: str, out: Path, profile: Path, camera: Path) -> None:
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, "--lang=zh-CN"],
            viewport={"width": 360, "height": 800},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            permissions=["geolocation"],
            geolocation={"latitude": 36.581, "longitude": 118.123, "accuracy": 12},
            base_url=base_url,
            env={"LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"},
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.goto("/")
        page.fill("input[name=username]", "zhangwei")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".card")).to_have_count(len(HOUSEHOLDS))

        # A visit the server refuses (a typo in the area), and two waiting offline.
        record(page, "赵明", area="600000")
        expect(page.locator(".visit .chip.rejected")).to_be_visible()
        context.set_offline(True)
        record(page, "刘长海", photo=camera)
        record(page, "吴春花")

        page.goto("/#/")
        expect(page.locator(".card")).to_have_count(len(HOUSEHOLDS))
        settle(page)
        page.screenshot(path=str(out / "households.png"))

        page.locator(".card", has_text="王秀兰").click()
        expect(page.locator(".visit")).to_have_count(1)
        settle(page)
        page.screenshot(path=str(out / "household.png"))
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.screenshot(path=str(out / "household-visits.png"))

        page.goto("/#/")
        page.locator(".card", has_text="李建国").click()
        page.click("a.button.primary")
        expect(page.locator("fieldset.crop")).to_have_count(1)
        page.locator("input[name=situation-income][value=better]").check(force=True)
        page.set_input_files("#camera", str(camera))
        expect(page.locator(".visit-form .photos figure")).to_have_count(1, timeout=30_000)
        page.evaluate("window.scrollTo(0, 0)")
        settle(page)
        page.screenshot(path=str(out / "visit-form.png"))
        page.evaluate(
            "document.querySelector('.visit-form .checks').scrollIntoView({block: 'start'});"
            " window.scrollBy(0, -110)"
        )
        page.screenshot(path=str(out / "visit-form-crops.png"))

        page.goto("/#/sync")
        expect(page.locator("[data-testid=waiting-records]")).to_have_text("2")
        settle(page)
        page.screenshot(path=str(out / "sync.png"))
        context.close()


def settle(page) -> None:
    """No toast in the picture, images decoded."""
    expect(page.locator("#toast")).to_be_hidden(timeout=10_000)
    page.wait_for_timeout(300)


def record(page, head: str, area: str | None = None, photo: Path | None = None) -> None:
    page.goto("/#/")
    page.locator(".card", has_text=head).click()
    page.click("a.button.primary")
    if area:
        page.locator("fieldset.crop input[name=area_mu]").first.fill(area)
    if photo:
        page.set_input_files("#camera", str(photo))
        expect(page.locator(".visit-form .photos figure")).to_have_count(1, timeout=30_000)
    page.locator("textarea[name=notes]").fill("例行走访，家中情况稳定。")
    page.locator("form.visit-form button[type=submit]").click()
    expect(page.locator(".household-head h1", has_text=head)).to_be_visible()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        app = create_app(
            {
                "ENV": "development",
                "SECRET_KEY": "screenshots",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.db",
                "INSTANCE_PATH": str(tmp / "instance"),
            }
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "server" / "migrations"))
            seed(app)
            push_history(app)
        camera = tmp / "camera.jpg"
        camera.write_bytes(photo_bytes(7, size=(4000, 3000)))
        server, url = serve(app)
        try:
            shoot(url, out, tmp / "profile", camera)
        finally:
            server.shutdown()
    for path in sorted(out.glob("*.png")):
        print(path)


if __name__ == "__main__":
    main()
