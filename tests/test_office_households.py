"""户籍 in the browser: the household list, adding a household, and the household page's
forms (members, ID numbers, 帮扶责任人, class), each over the API's own rules and audit, each
refusing what does not fit with a sentence and no change, each closed to other villages."""

import re

import pytest
from sqlalchemy import func, select

from server import idcard
from server.extensions import db
from server.models import (
    AuditEvent,
    DataConflict,
    Household,
    KlassChange,
    Member,
    NeedsAction,
    SupportMeasure,
    Visit,
    VisitFlag,
    utcnow,
)
from tests.conftest import id_number
from tests.coverage_helpers import add_visit
from tests.test_coverage import _form_token


def _token(client, url="/office/households") -> str:
    return _form_token(client.get(url).get_data(as_text=True))


def _post(client, url, **form):
    return client.post(url, data={"csrf_token": _token(client)} | form)


def _fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def _new_household_form(world, **changes) -> dict:
    form = {
        "village_id": str(world.chengzi.id),
        "code": "H7001",
        "klass": "C",
        "phone": "13905331234",
        "name_0": "赵大山",
        "id_number_0": id_number(501),
        "relation_0": "户主",
        "health_0": "健康",
        "name_1": "钱秀英",
        "id_number_1": id_number(502, birth="19700101"),
        "relation_1": "配偶",
    }
    return form | changes


# --- the list ----------------------------------------------------------------------------


def test_the_list_searches_head_code_and_any_members_name(world, login):
    db.session.add(Member(household=world.h_chengzi, name="孙小梅", id_number=id_number(9),
                          relation="之女", sex="F", birth_year=2001))  # fmt: skip
    db.session.commit()
    office = login("town_supervisor")

    def found(query):
        page = office.get(f"/office/households?{query}").get_data(as_text=True)
        return {h.head_name for h in (world.h_chengzi, world.h_shamao) if h.head_name in page}

    assert found("") == {"户主1", "户主2"}
    assert found("q=户主2") == {"户主2"}
    assert found("q=H0001") == {"户主1"}
    assert found("q=0001") == set()  # a code matches by its start only
    assert found("q=小梅") == {"户主1"}  # a member's name finds the household
    assert found("q=%25") == set()  # a wildcard is a character, not a pattern
    assert found(f"village={world.shamao.id}") == {"户主2"}
    assert found(f"cadre={world.users['chengzi_cadre'].id}") == {"户主1"}
    assert found("klass=A") == set()
    assert "户主3" not in office.get("/office/households").get_data(as_text=True)  # other town


def test_the_overdue_filter_keeps_households_without_a_recent_visit(world, login):
    add_visit(world.h_shamao, world.users["shamao_cadre"], utcnow())
    page = login("town_supervisor").get("/office/households?overdue=1").get_data(as_text=True)
    assert "户主1" in page and "户主2" not in page


def test_the_list_pages_by_keyset_and_refuses_bad_filters(world, login):
    db.session.add_all(
        Household(code=f"P{n:04d}", village=world.chengzi, head_name=f"王{n}", klass="A")
        for n in range(60)
    )
    db.session.commit()
    office = login("chengzi_supervisor")
    first = office.get("/office/households").get_data(as_text=True)
    assert len(re.findall(r'href="/office/households/\d', first)) == 50
    cursor = first.split("after=")[1].split('"')[0]
    second = office.get(f"/office/households?after={cursor}").get_data(as_text=True)
    assert len(re.findall(r'href="/office/households/\d', second)) == 11  # 60 + 户主1
    assert office.get("/office/households?after=!!").status_code == 400
    assert office.get("/office/households?klass=E").status_code == 400
    assert office.get("/office/households?village=x").status_code == 400
    assert office.get("/office/households?cadre=" + "9" * 30).status_code == 400
    assert office.get(f"/office/households?village={world.shamao.id}").status_code == 404
    foreign_cadre = world.users["other_cadre"].id
    assert office.get(f"/office/households?cadre={foreign_cadre}").status_code == 404
    assert office.get("/office/households?q=" + "长" * 500).status_code == 200


# --- adding a household ------------------------------------------------------------------


def test_a_clerk_adds_a_household_with_two_members_through_the_apis_rules(world, login):
    office = login("town_supervisor")
    form = office.get("/office/households/new").get_data(as_text=True)
    assert "城子村" in form and "东村" not in form
    sent = office.post("/office/households", data={"csrf_token": _form_token(form)}
                       | _new_household_form(world))  # fmt: skip
    assert sent.status_code == 303
    household = db.session.scalar(select(Household).where(Household.code == "H7001"))
    assert sent.headers["Location"] == f"/office/households/{household.id}"
    assert household.head_name == "赵大山" and household.klass == "C"
    assert [(m.name, m.relation, m.sex) for m in household.members] == [
        ("赵大山", "户主", idcard.sex(id_number(501))),
        ("钱秀英", "配偶", idcard.sex(id_number(502, birth="19700101"))),
    ]
    assert household.members[1].birth_year == 1970  # read from the ID number
    created = db.session.scalar(
        select(AuditEvent).where(AuditEvent.entity == "household", AuditEvent.action == "create")
    )
    assert created.entity_id == household.id and created.after["members"] == 2
    page = office.get(sent.headers["Location"]).get_data(as_text=True)
    assert "钱秀英" in page and id_number(502) not in page  # masked on the page
    assert "农户 · " in page and " · 新建" in page  # the change history, as the log words it


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"id_number_1": "370302197001010000"}, "成员 2 身份证号"),
        ({"relation_0": "之子"}, "户主"),
        ({"code": "H0001"}, "户编号"),
        ({"code": "坏 code"}, "户编号"),
        ({"village_id": "999999"}, "村"),
        ({"village_id": "abc"}, "村"),
        ({"village_id": "9" * 30}, "村"),
        ({"klass": "E"}, "类别"),
        ({"phone": "call me"}, "电话"),
    ],
)
def test_a_bad_new_household_is_refused_with_a_sentence_and_nothing_written(
    world, login, changes, words
):
    office = login("town_supervisor")
    households = db.session.scalar(select(func.count()).select_from(Household))
    answer = _post(office, "/office/households", **_new_household_form(world, **changes))
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'role="alert"' in page and words in page
    assert "赵大山" in page  # what was typed comes back
    assert db.session.scalar(select(func.count()).select_from(Household)) == households


def test_a_village_committee_adds_only_in_its_village(world, login):
    office = login("chengzi_supervisor")
    foreign = _post(office, "/office/households",
                    **_new_household_form(world, village_id=str(world.shamao.id)))  # fmt: skip
    assert foreign.status_code == 422
    assert db.session.scalar(select(Household).where(Household.code == "H7001")) is None
    assert _post(office, "/office/households", **_new_household_form(world)).status_code == 303


def test_forms_need_their_token(world, login):
    office = login("town_supervisor")
    no_token = office.client.post("/office/households", data=_new_household_form(world))
    assert no_token.status_code == 400
    url = f"/office/households/{world.h_chengzi.id}/class"
    assert office.client.post(url, data={"klass": "D", "reason": "x"}).status_code == 400
    assert _fresh(Household, world.h_chengzi.id).klass == "B"


# --- the household page ------------------------------------------------------------------


def test_members_are_added_edited_and_removed_with_a_reason_in_the_history(world, login):
    office = login("town_supervisor")
    household = world.h_chengzi.id
    added = _post(office, f"/office/households/{household}/members", name="周小红",
                  id_number=id_number(77, birth="20100505"), relation="之女")  # fmt: skip
    assert added.status_code == 303
    member = db.session.scalar(select(Member).where(Member.name == "周小红"))
    assert member.birth_year == 2010 and member.sex == idcard.sex(member.id_number)
    edited = _post(office, f"/office/members/{member.id}/edit", name="周小红",
                   relation="之女", health="大病", reason="住院")  # fmt: skip
    assert edited.status_code == 303 and _fresh(Member, member.id).health == "大病"
    assert _fresh(Member, member.id).id_number == id_number(77, birth="20100505")  # kept
    refused = _post(office, f"/office/members/{member.id}/remove", reason="")
    assert refused.status_code == 422 and _fresh(Member, member.id) is not None
    removed = _post(office, f"/office/members/{member.id}/remove", reason="出嫁迁出")
    assert removed.status_code == 303 and _fresh(Member, member.id) is None
    page = office.get(f"/office/households/{household}").get_data(as_text=True)
    history = page[page.index("变更记录") if "变更记录" in page else page.index("Changes") :]
    assert "家庭成员 · " in history and " · 删除" in history and "<del>周小红</del>" in history
    assert "出嫁迁出" in history
    assert "健康：" in history and "<ins>大病</ins>" in history and "住院" in history
    assert "health" not in history and "klass" not in history


def test_a_bad_member_form_changes_nothing(world, login):
    office = login("town_supervisor")
    member = world.h_chengzi.members[0]
    before = (member.name, member.id_number)
    for form in (
        {"name": "", "relation": "户主"},
        {"name": "新名", "relation": "户主", "id_number": "12345"},
        {"name": "新名", "relation": "户主", "health": "很" * 40},
    ):
        answer = _post(office, f"/office/members/{member.id}/edit", **form)
        assert answer.status_code == 422 and 'role="alert"' in answer.get_data(as_text=True)
    fresh = _fresh(Member, member.id)
    assert (fresh.name, fresh.id_number) == before
    twice = _post(office, f"/office/households/{world.h_chengzi.id}/members",
                  name="重复", id_number=member.id_number, relation="之子")  # fmt: skip
    assert twice.status_code == 422 and "已" in twice.get_data(as_text=True)


def test_the_full_id_number_shows_once_with_a_reason_and_is_audited(world, login):
    office = login("chengzi_supervisor")
    member = world.h_chengzi.members[0]
    page = office.get(f"/office/households/{world.h_chengzi.id}").get_data(as_text=True)
    assert member.id_number not in page
    url = f"/office/members/{member.id}/id-number"
    short = _post(office, url, reason="看")
    assert short.status_code == 422 and member.id_number not in short.get_data(as_text=True)
    shown = _post(office, url, reason="办理医疗救助")
    assert shown.status_code == 200 and member.id_number in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unmask"))
    assert event.entity_id == member.id and event.reason == "办理医疗救助"
    again = office.get(f"/office/households/{world.h_chengzi.id}").get_data(as_text=True)
    assert member.id_number not in again and "查看完整身份证号" in again


def test_a_cadre_responsible_is_assigned_from_the_scope_and_the_history_shown(world, login):
    office = login("town_supervisor")
    household = world.h_chengzi.id
    page = office.get(f"/office/households/{household}").get_data(as_text=True)
    form = page[page.index('name="cadre_id"') :]
    form = form[: form.index("</select>")]
    assert "shamao_cadre" in form and "other_cadre" not in form  # another town's cadre
    foreign = _post(office, f"/office/households/{household}/cadres",
                    cadre_id=str(world.users["other_cadre"].id))  # fmt: skip
    assert foreign.status_code == 404
    for bad in ("x", "9" * 30, "-1"):
        answer = _post(office, f"/office/households/{household}/cadres", cadre_id=bad)
        assert answer.status_code == 422
    shamao_cadre = world.users["shamao_cadre"].id
    assigned = _post(office, f"/office/households/{household}/cadres", cadre_id=str(shamao_cadre))
    assert assigned.status_code == 303
    assert {c.username for c in _fresh(Household, household).cadres} == {
        "chengzi_cadre",
        "shamao_cadre",
    }
    chengzi_cadre = world.users["chengzi_cadre"].id
    end = f"/office/households/{household}/cadres/{chengzi_cadre}/end"
    assert _post(office, end, reason="").status_code == 422
    assert _post(office, end, reason="调岗").status_code == 303
    assert _post(office, end, reason="调岗").status_code == 404  # ended already
    household_now = _fresh(Household, household)
    assert [c.username for c in household_now.cadres] == ["shamao_cadre"]
    page = office.get(f"/office/households/{household}").get_data(as_text=True)
    cadres = page[page.index('id="cadres"') :]
    assert "chengzi_cadre" in cadres and "shamao_cadre" in cadres  # the ended one stays
    assert "结束帮扶责任人" in page or "调岗" in page


def test_a_class_change_needs_a_reason_and_enters_the_class_history(world, login):
    office = login("town_supervisor")
    url = f"/office/households/{world.h_chengzi.id}/class"
    assert _post(office, url, klass="C", reason="").status_code == 422
    assert _post(office, url, klass="Z", reason="x").status_code == 422
    assert _fresh(Household, world.h_chengzi.id).klass == "B"
    assert _post(office, url, klass="C", reason="因病返贫风险").status_code == 303
    assert _fresh(Household, world.h_chengzi.id).klass == "C"
    change = db.session.scalar(select(KlassChange))
    assert (change.klass_from, change.klass_to, change.reason) == ("B", "C", "因病返贫风险")
    page = office.get(f"/office/households/{world.h_chengzi.id}").get_data(as_text=True)
    assert "类别：<del>B 类</del> → <ins>C 类</ins>" in page


def test_head_phone_and_address_change_through_the_api_rules(world, login):
    office = login("town_supervisor")
    url = f"/office/households/{world.h_chengzi.id}/details"
    assert _post(office, url, head_name="", phone="").status_code == 422
    assert _post(office, url, head_name="户主1", phone="not a phone").status_code == 422
    ok = _post(office, url, head_name="户主一", phone="13905330009", address="城子村3号")
    assert ok.status_code == 303
    household = _fresh(Household, world.h_chengzi.id)
    assert (household.head_name, household.phone, household.address) == (
        "户主一",
        "13905330009",
        "城子村3号",
    )


# --- scope: a village committee of 城子村 and a 纱帽村 household -------------------------


def _shamao_things(world):
    """One of each thing a 纱帽村 household has, for the foreign-id checks."""
    household = world.h_shamao
    visit = Visit(uuid="00000000-0000-4000-8000-0000000000aa", household=household,
                  cadre=world.users["shamao_cadre"], visited_at=utcnow(),
                  received_at=utcnow(), situation={})  # fmt: skip
    db.session.add(visit)
    db.session.flush()
    flag = VisitFlag(visit_id=visit.id, kind="no_location", detail={})
    conflict = DataConflict(household=household, field="phone", server_value={"value": "1"},
                            record_uuid="00000000-0000-4000-8000-0000000000ab",
                            phone_value={"value": "2"}, submitted_by_id=visit.cadre_id)  # fmt: skip
    measure = SupportMeasure(household=household, kind="dibao", started_on=utcnow().date())
    db.session.add_all([flag, conflict, measure])
    db.session.flush()
    db.session.add(NeedsAction(household_id=household.id, source="conflict",
                               source_id=conflict.id, reason="conflict", detail={},
                               raised_at=utcnow()))  # fmt: skip
    db.session.commit()
    return household, household.members[0], flag, conflict, measure


def test_a_village_committee_cannot_open_or_change_another_villages_household(world, login):
    household, member, flag, conflict, measure = _shamao_things(world)
    office = login("chengzi_supervisor")
    for url in (
        f"/office/households/{household.id}",
        f"/office/households/{household.id}/card",
        f"/office/conflicts?household={household.id}&state=all",
    ):
        answer = office.get(url)
        assert answer.status_code == 404 or "户主2" not in answer.get_data(as_text=True), url
    for url, form in (
        (f"/office/households/{household.id}/details", {"head_name": "改"}),
        (f"/office/households/{household.id}/class", {"klass": "D", "reason": "x"}),
        (f"/office/households/{household.id}/members",
         {"name": "外", "id_number": id_number(80), "relation": "之子"}),
        (f"/office/members/{member.id}/edit", {"name": "外", "relation": "户主"}),
        (f"/office/members/{member.id}/remove", {"reason": "外"}),
        (f"/office/members/{member.id}/id-number", {"reason": "想看看看"}),
        (f"/office/households/{household.id}/cadres",
         {"cadre_id": str(world.users["chengzi_cadre"].id)}),
        (f"/office/households/{household.id}/cadres/{world.users['shamao_cadre'].id}/end",
         {"reason": "外"}),
        (f"/office/households/{household.id}/measures",
         {"kind": "dibao", "started_on": "2026-01-01"}),
        (f"/office/measures/{measure.id}/end", {"ended_on": "2026-12-01"}),
        (f"/office/flags/{flag.id}/check", {"comment": "外"}),
        (f"/office/conflicts/{conflict.id}/resolve", {"choice": "phone"}),
        (f"/office/needs-action/{household.id}/handled", {"note": "外"}),
        (f"/office/households/{household.id}/card", {}),
        (f"/office/households/{household.id}/card/revoke", {}),
    ):  # fmt: skip
        assert _post(office, url, **form).status_code == 404, url
    fresh = _fresh(Household, household.id)
    assert fresh.head_name == "户主2" and fresh.klass == "B" and len(fresh.members) == 1
    assert _fresh(VisitFlag, flag.id).checked_at is None
    assert _fresh(DataConflict, conflict.id).resolved_at is None
    assert _fresh(SupportMeasure, measure.id).ended_on is None
    assert not db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unmask"))
    listed = {
        path: office.get(path).get_data(as_text=True)
        for path in ("/office/households?q=户主", "/office/flags", "/office/conflicts",
                     "/office/needs-action", "/office/reports?status=all")
    }  # fmt: skip
    for path, page in listed.items():
        assert "户主2" not in page, path
    town = login("town_supervisor")
    assert town.get(f"/office/households/{household.id}").status_code == 200
    assert "户主2" in town.get("/office/flags").get_data(as_text=True)


def test_a_cadre_has_no_office_pages(world, login):
    cadre = login("chengzi_cadre")
    assert cadre.get("/office/households").status_code == 403
    assert cadre.get(f"/office/households/{world.h_chengzi.id}").status_code == 403
    url = f"/office/households/{world.h_chengzi.id}/class"
    assert cadre.post(url, data={"klass": "D", "reason": "x"}).status_code == 403


def test_every_household_form_says_what_it_did_on_the_page_it_returns_to(world, login):
    office = login("town_supervisor")
    household = world.h_chengzi.id
    shamao_cadre = str(world.users["shamao_cadre"].id)
    chengzi_cadre = world.users["chengzi_cadre"].id

    def said(url, **form) -> str:
        answer = _post(office, url, **form)
        assert answer.status_code in (302, 303), url
        page = office.get(answer.headers["Location"]).get_data(as_text=True)
        return re.search(r'<p class="flash" role="status">([^<]*)</p>', page).group(1)

    added = said("/office/households", **_new_household_form(world))
    assert added == "已添加这一户。"
    base = f"/office/households/{household}"
    assert said(f"{base}/details", head_name="户主1", phone="", address="一组") == "已保存。"
    assert said(f"{base}/class", klass="C", reason="因病") == "类别已调整，并记入类别变更记录。"
    new = said(f"{base}/members", name="周小红", id_number=id_number(78), relation="之女")
    assert new == "已添加成员。"
    member = db.session.scalar(select(Member).where(Member.name == "周小红"))
    edited = said(f"/office/members/{member.id}/edit", name="周小红", relation="之女")
    assert edited == "已保存成员信息。"
    assert said(f"/office/members/{member.id}/remove", reason="迁出") == "已移除成员。"
    assert said(f"{base}/cadres", cadre_id=shamao_cadre) == "已指定帮扶责任人。"
    ended = said(f"{base}/cadres/{chengzi_cadre}/end", reason="调岗")
    assert ended == "已结束该帮扶责任人的帮扶。"
    measure = said(f"{base}/measures", kind="skills_training", started_on="2026-01-05")
    assert measure == "已添加帮扶措施。"
    measure_id = db.session.scalar(select(SupportMeasure.id))
    stopped = said(f"/office/measures/{measure_id}/end", ended_on="2026-02-01")
    assert stopped == "已结束帮扶措施。"
