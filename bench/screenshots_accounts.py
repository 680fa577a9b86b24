"""Screenshots of the accounts pages, a cadre's page and the audit log, at desk and phone
widths, into docs/screenshots/.

Builds a small 太河镇 (three villages, a dozen cadres and households), makes its changes
through the same functions and API the office uses, serves it, and has headless Chromium
photograph the pages as the town supervisor sees them.

    .venv/bin/python bench/screenshots_accounts.py
"""

import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server import accounts, create_app  # noqa: E402
from server.extensions import db  # noqa: E402
from server.idcard import check_digit  # noqa: E402
from server.models import (  # noqa: E402
    Assignment,
    DeviceStatus,
    Household,
    Member,
    NeedsAction,
    Town,
    User,
    Village,
    utcnow,
)
from server.passwords import hash_password  # noqa: E402
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PASSWORD = "screenshot pass 1"
OUT = ROOT / "docs" / "screenshots"
NAMES = ["王建国", "李秀英", "张桂兰", "刘玉珍", "陈德明", "杨凤英", "赵志强", "黄淑珍", "周海燕"]


def build_town() -> tuple[int, int]:
    """The town; returns (the supervisor's id, a cadre's id)."""
    town = Town(name="太河镇")
    villages = [Village(town=town, name=n) for n in ("城子村", "纱帽村", "太河村")]
    supervisor = User(
        username="zhen",
        display_name="镇扶贫办 孙丽",
        role="supervisor",
        town=town,
        password_hash=hash_password(PASSWORD),
    )
    db.session.add_all([town, *villages, supervisor])
    db.session.flush()
    cadres = []
    for n, name in enumerate(NAMES):
        new = accounts.NewAccount(f"cadre{n + 1}", "cadre", name, f"1380000{n:04d}", town)
        cadre, _ = accounts.create(supervisor, new)
        cadres.append(cadre)
    accounts.create(
        supervisor,
        accounts.NewAccount("chengzi", "village", "城子村两委", None, town, (villages[0],)),
    )
    accounts.set_enabled(supervisor, cadres[-1], False)
    for n in range(12):
        household = Household(
            code=f"TH{n + 1:04d}",
            village=villages[n % 3],
            head_name=f"{NAMES[n % len(NAMES)][0]}户主{n + 1}",
            klass="ABCD"[n % 4],
            last_visit_at=utcnow() - timedelta(days=10 + 17 * n),
        )
        first17 = f"370303196{n % 10}0312{n:03d}"
        id_number = first17 + check_digit(first17)
        household.members = [
            Member(name=household.head_name, relation="户主", sex="M", id_number=id_number)
        ]
        db.session.add(household)
        db.session.add(Assignment(household=household, cadre=cadres[n % 3]))
    db.session.add(DeviceStatus(user_id=cadres[0].id, device_id="a1", pending_records=3))
    db.session.flush()
    first = db.session.scalar(db.select(Household).order_by(Household.id))
    db.session.add(
        NeedsAction(
            household=first, source="visit", source_id=1, reason="illness", raised_at=utcnow()
        )
    )
    db.session.commit()
    return supervisor.id, cadres[0].id


def edit_through_the_api(app) -> None:
    client = app.test_client()
    client.post("/api/login", json={"username": "zhen", "password": PASSWORD})
    csrf = {"X-CSRF-Token": client.get("/api/me").get_json()["csrf_token"]}
    client.patch("/api/households/1", json={"klass": "C", "reason": "户主因病"}, headers=csrf)
    client.patch("/api/households/2", json={"phone": "13912345678"}, headers=csrf)
    client.patch("/api/members/3", json={"health": "长期慢性病"}, headers=csrf)


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def shoot(base: str, cadre_id: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800}, device_scale_factor=2, locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )  # fmt: skip
        page = context.new_page()
        page.goto(f"{base}/login?next=/office/accounts")
        page.fill("input[name=username]", "zhen")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/office/accounts")
        shots = [
            ("office-accounts-desk.png", "/office/accounts", 1280),
            ("office-accounts-phone.png", "/office/accounts", 360),
            ("office-account-new-desk.png", "/office/accounts/new", 1280),
            ("office-cadre-desk.png", f"/office/cadres/{cadre_id}", 1280),
            ("office-cadre-phone.png", f"/office/cadres/{cadre_id}", 360),
            ("office-audit-desk.png", "/office/audit", 1280),
            ("office-audit-phone.png", "/office/audit", 360),
        ]
        for filename, path, width in shots:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(base + path)
            page.screenshot(path=str(OUT / filename), full_page=True)
            print("wrote", OUT / filename)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{base}/office/accounts/{cadre_id}")
        page.click("#reset-password")
        page.screenshot(path=str(OUT / "office-one-time-password-desk.png"), full_page=True)
        print("wrote", OUT / "office-one-time-password-desk.png")
        context.close()


def main() -> None:
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
            _, cadre_id = build_town()
            db.session.remove()
        edit_through_the_api(app)
        server = serve(app)
        try:
            shoot(f"http://127.0.0.1:{server.server_port}", cadre_id)
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
