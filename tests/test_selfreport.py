"""Household self-report: door-card tokens, the public page, reports as tasks, scope, abuse."""

import base64
import hashlib
import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from server import selfreport, storage, tasks
from server.errors import ApiError
from server.extensions import db
from server.models import (
    AuditEvent,
    Household,
    HouseholdLink,
    Photo,
    SelfReport,
    User,
    Visit,
    new_uuid,
    utcnow,
)
from server.selfreport import reports, tokens
from server.selfreport.cards import mask_name

from .conftest import PASSWORD


def issue(household) -> str:
    token = tokens.issue(household, None, for_card=True)
    db.session.commit()
    return token


def nonce_of(html: str) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', html).group(1)


def send(client, token, photo=None, **fields):
    """Open the page like a phone would, then send the form."""
    page = client.get(f"/r/{token}")
    assert page.status_code == 200
    data = {"category": "illness", "description": "父亲住院了", "urgency": "urgent"}
    data |= {"nonce": nonce_of(page.get_data(as_text=True))} | fields
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "photo.jpg")
    return client.post(f"/r/{token}", data=data, content_type="multipart/form-data")


def sent_reference(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return re.search(r"sent=([0-9-]+)", response.headers["Location"]).group(1)


def jpeg_with_exif(size=(3000, 2000), orientation=6) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 20, 200), (0, 0, size[0] // 2, size[1] // 4))
    exif = Image.Exif()
    exif[0x0112] = orientation  # rotate 90 degrees clockwise to display
    exif[0x010F] = "SecretPhoneMaker"
    exif[0x0132] = "2026:06:01 08:00:00"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=70)
    return out.getvalue()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_photo_files(app) -> list:
    root = storage.current().root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- tokens -------------------------------------------------------------------------------


def test_tokens_are_random_long_and_stored_only_hashed(world):
    made = {issue(world.h_chengzi) for _ in range(50)}
    assert len(made) == 50
    for token in made:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
        assert len(base64.urlsafe_b64decode(token + "==")) * 8 >= 128
    token = issue(world.h_chengzi)
    live = tokens.live_link(world.h_chengzi)
    assert live.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # The token itself appears nowhere in the database: not in links, not in the audit log.
    for link in db.session.scalars(select(HouseholdLink)):
        assert token not in (link.token_hash,)
    for event in db.session.scalars(select(AuditEvent)):
        assert token not in repr((event.before, event.after, event.reason))
    assert count(HouseholdLink) == 51
    assert db.session.scalar(select(func.count()).where(HouseholdLink.revoked_at.is_(None))) == 1


def test_reissue_and_revoke_make_the_old_link_404(world, client):
    old = issue(world.h_chengzi)
    assert client.get(f"/r/{old}").status_code == 200
    new = issue(world.h_chengzi)
    assert client.get(f"/r/{old}").status_code == 404
    assert client.get(f"/r/{new}").status_code == 200
    assert tokens.revoke(world.h_chengzi, None)
    db.session.commit()
    assert client.get(f"/r/{new}").status_code == 404


def test_unknown_revoked_and_malformed_tokens_answer_the_same(world, client):
    revoked = issue(world.h_chengzi)
    issue(world.h_chengzi)
    unknown = "A" * 32
    answers = [client.get(f"/r/{t}") for t in (revoked, unknown, "short", "x" * 200)]
    posts = [client.post(f"/r/{t}", data={"category": "other"}) for t in (revoked, unknown)]
    bodies = {r.get_data() for r in answers + posts}
    assert {r.status_code for r in answers + posts} == {404}
    assert len(bodies) == 1
    assert "链接" in bodies.pop().decode()
    header_sets = {tuple(sorted(r.headers.items())) for r in answers[:2]}
    assert len(header_sets) == 1


def test_new_households_get_a_token_that_still_needs_its_card(world, login):
    client = login("town_supervisor")
    response = client.post(
        "/api/households",
        json={"code": "H0100", "village_id": world.chengzi.id, "head_name": "王五", "klass": "C"},
    )
    assert response.status_code == 201
    household = db.session.get(Household, response.get_json()["id"])
    link = tokens.live_link(household)
    assert link is not None and link.card_rendered_at is None
    assert tokens.needs_card(link)
    assert tokens.ensure_token(household) is None  # already has one


def test_masked_names():
    assert mask_name("李建忠") == "李*忠"
    assert mask_name("李明") == "李*"
    assert mask_name("欧阳建国") == "欧**国"
    assert mask_name("李") == "李"


# --- the public page ----------------------------------------------------------------------


def test_public_page_shows_only_what_the_family_needs(world, client):
    world.h_chengzi.head_name = "李建忠"
    world.h_chengzi.last_visit_at = utcnow() - timedelta(days=3)
    token = issue(world.h_chengzi)
    response = client.get(f"/r/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "李*忠" in html and "李建忠" not in html
    assert "城子村" in html and "chengzi_cadre" in html
    assert 'href="tel:13900000000"' in html
    assert world.h_chengzi.code not in html
    assert world.h_chengzi.members[0].id_number not in html
    assert "<script" not in html
    assert len(response.get_data()) < 30 * 1024
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_public_page_is_chinese_whatever_the_browser_asks(world, client):
    token = issue(world.h_chengzi)
    html = client.get(f"/r/{token}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "发生了什么" in html and "What happened" not in html


def test_full_flow_from_form_to_cadre_to_linked_visit(world, client, login, app):
    token = issue(world.h_chengzi)
    version = world.h_chengzi.version
    reference = sent_reference(send(client, token, photo=jpeg_with_exif(), phone="139 1234 5678"))
    receipt = client.get(f"/r/{token}?sent={reference}").get_data(as_text=True)
    assert reference in receipt and "父亲住院了" not in receipt  # status only, never content

    cadre = login("chengzi_cadre")
    items = cadre.get("/api/reports").get_json()
    assert [i["reference"] for i in items] == [reference]
    item = items[0]
    assert item["status"] == "received" and item["priority"] == 0
    assert item["callback_phone"] == "13912345678"
    assert item["description"] == "父亲住院了"
    photo = cadre.get(item["photo_url"])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"

    seen = cadre.post(f"/api/reports/{item['id']}/seen").get_json()
    assert seen["status"] == "seen" and seen["response_seconds"] is not None
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert page.count("—") == 1  # seen has a date now; acted-on does not yet

    user = db.session.get(User, world.users["chengzi_cadre"].id)
    visit = Visit(
        uuid=new_uuid(), household_id=world.h_chengzi.id, cadre_id=user.id, visited_at=utcnow()
    )
    db.session.add(visit)
    selfreport.link_visit_to_report(visit, item["id"], user)
    db.session.commit()

    handled = cadre.get(f"/api/reports/{item['id']}").get_json()
    assert handled["status"] == "handled" and handled["visit_uuid"] == visit.uuid
    assert cadre.get("/api/reports").get_json() == []
    assert [r["reference"] for r in cadre.get("/api/reports?status=all").get_json()] == [reference]
    assert "—" not in client.get(f"/r/{token}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Household, world.h_chengzi.id).version == version  # record untouched
    actions = set(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "self_report"))
    )
    assert {"create", "seen", "link_visit"} <= actions


def test_photo_is_upright_smaller_and_without_metadata(world, client, app):
    token = issue(world.h_chengzi)
    sent_reference(send(client, token, photo=jpeg_with_exif()))
    photo = db.session.scalars(select(Photo)).one()
    stored = storage.current().get(photo.storage_key)
    assert b"SecretPhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert (image.width, image.height) == (1067, 1600)  # turned upright, long edge 1600
        assert not image.getexif()
        assert image.getpixel((1000, 50))[2] > 150  # the blue band moved to the right side
    assert photo.storage_key == hashlib.sha256(stored).hexdigest()


def test_sending_the_same_form_twice_stores_one_report(world, client):
    token = issue(world.h_chengzi)
    page = client.get(f"/r/{token}").get_data(as_text=True)
    data = {
        "category": "harvest",
        "description": "猕猴桃丰收",
        "urgency": "normal",
        "nonce": nonce_of(page),
    }
    first = client.post(f"/r/{token}", data=data)
    second = client.post(f"/r/{token}", data=data)
    assert sent_reference(first) == sent_reference(second)
    assert count(SelfReport) == 1


def test_invalid_fields_are_explained_and_kept(world, client):
    token = issue(world.h_chengzi)
    response = send(client, token, description="x", phone="12345", category="bogus")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "这不是电话号码" in html and "请选择发生了什么" in html and "2 到 500" in html
    assert 'value="12345"' in html
    assert count(SelfReport) == 0


def test_expired_or_foreign_nonce_asks_to_send_again(world, client):
    token = issue(world.h_shamao)
    other = issue(world.h_chengzi)
    foreign = nonce_of(client.get(f"/r/{other}").get_data(as_text=True))
    response = client.post(
        f"/r/{token}",
        data={
            "category": "other",
            "description": "测试内容",
            "urgency": "normal",
            "nonce": foreign,
        },
    )
    assert response.status_code == 422
    assert "重新提交" in response.get_data(as_text=True)
    assert count(SelfReport) == 0


def test_honeypot_pretends_and_stores_nothing(world, client):
    token = issue(world.h_chengzi)
    response = send(client, token, homepage="http://spam.example")
    assert response.status_code == 200
    assert count(SelfReport) == 0


def test_oversized_upload_is_refused_clearly_and_nothing_stored(world, client, app):
    app.config["SELFREPORT_MAX_PHOTO_BYTES"] = 100 * 1024
    token = issue(world.h_chengzi)
    response = send(client, token, photo=b"\xff\xd8" + b"0" * (150 * 1024))
    assert response.status_code == 413
    assert "照片太大" in response.get_data(as_text=True)
    huge = send(client, token, photo=b"\xff\xd8" + b"0" * (1024 * 1024))  # past the body limit
    assert huge.status_code == 413
    assert "照片太大" in huge.get_data(as_text=True)
    assert count(SelfReport) == count(Photo) == 0
    assert stored_photo_files(app) == []


def test_non_image_and_pixel_bomb_are_refused_and_nothing_stored(world, client, app):
    token = issue(world.h_chengzi)
    response = send(client, token, photo=b"%PDF-1.4 not a photo at all")
    assert response.status_code == 422
    assert "不是能识别的照片" in response.get_data(as_text=True)
    bomb = io.BytesIO()
    Image.new("1", (10000, 10000)).save(bomb, "PNG")  # 100 megapixels, a few KB
    response = send(client, token, photo=bomb.getvalue())
    assert response.status_code == 413
    assert count(SelfReport) == count(Photo) == 0
    assert stored_photo_files(app) == []


def test_too_many_reports_answer_429_with_a_plain_page(world, client, app):
    app.config["SELFREPORT_REPORTS_PER_HOUR"] = 2
    token = issue(world.h_chengzi)
    for _ in range(2):
        sent_reference(send(client, token))
    response = send(client, token)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "太频繁" in html and "<form" not in html
    assert int(response.headers["Retry-After"]) > 0
    assert count(SelfReport) == 2


def test_one_address_is_limited_whatever_the_token(world, client, app):
    app.config["SELFREPORT_PAGE_LIMIT_PER_ADDRESS"] = [3, 600]
    token = issue(world.h_chengzi)
    statuses = [client.get(f"/r/{t}").status_code for t in (token, "B" * 32, token, token)]
    assert statuses == [200, 404, 200, 429]
    other_address = client.get(f"/r/{token}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 200


# --- reports as tasks ---------------------------------------------------------------------


def make_report(household, category, urgent, minutes_ago=0) -> SelfReport:
    report = SelfReport(
        reference=f"{household.id:04d}-{category[:2]}{minutes_ago:02d}"[:9],
        household_id=household.id,
        form_nonce=new_uuid().replace("-", ""),
        category=category,
        description="测试",
        urgent=urgent,
        priority=selfreport.reports.report_priority(category, urgent),
        received_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    db.session.add(report)
    db.session.flush()
    tasks.report_received(report)  # what the public page's reports.create calls
    db.session.commit()
    return report


def test_urgent_illness_disaster_and_need_help_come_first(world, login):
    h = world.h_chengzi
    make_report(h, "harvest", False, minutes_ago=90)
    make_report(h, "housing", True, minutes_ago=80)
    make_report(h, "need_help", True, minutes_ago=10)
    make_report(h, "illness", False, minutes_ago=70)
    make_report(h, "disaster", True, minutes_ago=30)
    items = login("chengzi_cadre").get("/api/reports").get_json()
    assert [(i["category"], i["priority"]) for i in items] == [
        ("disaster", 0),
        ("need_help", 0),
        ("housing", 1),
        ("harvest", 2),
        ("illness", 2),
    ]
    summary = reports.summary(db.session.get(User, world.users["town_supervisor"].id))
    assert summary["open"] == 5 and summary["open_urgent"] == 2


def test_handled_needs_a_note(world, login):
    report = make_report(world.h_chengzi, "work", False)
    cadre = login("chengzi_cadre")
    assert cadre.post(f"/api/reports/{report.id}/handled", json={"note": "  "}).status_code == 422
    done = cadre.post(f"/api/reports/{report.id}/handled", json={"note": "已电话联系，介绍公益岗"})
    assert done.status_code == 200 and done.get_json()["status"] == "handled"
    assert done.get_json()["handled_note"] == "已电话联系，介绍公益岗"


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("chengzi_cadre", True),
        ("shamao_cadre", False),
        ("other_cadre", False),
        ("chengzi_supervisor", True),
        ("other_supervisor", False),
        ("admin", True),
    ],
)
def test_reports_stay_in_scope(world, login, username, visible):
    report = make_report(world.h_chengzi, "illness", True)
    client = login(username)
    listed = [i["id"] for i in client.get("/api/reports?status=all").get_json()]
    assert listed == ([report.id] if visible else [])
    expected = 200 if visible else 404
    assert client.get(f"/api/reports/{report.id}").status_code == expected
    assert client.post(f"/api/reports/{report.id}/seen").status_code == expected
    missing = client.post("/api/reports/999999/seen")
    if not visible:
        assert missing.get_json() == client.post(f"/api/reports/{report.id}/seen").get_json()


def test_seams_for_pull_and_needs_action_are_scoped(world):
    mine = make_report(world.h_chengzi, "illness", True)
    make_report(world.h_shamao, "other", False)
    cadre = db.session.get(User, world.users["chengzi_cadre"].id)
    pulled = selfreport.open_reports_for_households(
        cadre, [world.h_chengzi.id, world.h_shamao.id, world.h_other_town.id]
    )
    assert [p["id"] for p in pulled] == [mine.id]
    assert set(pulled[0]) >= {"reference", "household", "priority", "status", "received_at"}
    supervisor = db.session.get(User, world.users["chengzi_supervisor"].id)
    assert [r.id for r in selfreport.needs_action_reports(supervisor)] == [mine.id]
    town = db.session.get(User, world.users["town_supervisor"].id)
    assert len(selfreport.needs_action_reports(town)) == 2


def test_a_visit_links_only_to_a_report_of_its_household_in_scope(world):
    report = make_report(world.h_chengzi, "illness", True)
    cadre = db.session.get(User, world.users["shamao_cadre"].id)
    visit = Visit(
        uuid=new_uuid(), household_id=world.h_shamao.id, cadre_id=cadre.id, visited_at=utcnow()
    )
    db.session.add(visit)
    with pytest.raises(ApiError) as refused:
        selfreport.link_visit_to_report(visit, report.id, cadre)
    assert refused.value.status == 422 and "report_ids" in refused.value.fields


def test_response_times_are_shown_to_supervisors(world, login):
    report = make_report(world.h_chengzi, "illness", True, minutes_ago=125)
    report.seen_at = report.responded_at = report.received_at + timedelta(minutes=65)
    make_report(world.h_chengzi, "housing", False, minutes_ago=30)
    db.session.commit()
    supervisor = db.session.get(User, world.users["town_supervisor"].id)
    summary = reports.summary(supervisor)
    assert summary["median_response_seconds"] == 65 * 60
    assert summary["unanswered"] == 1
    html = page_client(login, "town_supervisor").get("/office/reports").get_data(as_text=True)
    assert "1小时5分钟" in html


# --- supervisor pages and door cards ------------------------------------------------------


def page_client(login, username):
    """Signed in through the sign-in form, as a person would."""
    api = login(username)
    return api.client


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_sign_in_page_and_roles(world, app):
    client = app.test_client()
    assert client.get("/office/reports").status_code == 302
    html = client.get("/login").get_data(as_text=True)
    bad = client.post(
        "/login",
        data={"username": "town_supervisor", "password": "nope", "csrf_token": form_token(html)},
    )
    assert bad.status_code == 401
    ok = client.post(
        "/login",
        data={
            "username": "town_supervisor",
            "password": PASSWORD,
            "csrf_token": form_token(html),
            "next": "/office/cards",
        },
    )
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/office/cards")
    assert client.get("/office/cards").status_code == 200
    cadre = app.test_client()
    html = cadre.get("/login").get_data(as_text=True)
    cadre.post(
        "/login",
        data={"username": "chengzi_cadre", "password": PASSWORD, "csrf_token": form_token(html)},
    )
    assert cadre.get("/office/reports").status_code == 403
    no_token = app.test_client().post("/login", data={"username": "x", "password": "y"})
    assert no_token.status_code == 400


def test_village_card_sheet_issues_printable_cards(world, login, monkeypatch):
    issued = []
    real_issue = tokens.issue
    monkeypatch.setattr(
        tokens, "issue", lambda *a, **k: issued.append(real_issue(*a, **k)) or issued[-1]
    )
    client = page_client(login, "town_supervisor")
    page = client.get(f"/office/villages/{world.chengzi.id}/cards").get_data(as_text=True)
    sheet = client.post(
        f"/office/villages/{world.chengzi.id}/cards",
        data={"csrf_token": form_token(page), "mode": "missing"},
    )
    html = sheet.get_data(as_text=True)
    assert sheet.status_code == 200 and sheet.headers["Cache-Control"] == "no-store"
    assert html.count('class="card"') == 1 and "<svg" in html
    assert "户*1" in html and "13900000000" in html and "0533-5000000" in html
    assert "帮扶联系卡" in html and "微信" in html
    assert len(issued) == 1
    assert client.get(f"/r/{issued[0]}").status_code == 200
    again = client.post(
        f"/office/villages/{world.chengzi.id}/cards",
        data={"csrf_token": form_token(page), "mode": "missing"},
    )
    assert again.get_data(as_text=True).count('class="card"') == 0  # nothing left to print
    refused = client.post(
        f"/office/villages/{world.chengzi.id}/cards",
        data={"csrf_token": form_token(page), "mode": "all"},
    )
    assert refused.status_code == 302 and len(issued) == 1  # needs the confirmation box


def test_supervisors_of_other_villages_get_404(world, login):
    report = make_report(world.h_shamao, "illness", True)
    client = page_client(login, "chengzi_supervisor")
    html = client.get("/office/reports").get_data(as_text=True)
    assert report.reference not in html
    for url in (
        f"/office/reports/{report.id}",
        f"/office/households/{world.h_shamao.id}/card",
        f"/office/villages/{world.shamao.id}/cards",
    ):
        assert client.get(url).status_code == 404
    other = page_client(login, "other_supervisor")
    assert other.get(f"/office/reports/{report.id}").status_code == 404
    assert (
        page_client(login, "town_supervisor").get(f"/office/reports/{report.id}").status_code == 200
    )


def test_household_card_reissue_needs_confirmation_then_invalidates(world, login):
    old = issue(world.h_chengzi)
    client = page_client(login, "chengzi_supervisor")
    url = f"/office/households/{world.h_chengzi.id}/card"
    page = client.get(url).get_data(as_text=True)
    assert "失效" in page  # the warning that the card on the door stops working
    assert client.post(url, data={"csrf_token": form_token(page)}).status_code == 302
    assert client.get(f"/r/{old}").status_code == 200
    sheet = client.post(url, data={"csrf_token": form_token(page), "confirm": "yes"})
    assert sheet.status_code == 200 and sheet.get_data(as_text=True).count('class="card"') == 1
    assert client.get(f"/r/{old}").status_code == 404
    revoke = client.post(url + "/revoke", data={"csrf_token": form_token(page)})
    assert revoke.status_code == 302 and tokens.live_link(world.h_chengzi) is None


def test_cli_issues_a_village_sheet(world, app, tmp_path):
    out = tmp_path / "cards.html"
    result = app.test_cli_runner().invoke(
        args=[
            "tokens",
            "issue",
            "--village",
            "城子村",
            "--out",
            str(out),
            "--base-url",
            "https://zoufang.example.cn",
        ]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.count('class="card"') == 1 and "<svg" in html
    db.session.expire_all()
    assert not tokens.needs_card(tokens.live_link(world.h_chengzi))
    again = app.test_cli_runner().invoke(
        args=[
            "tokens",
            "issue",
            "--village",
            "城子村",
            "--out",
            str(out),
            "--base-url",
            "https://zoufang.example.cn",
        ]
    )
    assert "Issued 0 cards" in again.output


def test_report_routes_are_documented(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in (
        "/api/reports",
        "/api/reports/{report_id}/seen",
        "/api/reports/{report_id}/handled",
    ):
        assert path in paths
