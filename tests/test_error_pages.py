"""A refusal met on a page reads as a page in the reader's language, never Werkzeug's English
stock text; the API keeps its JSON."""

from tests.test_coverage import _form_token


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_a_village_committee_opening_accounts_reads_a_chinese_refusal(world, login):
    committee = login("chengzi_supervisor")
    page = committee.get("/office/accounts")
    assert page.status_code == 403
    assert page.mimetype == "text/html"
    assert "无权操作" in _text(page) and "您的账户无权打开此页面。" in _text(page)
    assert "Forbidden" not in _text(page)
    assert 'href="/office/"' in _text(page)  # a way back to the overview


def test_a_foreign_household_reads_as_not_found_in_chinese_and_in_english(world, login):
    committee = login("chengzi_supervisor")
    page = committee.get(f"/office/households/{world.h_shamao.id}")
    assert page.status_code == 404
    assert "未找到" in _text(page) and "Not Found" not in _text(page)
    committee.get("/lang/en")
    page = committee.get(f"/office/households/{world.h_shamao.id}")
    assert page.status_code == 404
    assert "outside what your account can see" in _text(page)


def test_a_cadre_on_the_office_site_is_sent_back_to_the_start(world, login):
    cadre = login("chengzi_cadre")
    page = cadre.get("/office/")
    assert page.status_code == 403
    assert 'href="/"' in _text(page) and "返回首页" in _text(page)


def test_a_views_own_sentence_is_shown_translated(world, login):
    supervisor = login("town_supervisor")
    page = supervisor.get("/office/?period=1999-13")
    assert page.status_code == 400
    assert "月份须为过去或本月" in _text(page)
    flags = supervisor.get("/office/flags?state=nonsense")
    assert flags.status_code == 400 and "未知的标记类型或状态。" in _text(flags)


def test_query_integer_and_unstorable_text_refusals_are_chinese_on_a_page(world, login):
    supervisor = login("town_supervisor")
    page = supervisor.get("/office/households?village=abc")
    assert page.status_code == 400
    assert "须为" in _text(page) and "must be a number" not in _text(page)
    nul = supervisor.get("/office/households?q=a%00b")
    assert nul.status_code == 400
    assert "“q”含有无法保存的字符。" in _text(nul)


def test_a_note_left_empty_is_refused_in_words_and_nothing_changes(world, login):
    supervisor = login("town_supervisor")
    page = supervisor.get("/office/needs-action")
    token = _form_token(_text(page))
    refused = supervisor.post(
        f"/office/needs-action/{world.h_chengzi.id}/handled", data={"csrf_token": token}
    )
    assert refused.status_code == 400
    assert "请填写说明（最多 500 字）。" in _text(refused)


def test_the_api_still_answers_json(world, login):
    committee = login("chengzi_supervisor")
    response = committee.get(f"/api/households/{world.h_shamao.id}")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_pages_name_the_apps_icon_so_browsers_ask_for_no_missing_favicon(world, login):
    page = login("town_supervisor").get("/office/").get_data(as_text=True)
    icon = page[page.index('<link rel="icon" href="') + 23 :].split('"')[0]
    assert icon.endswith(".png")
    assert login("town_supervisor").get(icon).status_code == 200
