"""The features meeting: a family's report reaches the cadre's phone through the pull, a
pushed visit answers it, and pushed visits feed the supervisors' coverage, flags and list."""

from sqlalchemy import select

from server.extensions import db
from server.models import NeedsAction, SelfReport, Visit, VisitFlag
from tests.conftest import PASSWORD
from tests.syncdata import results, visit
from tests.test_selfreport import make_report


def _pulled(client, household_id):
    body = client.get("/api/sync/pull").get_json()
    return next(h for h in body["households"] if h["id"] == household_id), body["cursor"]


def test_a_report_reaches_the_cadre_by_pull_and_a_visit_answers_it(world, login):
    cadre = login("chengzi_cadre")
    _, cursor = _pulled(cadre, world.h_chengzi.id)
    report = make_report(world.h_chengzi, "illness", True)
    changed = cadre.get(f"/api/sync/pull?cursor={cursor}").get_json()["households"]
    assert [h["id"] for h in changed] == [world.h_chengzi.id]
    assert [r["id"] for r in changed[0]["reports"]] == [report.id]

    answer = results(cadre, [visit(world.h_chengzi.id, report_id=report.id)])
    assert answer[0]["status"] == "created"
    db.session.rollback()
    stored = db.session.get(SelfReport, report.id)
    assert stored.visit_id == answer[0]["id"] and stored.handled_at is not None
    household, _ = _pulled(cadre, world.h_chengzi.id)
    assert household["reports"] == []


def test_a_visit_cannot_answer_another_households_report(world, login):
    report = make_report(world.h_shamao, "disaster", True)
    cadre = login("chengzi_cadre")
    answer = results(cadre, [visit(world.h_chengzi.id, report_id=report.id)])
    assert answer[0]["status"] == "rejected" and answer[0]["code"] == 422
    assert "report_ids" in answer[0]["fields"]
    db.session.rollback()
    assert db.session.scalar(select(Visit)) is None
    assert db.session.get(SelfReport, report.id).visit_id is None


def test_pushed_visits_feed_flags_needs_action_and_last_visit(world, login):
    cadre = login("chengzi_cadre")
    records = [
        visit(world.h_chengzi.id, location=None, sudden_event="illness"),
    ]
    answer = results(cadre, records)
    visit_id = answer[0]["id"]
    db.session.rollback()
    flags = db.session.scalars(select(VisitFlag.kind).where(VisitFlag.visit_id == visit_id))
    assert "no_location" in set(flags)
    items = db.session.scalars(select(NeedsAction).where(NeedsAction.source == "visit")).all()
    assert [(i.household_id, i.reason) for i in items] == [(world.h_chengzi.id, "illness")]
    assert db.session.get(type(world.h_chengzi), world.h_chengzi.id).last_visit_at is not None


def test_an_open_report_puts_the_household_on_the_needs_action_page(world, login, app):
    make_report(world.h_shamao, "need_help", True)
    client = app.test_client()
    client.post("/api/login", json={"username": "town_supervisor", "password": PASSWORD})
    page = client.get("/office/needs-action").get_data(as_text=True)
    assert world.h_shamao.head_name in page
    other = app.test_client()
    other.post("/api/login", json={"username": "chengzi_supervisor", "password": PASSWORD})
    assert world.h_shamao.head_name not in other.get("/office/needs-action").get_data(as_text=True)
