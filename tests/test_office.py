"""The one office site: one navigation on every page, Chinese by default, the old
/coverage/ and /supervise/ addresses leading to the same pages under /office/."""

import pytest

from tests.test_coverage import _form_token

NAV_WORDS = ("概览", "帮扶责任人", "逾期", "待处理", "标记", "冲突", "自主申报", "联系卡")


@pytest.mark.parametrize(
    "old, new",
    [
        ("/coverage/", "/office/"),
        ("/coverage/?period=2025-03&village=7", "/office/?period=2025-03&village=7"),
        ("/coverage/overdue?klass=B", "/office/overdue?klass=B"),
        ("/coverage/households/12", "/office/households/12"),
        (
            "/coverage/export/overdue.csv?period=2025-03",
            "/office/export/overdue.csv?period=2025-03",
        ),
        ("/supervise/reports?status=all", "/office/reports?status=all"),
        ("/supervise/villages/3/cards", "/office/villages/3/cards"),
    ],
)
def test_old_page_addresses_move_permanently_with_their_query(client, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == new


def test_a_form_sent_to_an_old_address_is_passed_on_with_its_method(world, login):
    supervisor = login("chengzi_supervisor")
    moved = supervisor.post(f"/coverage/needs-action/{world.h_chengzi.id}/handled?x=1")
    assert moved.status_code == 308
    assert moved.headers["Location"] == f"/office/needs-action/{world.h_chengzi.id}/handled?x=1"
    card = supervisor.post(f"/supervise/households/{world.h_chengzi.id}/card")
    assert card.status_code == 308
    assert card.headers["Location"] == f"/office/households/{world.h_chengzi.id}/card"


def test_following_an_old_address_reaches_the_page_behind_the_same_check(world, login, client):
    page = login("town_supervisor").client.get("/supervise/reports", follow_redirects=True)
    assert page.status_code == 200 and page.request.path == "/office/reports"
    signed_out = client.get("/coverage/flags", follow_redirects=False)
    assert signed_out.headers["Location"] == "/office/flags"
    assert client.get("/office/flags").headers["Location"].startswith("/login?next=")
    assert login("chengzi_cadre").get("/supervise/cards", follow_redirects=True).status_code == 403


@pytest.mark.parametrize(
    "path",
    ["/office/", "/office/flags", "/office/conflicts", "/office/reports", "/office/cards"],
)
def test_every_office_page_has_the_one_navigation_in_chinese(world, login, path):
    page = login("town_supervisor").get(path).get_data(as_text=True)
    assert 'href="/static/css/office.css' in page or "css/office.css" in page
    nav = page[page.index("<nav") : page.index("</nav>")]
    for word in NAV_WORDS:
        assert word in nav, word
    assert "coverage.css" not in page and "<style>" not in page


def test_signing_in_sends_office_users_to_the_office_site(world, client):
    token = _form_token(client.get("/login").get_data(as_text=True))
    signed = client.post(
        "/login",
        data={"username": "chengzi_supervisor", "password": "correct horse battery",
              "csrf_token": token},
    )  # fmt: skip
    assert signed.status_code == 302 and signed.headers["Location"] == "/office/"


def test_signing_in_sends_a_cadre_to_the_app_not_to_a_refused_office(world, client):
    token = _form_token(client.get("/login").get_data(as_text=True))
    signed = client.post(
        "/login",
        data={"username": "chengzi_cadre", "password": "correct horse battery",
              "csrf_token": token},
    )  # fmt: skip
    assert signed.status_code == 302 and signed.headers["Location"] == "/"


def test_a_village_committees_overview_does_not_call_its_sum_the_towns(world, login):
    committee = login("chengzi_supervisor").get("/office/").get_data(as_text=True)
    total_row = committee[committee.index('<tr class="total">') :]
    assert "全镇合计" not in committee and total_row.startswith('<tr class="total"><td>合计</td>')
    town = login("town_supervisor").get("/office/").get_data(as_text=True)
    assert '<tr class="total"><td>全镇合计</td>' in town
