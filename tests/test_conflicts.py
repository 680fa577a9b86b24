"""A supervisor resolves a data conflict (an offline edit that met a server change): the
choice is applied, audited, closes the needs-action item, and reaches the phones."""

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent, DataConflict, Household, Member, NeedsAction
from tests.syncdata import edit, results
from tests.test_coverage import _form_token
from tests.test_sync import pull_all


def conflict_on(world, login, household=None) -> DataConflict:
    """The cadre changes the phone number and a member's health offline while the town
    office changed both: two conflicts, both values kept."""
    household = household or world.h_chengzi
    member = household.members[0]
    base = household.version
    office = login("town_supervisor")
    office.patch(f"/api/households/{household.id}", json={"phone": "0533-1234567"})
    office.patch(f"/api/members/{member.id}", json={"health": "大病"})
    cadre = "chengzi_cadre" if household is world.h_chengzi else "shamao_cadre"
    changes = {"phone": "13933334444", "members": {str(member.id): {"health": "残疾"}}}
    [answer] = results(login(cadre), [edit(household.id, base, changes)])
    assert len(answer["conflicts"]) == 2
    db.session.rollback()
    return db.session.scalars(
        select(DataConflict).where(DataConflict.household_id == household.id)
    ).all()


def resolve(client, conflict_id: int, **form):
    page = client.get("/office/conflicts").get_data(as_text=True)
    return client.post(
        f"/office/conflicts/{conflict_id}/resolve", data={"csrf_token": _form_token(page)} | form
    )


def test_the_phones_value_is_applied_audited_and_pulled(world, login):
    phone, health = conflict_on(world, login)
    cadre = login("chengzi_cadre")
    _, _, cursor = pull_all(cadre)
    supervisor = login("chengzi_supervisor")
    page = supervisor.get("/office/conflicts").get_data(as_text=True)
    assert "0533-1234567" in page and "13933334444" in page and "户主1: " in page
    version = world.h_chengzi.version

    answer = resolve(supervisor, phone.id, choice="phone", note="电话核实，用新号码")
    assert answer.status_code == 302
    db.session.rollback()
    household = db.session.get(Household, world.h_chengzi.id)
    assert household.phone == "13933334444" and household.version > version
    resolved = db.session.get(DataConflict, phone.id)
    assert resolved.resolved_by_id == world.users["chengzi_supervisor"].id
    assert resolved.resolution == "phone: 电话核实，用新号码"
    item = db.session.scalar(select(NeedsAction).where(NeedsAction.source_id == phone.id))
    assert item.handled_at is not None
    assert db.session.get(DataConflict, health.id).resolved_at is None  # one at a time
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"resolve", "update"} <= actions
    [pulled], _, _ = pull_all(cadre, cursor)
    assert pulled["phone"] == "13933334444"


def test_keeping_the_value_here_changes_no_data(world, login):
    phone, health = conflict_on(world, login)
    supervisor = login("town_supervisor")
    assert resolve(supervisor, health.id, choice="server").status_code == 302
    db.session.rollback()
    assert db.session.get(Member, world.h_chengzi.members[0].id).health == "大病"
    assert db.session.get(DataConflict, health.id).resolution == "server"
    assert resolve(supervisor, phone.id, choice="phone").status_code == 302
    page = supervisor.get("/office/conflicts?state=resolved").get_data(as_text=True)
    assert page.count("town_supervisor") >= 2
    assert "没有数据冲突" in supervisor.get("/office/conflicts").get_data(as_text=True)


def test_a_members_value_from_the_phone_lands_on_the_member(world, login):
    _, health = conflict_on(world, login)
    assert resolve(login("town_supervisor"), health.id, choice="phone").status_code == 302
    db.session.rollback()
    assert db.session.get(Member, world.h_chengzi.members[0].id).health == "残疾"


@pytest.mark.parametrize(
    "form, status",
    [({}, 400), ({"choice": "both"}, 400), ({"choice": "phone", "note": "x" * 201}, 400)],
)
def test_bad_input_is_refused_and_changes_nothing(world, login, form, status):
    phone, _ = conflict_on(world, login)
    supervisor = login("town_supervisor")
    assert resolve(supervisor, phone.id, **form).status_code == status
    no_token = supervisor.post(f"/office/conflicts/{phone.id}/resolve", data={"choice": "phone"})
    assert no_token.status_code == 400
    db.session.rollback()
    assert db.session.get(DataConflict, phone.id).resolved_at is None
    assert db.session.get(Household, world.h_chengzi.id).phone == "0533-1234567"


def test_a_conflict_is_resolved_once(world, login):
    phone, _ = conflict_on(world, login)
    supervisor = login("town_supervisor")
    assert resolve(supervisor, phone.id, choice="server").status_code == 302
    assert resolve(supervisor, phone.id, choice="phone").status_code == 409
    db.session.rollback()
    assert db.session.get(Household, world.h_chengzi.id).phone == "0533-1234567"


def test_scope_foreign_conflicts_are_invisible_and_404(world, login):
    shamao, _ = conflict_on(world, login, world.h_shamao)
    village_supervisor = login("chengzi_supervisor")
    assert "户主2" not in village_supervisor.get("/office/conflicts?state=all").get_data(
        as_text=True
    )
    assert resolve(village_supervisor, shamao.id, choice="phone").status_code == 404
    assert resolve(village_supervisor, 999999, choice="phone").status_code == 404
    assert resolve(login("other_supervisor"), shamao.id, choice="phone").status_code == 404
    assert login("shamao_cadre").get("/office/conflicts").status_code == 403
    db.session.rollback()
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(DataConflict)
            .where(DataConflict.resolved_at.is_not(None))
        )
        == 0
    )
    assert "户主2" in login("town_supervisor").get("/office/conflicts").get_data(as_text=True)


def _open_items(source: str) -> list[int]:
    query = select(NeedsAction.source_id).where(
        NeedsAction.source == source, NeedsAction.handled_at.is_(None)
    )
    return sorted(db.session.scalars(query))


def test_a_conflict_raises_its_item_when_stored_and_closes_it_when_resolved(world, login):
    phone, health = conflict_on(world, login)
    assert _open_items("conflict") == sorted([phone.id, health.id])  # no page was opened
    supervisor = login("chengzi_supervisor")
    page = supervisor.get("/office/needs-action").get_data(as_text=True)
    assert "户主1" in page and f"/office/conflicts?household={world.h_chengzi.id}" in page

    # "Handled" on the household leaves a conflict open: only a choice of value closes it.
    token = _form_token(page)
    url = f"/office/needs-action/{world.h_chengzi.id}/handled"
    supervisor.post(url, data={"csrf_token": token, "note": "已电话核实"})
    db.session.rollback()
    assert _open_items("conflict") == sorted([phone.id, health.id])
    assert resolve(supervisor, phone.id, choice="server").status_code == 302
    assert resolve(supervisor, health.id, choice="server").status_code == 302
    db.session.rollback()
    assert _open_items("conflict") == []
    assert "户主1" not in supervisor.get("/office/needs-action").get_data(as_text=True)
