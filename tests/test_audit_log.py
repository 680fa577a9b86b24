"""The audit log page: each user's scope (admins all, a town supervisor its town and its
accounts, a village committee only its villages' households), Chinese words instead of field
names, the filters and keyset paging; and every event knowing its household."""

import re
from zoneinfo import ZoneInfo

from flask_migrate import upgrade
from sqlalchemy import select, text

from server import accounts, audit, create_app
from server.extensions import db
from server.models import AuditEvent, Household, ImportJob, Member, SupportMeasure, Town, Village
from server.office import audit as audit_page
from tests.conftest import app_config, fresh_database, id_number


def _events_on(page) -> list[int]:
    return [int(i) for i in re.findall(r'data-event="(\d+)"', page.get_data(as_text=True))]


def _ids(**where) -> set[int]:
    query = select(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return set(db.session.scalars(query))


def _make_changes(world, login):
    town = login("town_supervisor")
    edit = {"klass": "C", "reason": "因病返贫风险"}
    assert town.patch(f"/api/households/{world.h_chengzi.id}", json=edit).status_code == 200
    member = world.h_shamao.members[0]
    assert town.patch(f"/api/members/{member.id}", json={"health": "长期慢性病"}).status_code == 200
    other = login("other_supervisor")
    assert (
        other.patch(f"/api/households/{world.h_other_town.id}", json={"klass": "A"}).status_code
        == 200
    )
    accounts.set_enabled(world.users["town_supervisor"], world.users["chengzi_cadre"], False)
    accounts.reset_password(world.users["other_supervisor"], world.users["other_cadre"])
    db.session.commit()


def test_each_user_sees_only_the_log_of_their_scope(world, login):
    _make_changes(world, login)
    chengzi, shamao = _ids(household_id=world.h_chengzi.id), _ids(household_id=world.h_shamao.id)
    other_town = _ids(household_id=world.h_other_town.id)
    own_account = _ids(entity="user", entity_id=world.users["chengzi_cadre"].id)
    foreign_account = _ids(entity="user", entity_id=world.users["other_cadre"].id)
    assert chengzi and shamao and other_town and own_account and foreign_account

    town = set(_events_on(login("town_supervisor").get("/office/audit")))
    assert town == chengzi | shamao | own_account
    committee = set(_events_on(login("chengzi_supervisor").get("/office/audit")))
    assert committee == chengzi
    everything = set(_events_on(login("admin").get("/office/audit")))
    assert everything == chengzi | shamao | other_town | own_account | foreign_account
    assert login("shamao_cadre").get("/office/audit").status_code == 403


def test_log_is_written_in_words(world, login):
    _make_changes(world, login)
    page = login("town_supervisor").get("/office/audit").get_data(as_text=True)
    assert "类别：<del>B 类</del> → <ins>C 类</ins>" in page
    assert "因病返贫风险" in page
    assert "家庭成员 · 户主2（H0002） · 修改" in page
    assert "健康：<del>健康</del> → <ins>长期慢性病</ins>" in page
    assert "可以登录：<del>是</del> → <ins>否</ins>" in page
    for field_name in ("klass", "health", "enabled"):
        assert f"{field_name}：" not in page


def test_filters_by_person_household_kind_and_date(world, login):
    _make_changes(world, login)
    office = login("town_supervisor")
    by_household = set(_events_on(office.get("/office/audit?household=H0002")))
    assert by_household == _ids(household_id=world.h_shamao.id)
    foreign = office.get("/office/audit?household=H0003")  # another town's household
    assert foreign.status_code == 400 and "没有户编号为 H0003 的户" in foreign.get_data(
        as_text=True
    )
    assert _events_on(foreign) == []
    by_kind = set(_events_on(office.get("/office/audit?kind=user")))
    assert by_kind == _ids(entity="user", entity_id=world.users["chengzi_cadre"].id)
    by_person = set(_events_on(office.get("/office/audit?person=TOWN_SUPERVISOR")))
    assert by_person == _ids(actor_id=world.users["town_supervisor"].id)
    nobody = office.get("/office/audit?person=other_supervisor")  # acted only elsewhere
    assert _events_on(nobody) == []
    local = ZoneInfo("Asia/Shanghai")  # the town's day, not the server's
    day = db.session.scalar(select(AuditEvent.at)).astimezone(local).strftime("%Y-%m-%d")
    assert _events_on(office.get(f"/office/audit?from={day}&to={day}"))
    assert _events_on(office.get("/office/audit?to=2001-01-01")) == []
    for bad in ("from=yesterday", "kind=robots", "before=%%%"):
        answer = office.get(f"/office/audit?{bad}")
        assert answer.status_code == 400 and 'role="alert"' in answer.get_data(as_text=True)


def test_keyset_paging_walks_every_event_once(world, login, monkeypatch):
    monkeypatch.setattr(audit_page, "PAGE_SIZE", 4)
    for n in range(9):
        audit.record("update", "household", world.h_chengzi.id, {"phone": n}, {"phone": n + 1})
    audit.record("update", "household", world.h_other_town.id, {"phone": 1}, {"phone": 2})
    db.session.commit()
    office = login("chengzi_supervisor")
    seen, url = [], "/office/audit"
    while url:
        page = office.get(url)
        seen += _events_on(page)
        found = re.search(r'class="pager"><a href="([^"]+)"', page.get_data(as_text=True))
        url = found[1].replace("&amp;", "&") if found else None
    assert seen == sorted(_ids(household_id=world.h_chengzi.id), reverse=True)
    assert len(seen) == 9


def test_every_event_knows_its_household(world, login):
    member = world.h_shamao.members[0]
    measure = SupportMeasure(
        household=world.h_chengzi, kind="dibao", started_on=db.func.current_date()
    )
    db.session.add(measure)
    db.session.flush()
    one = audit.record("update", "member", member.id, {"health": "a"}, {"health": "b"})
    two = audit.record("create", "support_measure", measure.id, after={"kind": "dibao"})
    audit.record_many(
        [
            {
                "action": "delete",
                "entity": "member",
                "entity_id": member.id,
                "before": {},
                "after": None,
            },
            {
                "action": "create",
                "entity": "town",
                "entity_id": world.town.id,
                "before": None,
                "after": {},
            },
        ]
    )
    db.session.commit()
    assert (one.household_id, two.household_id) == (world.h_shamao.id, world.h_chengzi.id)
    many = db.session.scalars(
        select(AuditEvent.household_id)
        .where(AuditEvent.action.in_(["delete", "create"]))
        .where(AuditEvent.entity.in_(["member", "town"]))
        .order_by(AuditEvent.entity)
    ).all()
    assert many == [world.h_shamao.id, None]


def test_migration_gives_older_events_their_household(tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app(app_config(url, tmp_path / "instance"))
        with app.app_context():
            upgrade(revision="0620")
            village = Village(town=Town(name="太河镇"), name="城子村")
            household = Household(code="H1", village=village, head_name="户主", klass="B")
            household.members = [
                Member(
                    name="户主", id_number=id_number(1), relation="户主", sex="M", birth_year=1965
                )
            ]
            db.session.add(household)
            db.session.commit()
            member_id, household_id = household.members[0].id, household.id
            insert = text(
                "INSERT INTO audit_event (at, action, entity, entity_id) "
                "VALUES (CURRENT_TIMESTAMP, 'update', :entity, :id)"
            )
            for entity, ident in (("household", household_id), ("member", member_id), ("user", 1)):
                db.session.execute(insert, {"entity": entity, "id": ident})
            db.session.commit()
            db.session.remove()
            upgrade()
            rows = db.session.execute(
                text("SELECT entity, household_id FROM audit_event ORDER BY id")
            ).all()
            assert [tuple(r) for r in rows] == [
                ("household", household_id),
                ("member", household_id),
                ("user", None),
            ]
            db.session.remove()
            db.engine.dispose()


def test_town_import_flag_and_card_events_are_written_in_words_too(world, login):
    """The events no household form writes: a town's demo seed and settings, an import's
    counts, a checked visit flag, a door card issued again."""
    audit.record("seed", "town", world.town.id, after={"seed": 7, "households": 5952})
    audit.record(
        "update", "town", world.town.id, {"flag_distance_m": 500}, {"flag_distance_m": 800}
    )
    counts = {"rows": 5, "households_created": 3, "members_removed": 1, "cadres_created": 2}
    audit.record("import", "registry", None, None, counts, "import 户籍.xlsx")
    audit.record(
        "reissue",
        "household_link",
        None,
        {"link_id": 4},
        {"household_id": world.h_chengzi.id, "for_card": True},
    )
    db.session.commit()
    page = login("admin").get("/office/audit").get_data(as_text=True)
    for words in (
        "演示数据种子",
        "新建帮扶责任人账户",
        "移除成员",
        "用于联系卡",
        "<del>500</del> → <ins>800</ins>",
    ):
        assert words in page, words
    for field_name in ("seed", "households_created", "members_removed", "for_card", "flag_"):
        assert f"{field_name}：" not in page


def test_an_imports_households_and_accounts_read_in_words(world, login):
    from tests.test_import import registry_rows
    from tests.test_import_jobs import post_form, upload_page, xlsx_bytes

    client = login("town_supervisor")
    upload_page(client, xlsx_bytes(registry_rows()))
    job = db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))
    post_form(client, f"/office/import/{job.id}/apply")
    page = client.get("/office/audit").get_data(as_text=True)
    assert "录入系统日期" in page and "帮扶责任人：" in page
    assert "王大山（户主）" in page  # a member as its name and relation, not a dict
    assert "角色：<ins>帮扶干部</ins>" in page
    for raw in ("entered_on", "cadre_ids", "{'name'", "'id_number'", "<ins>cadre</ins>"):
        assert raw not in page, raw
