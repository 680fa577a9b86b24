"""Support measures: the office sets and ends them, phones pull them, visits confirm them."""

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent, SupportMeasure, Visit
from tests.syncdata import results, visit
from tests.test_coverage import _form_token
from tests.test_sync import pull_all


def add(client, household_id: int, **body):
    body = {"kind": "dividend", "started_on": "2026-03-01"} | body
    return client.post(f"/api/households/{household_id}/measures", json=body)


def test_the_office_sets_a_measure_and_the_cadres_phone_pulls_it(world, login):
    cadre = login("chengzi_cadre")
    _, _, cursor = pull_all(cadre)
    office = login("chengzi_supervisor")
    answer = add(office, world.h_chengzi.id, detail="光伏项目分红", amount_fen=150000)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["kind"] == "dividend"
    [pulled], _, _ = pull_all(cadre, cursor)
    assert [(m["kind"], m["detail"], m["amount_fen"]) for m in pulled["measures"]] == [
        ("dividend", "光伏项目分红", 150000)
    ]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "support_measure"))
    assert event.action == "create" and event.after["kind"] == "dividend"


def test_an_ended_measure_leaves_the_household_and_stays_in_history(world, login):
    office = login("town_supervisor")
    measure_id = add(office, world.h_chengzi.id, kind="dibao").get_json()["id"]
    ended = office.post(f"/api/measures/{measure_id}/end", json={"ended_on": "2026-10-31"})
    assert ended.status_code == 200 and ended.get_json()["ended_on"] == "2026-10-31"
    again = office.post(f"/api/measures/{measure_id}/end", json={"ended_on": "2026-11-01"})
    assert again.status_code == 409
    assert office.get(f"/api/households/{world.h_chengzi.id}").get_json()["measures"] == []
    assert db.session.scalar(select(func.count()).select_from(SupportMeasure)) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "charity"}, "kind"),
        ({"kind": "other"}, "detail"),
        ({"started_on": "2026-02-30"}, "started_on"),
        ({"amount_fen": -1}, "amount_fen"),
        ({"detail": "x" * 201}, "detail"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_stored(world, login, body, field):
    answer = add(login("town_supervisor"), world.h_chengzi.id, **body)
    assert answer.status_code == 422 and field in answer.get_json()["fields"]
    assert db.session.scalar(select(func.count()).select_from(SupportMeasure)) == 0


def test_ending_before_the_start_is_refused(world, login):
    office = login("town_supervisor")
    measure_id = add(office, world.h_chengzi.id).get_json()["id"]
    early = office.post(f"/api/measures/{measure_id}/end", json={"ended_on": "2026-01-01"})
    assert early.status_code == 422 and "ended_on" in early.get_json()["fields"]


def test_scope_cadres_and_foreign_supervisors_cannot_touch_measures(world, login):
    measure_id = add(login("town_supervisor"), world.h_shamao.id).get_json()["id"]
    assert add(login("chengzi_cadre"), world.h_chengzi.id).status_code == 403
    village = login("chengzi_supervisor")
    assert add(village, world.h_shamao.id).status_code == 404
    end = {"ended_on": "2026-10-31"}
    assert village.post(f"/api/measures/{measure_id}/end", json=end).status_code == 404
    assert (
        login("other_supervisor").post(f"/api/measures/{measure_id}/end", json=end).status_code
        == 404
    )
    assert (
        login("shamao_cadre").post(f"/api/measures/{measure_id}/end", json=end).status_code == 403
    )
    assert db.session.get(SupportMeasure, measure_id).ended_on is None


def test_a_visit_keeps_the_measures_seen_and_the_phone_pulls_them_back(world, login):
    cadre = login("chengzi_cadre")
    record = visit(world.h_chengzi.id, measures=["dividend", "medical_insurance"])
    assert results(cadre, [record])[0]["status"] == "created"
    db.session.rollback()
    stored = db.session.scalar(select(Visit))
    assert stored.measures == ["dividend", "medical_insurance"]
    [pulled], _, _ = pull_all(cadre)
    assert pulled["visits"][0]["measures"] == ["dividend", "medical_insurance"]


@pytest.mark.parametrize("measures", [["charity"], ["dibao", "dibao"], "dibao"])
def test_a_visit_with_unknown_or_repeated_measures_is_rejected_alone(world, login, measures):
    cadre = login("chengzi_cadre")
    good = visit(world.h_chengzi.id)
    bad = visit(world.h_chengzi.id, measures=measures)
    first, second = results(cadre, [good, bad])
    assert first["status"] == "created"
    assert second["status"] == "rejected" and "measures" in second["fields"]


def test_the_supervisors_household_page_shows_measures_and_what_visits_saw(world, login):
    office = login("chengzi_supervisor")
    add(office, world.h_chengzi.id, kind="dibao", amount_fen=360000)
    ended = add(office, world.h_chengzi.id, kind="temporary_relief").get_json()["id"]
    office.post(f"/api/measures/{ended}/end", json={"ended_on": "2026-04-30"})
    results(login("chengzi_cadre"), [visit(world.h_chengzi.id, measures=["dibao"])])
    page = office.get(f"/office/households/{world.h_chengzi.id}").get_data(as_text=True)
    assert "低保" in page and "3,600.00 元/年" in page and "至今" in page
    assert "临时救助" in page and "2026-04-30" in page
    assert "落实的帮扶措施" in page


def form_post(client, url: str, household_id: int, **form):
    page = client.get(f"/office/households/{household_id}").get_data(as_text=True)
    return client.post(url, data={"csrf_token": _form_token(page)} | form)


def test_the_office_adds_and_ends_a_measure_on_the_household_page(world, login):
    office = login("chengzi_supervisor")
    household = world.h_chengzi.id
    added = form_post(
        office,
        f"/office/households/{household}/measures",
        household,
        kind="public_welfare_post",
        detail="村保洁员",
        amount_yuan="6,000",
        started_on="2026-05-01",
    )
    assert added.status_code == 302 and added.headers["Location"].endswith("#measures")
    measure = db.session.scalar(select(SupportMeasure))
    assert (measure.kind, measure.detail, measure.amount_fen) == (
        "public_welfare_post",
        "村保洁员",
        600000,
    )
    page = office.get(f"/office/households/{household}").get_data(as_text=True)
    assert "公益岗位" in page and "6,000.00 元/年" in page
    ended = form_post(
        office, f"/office/measures/{measure.id}/end", household, ended_on="2026-10-31"
    )
    assert ended.status_code == 302
    db.session.rollback()
    assert db.session.get(SupportMeasure, measure.id).ended_on.isoformat() == "2026-10-31"
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity == "support_measure")
    ).all()
    assert sorted(actions) == ["create", "update"]


@pytest.mark.parametrize(
    "form, words",
    [
        ({"kind": "charity", "started_on": "2026-05-01"}, "措施"),
        ({"kind": "dibao", "started_on": "tomorrow"}, "开始日期"),
        ({"kind": "dibao", "started_on": "2026-05-01", "amount_yuan": "lots"}, "每年金额"),
        ({"kind": "other", "started_on": "2026-05-01"}, "说明"),
    ],
)
def test_a_bad_form_gets_a_plain_sentence_and_changes_nothing(world, login, form, words):
    office = login("chengzi_supervisor")
    household = world.h_chengzi.id
    answer = form_post(office, f"/office/households/{household}/measures", household, **form)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "请检查以下各项后重新提交" in text and words in text
    assert 'id="measures"' in text  # the household page again, its form at hand
    assert db.session.scalar(select(func.count()).select_from(SupportMeasure)) == 0


def test_ending_twice_or_too_early_or_out_of_scope_is_refused(world, login):
    office = login("town_supervisor")
    household = world.h_shamao.id
    measure_id = add(office, household, started_on="2026-05-01").get_json()["id"]
    url = f"/office/measures/{measure_id}/end"
    early = form_post(office, url, household, ended_on="2026-04-01")
    assert early.status_code == 422 and "不能早于" in early.get_data(as_text=True)
    assert form_post(office, url, household, ended_on="2026-06-01").status_code == 302
    assert form_post(office, url, household, ended_on="2026-07-01").status_code == 409
    village = login("chengzi_supervisor")
    chengzi = world.h_chengzi.id
    assert form_post(village, url, chengzi, ended_on="2026-07-01").status_code == 404
    foreign = f"/office/households/{household}/measures"
    refused = form_post(village, foreign, chengzi, kind="dibao", started_on="2026-05-01")
    assert refused.status_code == 404
    no_token = village.post(
        f"/office/households/{chengzi}/measures",
        data={"kind": "dibao", "started_on": "2026-05-01"},
    )
    assert no_token.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(SupportMeasure)) == 1
