"""The accounts pages and a cadre's page: who may manage which account, the one-time
password from creation to the cadre's first sign-in, list filters and paging, and the
cadre's households, phone and tasks."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent, DeviceStatus, NeedsAction, User, utcnow
from server.office import accounts as account_pages
from tests.conftest import PASSWORD


def _form(signed_in, url, **fields):
    return signed_in.client.post(url, data={"csrf_token": signed_in.csrf, **fields})


def _one_time(page) -> str:
    found = re.search(r'data-testid="one-time-password">([a-z0-9-]+)<', page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    return found[1]


def _count(username: str) -> int:
    return db.session.scalar(select(func.count()).where(User.username == username))


def test_town_supervisor_creates_a_cadre_who_must_change_the_password(world, app, login):
    office = login("town_supervisor")
    form = office.get("/office/accounts/new").get_data(as_text=True)
    assert "帮扶责任人" in form and "村两委" in form and "镇扶贫办" not in form
    created = _form(
        office,
        "/office/accounts/new",
        kind="cadre",
        username="zhangwei",
        display_name="张伟",
        phone="13800001111",
    )
    assert created.status_code == 200
    one_time = _one_time(created)
    user = db.session.scalar(select(User).where(User.username == "zhangwei"))
    assert (user.role, user.town_id, user.must_change_password) == ("cadre", world.town.id, True)
    listed = office.get("/office/accounts?q=张").get_data(as_text=True)
    assert 'data-account="zhangwei"' in listed and "等待首次登录" in listed

    phone = app.test_client()
    answer = phone.post("/api/login", json={"username": "zhangwei", "password": one_time})
    assert answer.get_json()["user"]["must_change_password"] is True
    assert phone.get("/api/households").status_code == 403
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_id == user.id))
    assert (event.action, event.actor_id) == ("create", world.users["town_supervisor"].id)
    assert event.after["kind"] == "cadre" and "password" not in str(event.after)


def test_village_committee_account_limited_to_villages_of_the_town(world, login):
    office = login("town_supervisor")
    foreign = _form(
        office,
        "/office/accounts/new",
        kind="village",
        username="dongcun_committee",
        villages=str(world.dongcun.id),
    )
    assert foreign.status_code == 422 and "未知的村" in foreign.get_data(as_text=True)
    none = _form(office, "/office/accounts/new", kind="village", username="no_village")
    assert none.status_code == 422 and "至少要选一个村" in none.get_data(as_text=True)
    peer = _form(office, "/office/accounts/new", kind="town", username="peer")
    assert peer.status_code == 422 and "不能创建这类账户" in peer.get_data(as_text=True)
    taken = _form(office, "/office/accounts/new", kind="cadre", username="Other_Cadre")
    assert taken.status_code == 422 and "已被使用" in taken.get_data(as_text=True)
    strange = _form(office, "/office/accounts/new", kind="cadre", username="a b", villages="x")
    assert strange.status_code == 422
    made = _form(
        office,
        "/office/accounts/new",
        kind="village",
        username="shamao_committee",
        villages=str(world.shamao.id),
    )
    assert made.status_code == 200
    user = db.session.scalar(select(User).where(User.username == "shamao_committee"))
    assert [v.name for v in user.villages] == ["纱帽村"] and user.town_id == world.town.id
    for username in ("dongcun_committee", "no_village", "peer", "a b"):
        assert _count(username) == 0
    assert office.client.post("/office/accounts/new", data={"kind": "cadre"}).status_code == 400


def test_town_supervisor_cannot_touch_accounts_of_another_town(world, login):
    office = login("town_supervisor")
    other_cadre, peer = world.users["other_cadre"], world.users["other_supervisor"]
    for target in (other_cadre, peer, world.users["admin"]):
        assert office.get(f"/office/accounts/{target.id}").status_code == 404
        reset = _form(office, f"/office/accounts/{target.id}/password")
        assert reset.status_code == 404
        assert (
            _form(office, f"/office/accounts/{target.id}/enabled", enabled="0").status_code == 404
        )
    assert office.get("/office/accounts/999999").status_code == 404
    listed = office.get("/office/accounts").get_data(as_text=True)
    assert (
        'data-account="chengzi_cadre"' in listed and 'data-account="chengzi_supervisor"' in listed
    )
    for hidden in ("other_cadre", "other_supervisor", "town_supervisor", "admin"):
        assert f'data-account="{hidden}"' not in listed
    db.session.refresh(other_cadre)
    assert other_cadre.enabled and not other_cadre.must_change_password


def test_village_committee_and_cadre_cannot_open_accounts_pages(world, login):
    committee = login("chengzi_supervisor")
    cadre_id = world.users["chengzi_cadre"].id
    for url in ("/office/accounts", "/office/accounts/new", f"/office/accounts/{cadre_id}"):
        assert committee.get(url).status_code == 403
    assert _form(committee, f"/office/accounts/{cadre_id}/password").status_code == 403
    created = _form(committee, "/office/accounts/new", kind="cadre", username="sneaky")
    assert created.status_code == 403 and _count("sneaky") == 0
    page = committee.get("/office/audit").get_data(as_text=True)
    assert "/office/accounts" not in page and "/office/audit" in page  # not in its navigation
    assert login("chengzi_cadre").get("/office/accounts").status_code == 403
    admin_page = login("admin").get("/office/audit").get_data(as_text=True)
    assert "/office/accounts" in admin_page


def test_disable_from_the_page_ends_the_phone_session_and_reset_gives_a_new_password(
    world, app, login
):
    phone = login("chengzi_cadre")
    office = login("town_supervisor")
    cadre_id = world.users["chengzi_cadre"].id
    disabled = _form(office, f"/office/accounts/{cadre_id}/enabled", enabled="0")
    assert disabled.status_code == 302
    assert phone.get("/api/sync/pull").status_code == 401
    assert "已停用" in office.get(f"/office/accounts/{cadre_id}").get_data(as_text=True)
    assert _form(office, f"/office/accounts/{cadre_id}/enabled", enabled="1").status_code == 302
    history = office.get(f"/office/accounts/{cadre_id}").get_data(as_text=True)
    assert history.count('data-event="') == 2
    assert "可以登录：<del>否</del> → <ins>是</ins>" in history
    one_time = _one_time(_form(office, f"/office/accounts/{cadre_id}/password"))
    client = app.test_client()
    old = client.post("/api/login", json={"username": "chengzi_cadre", "password": PASSWORD})
    assert old.status_code == 401
    new = client.post("/api/login", json={"username": "chengzi_cadre", "password": one_time})
    assert new.get_json()["user"]["must_change_password"] is True
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_id == cadre_id).order_by(AuditEvent.id)
    ).all()
    assert actions == ["update", "update", "reset_password"]


def test_list_filters_and_paging(world, login, password_hash, monkeypatch):
    monkeypatch.setattr(account_pages, "PAGE_SIZE", 3)
    db.session.add_all(
        User(username=f"cadre{n}", display_name=f"干部{n}", role="cadre", town=world.town)
        for n in range(5)
    )
    db.session.commit()
    office = login("town_supervisor")
    seen, url = [], "/office/accounts?kind=cadre"
    while url:
        page = office.get(url).get_data(as_text=True)
        seen += re.findall(r'data-account="([^"]+)"', page)
        found = re.search(r'class="pager"><a href="([^"]+)"', page)
        url = found[1].replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(
        ["chengzi_cadre", "shamao_cadre"] + [f"cadre{n}" for n in range(5)]
    )
    committees = office.get("/office/accounts?kind=village").get_data(as_text=True)
    assert re.findall(r'data-account="([^"]+)"', committees) == ["chengzi_supervisor"]
    village = office.get(f"/office/accounts?village={world.shamao.id}").get_data(as_text=True)
    assert re.findall(r'data-account="([^"]+)"', village) == ["shamao_cadre"]
    assert office.get(f"/office/accounts?village={world.dongcun.id}").status_code == 404
    for odd in ("?after=%%%", "?kind=boss", "?village=abc", "?q=" + "x" * 500):
        assert office.get("/office/accounts" + odd).status_code in (200, 400, 404)


def test_cadre_page_households_phone_and_tasks(world, login):
    cadre = world.users["chengzi_cadre"]
    world.h_chengzi.last_visit_at = utcnow() - timedelta(days=200)
    db.session.add(
        DeviceStatus(user_id=cadre.id, device_id="phone-1", pending_records=2, pending_photos=3)
    )
    db.session.add(
        NeedsAction(
            household_id=world.h_chengzi.id,
            source="visit",
            source_id=1,
            reason="illness",
            raised_at=utcnow(),
        )
    )
    db.session.commit()
    page = login("town_supervisor").get(f"/office/cadres/{cadre.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-household="H0001"' in text and "户主1" in text
    assert "2 条记录" in text and "3 张照片" in text
    assert '<span class="late">逾期</span>' in text and "户主1 · 疾病" in text

    committee = login("chengzi_supervisor")
    assert committee.get(f"/office/cadres/{cadre.id}").status_code == 200
    assert committee.get(f"/office/cadres/{world.users['shamao_cadre'].id}").status_code == 404
    town = login("town_supervisor")
    assert town.get(f"/office/cadres/{world.users['other_cadre'].id}").status_code == 404
    assert town.get(f"/office/cadres/{world.users['chengzi_supervisor'].id}").status_code == 404


def test_strange_input_is_a_clear_answer_never_a_500(world, login):
    office = login("town_supervisor")
    huge = "9" * 25
    cursor = "aWQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"  # "id:" and 24 nines
    for url in (
        f"/office/accounts/{huge}",
        f"/office/cadres/{huge}",
        f"/office/accounts?village={huge}",
        f"/office/accounts?after={cursor}",
        f"/office/audit?before={cursor}",
        "/office/audit?household=%00",
        "/office/audit?from=99999-01-01",
    ):
        answer = office.get(url)
        assert answer.status_code in (400, 404), url
    assert (
        office.get(f"/office/accounts/{huge}").status_code == 404
    )  # no such path: the id converter
    for url in ("/office/audit?person=%00", "/office/accounts?q=%00%25_"):
        assert office.get(url).status_code in (200, 400), url
    odd = _form(office, "/office/accounts/new", kind="cadre", username="zero\x00byte")
    assert odd.status_code == 400  # no form may carry a NUL: refused whole
    assert db.session.scalar(select(User).where(User.username.like("zero%"))) is None


def test_admin_creates_a_town_supervisor_of_any_town(world, login):
    admin = login("admin")
    page = admin.get("/office/accounts/new").get_data(as_text=True)
    assert "镇扶贫办" in page and "寨里镇" in page
    no_town = _form(admin, "/office/accounts/new", kind="town", username="zhaili_office")
    assert no_town.status_code == 422 and "请选择乡镇" in no_town.get_data(as_text=True)
    made = _form(
        admin,
        "/office/accounts/new",
        kind="town",
        username="zhaili_office",
        town=str(world.other_town.id),
    )
    assert made.status_code == 200 and _one_time(made)
    user = db.session.scalar(select(User).where(User.username == "zhaili_office"))
    assert (user.role, user.town_id, user.villages) == ("supervisor", world.other_town.id, [])
    listed = admin.get("/office/accounts?kind=town").get_data(as_text=True)
    assert sorted(re.findall(r'data-account="([^"]+)"', listed)) == [
        "other_supervisor",
        "town_supervisor",
        "zhaili_office",
    ]
