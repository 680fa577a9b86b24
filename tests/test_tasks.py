"""Every task has one lifecycle: a family's self-report (自主申报) raises its needs-action item
when the public page stores it, and it closes everywhere (the family's page, the office list,
needs action, the cadre's phone) whichever way it is handled: answered by a pushed visit, on
the reports API, or by marking the household handled. No page view writes."""

import importlib
from datetime import timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.models import DataConflict, NeedsAction, SelfReport, utcnow
from tests.conftest import PASSWORD
from tests.syncdata import results, visit
from tests.test_coverage import _form_token
from tests.test_selfreport import issue, make_report, send, sent_reference


def _items(source: str, open_only=True) -> list[NeedsAction]:
    query = select(NeedsAction).where(NeedsAction.source == source)
    if open_only:
        query = query.where(NeedsAction.handled_at.is_(None))
    return db.session.scalars(query.order_by(NeedsAction.source_id)).all()


def _family_status(client, token: str, reference: str) -> str:
    page = client.get(f"/r/{token}").get_data(as_text=True)
    row = page[page.index(f"<td>{reference}</td>") :]
    return row[
        row.index('<td class="status">') + len('<td class="status">') : row.index("</td></tr>")
    ]


def _office(app, username="town_supervisor"):
    client = app.test_client()
    client.post("/api/login", json={"username": username, "password": PASSWORD})
    return client


def _pulled_reports(cadre, household_id) -> list[int]:
    body = cadre.get("/api/sync/pull").get_json()
    household = next(h for h in body["households"] if h["id"] == household_id)
    return [r["id"] for r in household["reports"]]


def _report_sent_by_the_family(world, client) -> tuple[str, str, SelfReport]:
    token = issue(world.h_chengzi)
    reference = sent_reference(send(client, token))
    db.session.expire_all()
    report = db.session.scalar(select(SelfReport).where(SelfReport.reference == reference))
    return token, reference, report


def test_a_report_raises_its_item_when_sent_with_a_deadline(world, client):
    _, _, report = _report_sent_by_the_family(world, client)
    [item] = _items("report")  # no page was opened
    assert (item.household_id, item.source_id) == (world.h_chengzi.id, report.id)
    assert report.due_at is not None and report.received_at < report.due_at
    assert report.due_at - report.received_at <= timedelta(days=5)  # urgent: one working day


def test_a_visit_answering_two_reports_closes_them_everywhere(world, client, login, app):
    token, reference, first = _report_sent_by_the_family(world, client)
    second = make_report(world.h_chengzi, "housing", False)
    cadre = login("chengzi_cadre")
    assert sorted(_pulled_reports(cadre, world.h_chengzi.id)) == sorted([first.id, second.id])
    office = _office(app)
    assert reference in office.get("/office/reports").get_data(as_text=True)

    pushed = visit(world.h_chengzi.id, report_ids=[first.id, second.id])
    [answer] = results(cadre, [pushed])
    assert answer["status"] == "created"
    [again] = results(cadre, [pushed])  # the same visit again: nothing closes twice
    assert again["status"] == "duplicate"
    db.session.expire_all()
    for report in (db.session.get(SelfReport, first.id), db.session.get(SelfReport, second.id)):
        assert report.visit_id == answer["id"] and report.status == "handled"
    assert _items("report") == []
    assert _family_status(client, token, reference) == "已处理"
    assert reference not in office.get("/office/reports").get_data(as_text=True)
    needs = office.get("/office/needs-action").get_data(as_text=True)
    assert world.h_chengzi.head_name not in needs
    assert _pulled_reports(cadre, world.h_chengzi.id) == []


def test_a_visit_naming_another_households_report_closes_nothing(world, login):
    mine = make_report(world.h_chengzi, "illness", True)
    foreign = make_report(world.h_shamao, "disaster", True)
    cadre = login("chengzi_cadre")
    for ids in ([foreign.id], [mine.id, foreign.id], [mine.id, 2**40]):
        [answer] = results(cadre, [visit(world.h_chengzi.id, report_ids=ids)])
        assert answer["status"] == "rejected" and "report_ids" in answer["fields"]
    [twice] = results(cadre, [visit(world.h_chengzi.id, report_ids=[mine.id, mine.id])])
    assert twice["status"] == "rejected"
    db.session.expire_all()
    assert db.session.get(SelfReport, mine.id).handled_at is None
    assert len(_items("report")) == 2


def test_handled_on_the_api_closes_the_item_and_the_familys_page(world, client, login, app):
    token, reference, report = _report_sent_by_the_family(world, client)
    cadre = login("chengzi_cadre")
    done = cadre.post(f"/api/reports/{report.id}/handled", json={"note": "电话联系过"})
    assert done.status_code == 200
    db.session.expire_all()
    assert _items("report") == []
    assert _items("report", open_only=False)[0].note == "电话联系过"
    assert _family_status(client, token, reference) == "已处理"
    assert reference not in _office(app).get("/office/reports").get_data(as_text=True)


def test_marking_the_household_handled_closes_its_reports(world, client, app):
    token, reference, report = _report_sent_by_the_family(world, client)
    office = _office(app, "chengzi_supervisor")
    page = office.get("/office/needs-action").get_data(as_text=True)
    assert world.h_chengzi.head_name in page
    answer = office.post(
        f"/office/needs-action/{world.h_chengzi.id}/handled",
        data={"csrf_token": _form_token(page), "note": "已上门核实"},
    )
    assert answer.status_code == 302
    db.session.expire_all()
    closed = db.session.get(SelfReport, report.id)
    assert closed.handled_at is not None and closed.handled_note == "已上门核实"
    assert _family_status(client, token, reference) == "已处理"
    assert reference not in office.get("/office/reports").get_data(as_text=True)
    assert world.h_chengzi.head_name not in office.get("/office/needs-action").get_data(
        as_text=True
    )


def test_a_foreign_household_cannot_be_marked_handled(world, client, app):
    make_report(world.h_shamao, "illness", True)
    office = _office(app, "chengzi_supervisor")
    page = office.get("/office/needs-action").get_data(as_text=True)
    refused = office.post(
        f"/office/needs-action/{world.h_shamao.id}/handled",
        data={"csrf_token": _form_token(page), "note": "x"},
    )
    assert refused.status_code == 404
    db.session.expire_all()
    assert len(_items("report")) == 1


def _legacy_rows(world) -> tuple[DataConflict, SelfReport]:
    """A conflict and a report stored before items were raised with their sources."""
    conflict = DataConflict(
        household_id=world.h_chengzi.id,
        record_uuid="c0ffee00-0000-4000-8000-000000000000",
        field="phone",
        server_value={"value": "1"},
        phone_value={"value": "2"},
        submitted_by_id=world.users["chengzi_cadre"].id,
    )
    report = SelfReport(
        reference="0000-0001",
        household_id=world.h_shamao.id,
        form_nonce="legacy0000000000000000000000001",
        category="illness",
        description="旧的申报",
        urgent=False,
        priority=2,
        received_at=utcnow() - timedelta(days=30),
    )
    db.session.add_all([conflict, report])
    db.session.commit()
    return conflict, report


def test_opening_needs_action_writes_nothing(world, app):
    _legacy_rows(world)
    office = _office(app)
    assert office.get("/office/needs-action").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(NeedsAction)) == 0


def test_the_migration_raises_items_for_what_is_already_open(world):
    conflict, report = _legacy_rows(world)
    migration = importlib.import_module(
        "server.migrations.versions.0610_tasks_report_deadlines_needs_action_items"
    )
    connection = db.session.connection()
    migration._deadlines(connection)
    migration._raise_items(connection)
    migration._raise_items(connection)  # a second run adds nothing
    db.session.commit()
    db.session.expire_all()
    assert [(i.source_id, i.detail) for i in _items("conflict")] == [
        (conflict.id, {"field": "phone"})
    ]
    assert [(i.source_id, i.detail) for i in _items("report")] == [
        (report.id, {"field": "illness"})
    ]
    stored = db.session.get(SelfReport, report.id)
    assert stored.due_at is not None and stored.late(utcnow())


def test_late_reports_escalate_to_the_town_offices_list_first(world, app, login):
    fresh = make_report(world.h_chengzi, "illness", True)
    late = make_report(world.h_shamao, "housing", False, minutes_ago=60 * 24 * 12)
    town = _office(app)
    page = town.get("/office/reports?status=late").get_data(as_text=True)
    assert late.reference in page and fresh.reference not in page and "超期" in page
    listed = town.get("/office/reports").get_data(as_text=True)
    assert listed.index(late.reference) < listed.index(fresh.reference)  # though not urgent
    api = login("shamao_cadre").get("/api/reports?status=late").get_json()
    assert [r["id"] for r in api] == [late.id] and api[0]["late"] is True
    village = _office(app, "chengzi_supervisor")
    assert late.reference not in village.get("/office/reports?status=late").get_data(as_text=True)
