"""The access matrix, generated from the route list: every route that takes an id is called
by every role, with every method it allows, with ids from another town, village, cadre and
household, and with a missing id. Each call answers 404 (or 403, or the way to sign in,
where the role may not use the route at all), and an existing foreign id answers exactly
like a missing one, so a response never tells that a row exists.

A new route with an id is covered without anyone listing it; one whose id this matrix cannot
fill fails the test until FILL learns it.
"""

import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from werkzeug.routing import UUIDConverter

from server.extensions import db
from server.models import (
    Assignment,
    AuditEvent,
    DataConflict,
    Household,
    ImportJob,
    Member,
    Photo,
    SelfReport,
    SupportMeasure,
    Visit,
    VisitFlag,
)
from server.params import IdConverter
from tests.conftest import id_number

ROLES = ("anonymous", "chengzi_cadre", "chengzi_supervisor", "town_supervisor", "admin")
MISSING_ID = 987_654
MISSING_UUID = "00000000-0000-4000-8000-00000000abcd"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


@dataclass
class Rows:
    """What each household holds, by the name of the route argument that points at it."""

    household: Household
    ids: dict


def _fill_household(household: Household, cadre, n: int, job_owner) -> Rows:
    visit = Visit(
        uuid=str(uuidlib.uuid4()),
        household=household,
        cadre=cadre,
        visited_at=datetime(2026, 5, 1, 9, tzinfo=UTC),
    )
    photo = Photo(
        uuid=str(uuidlib.uuid4()),
        household_id=household.id,
        visit=visit,
        sha256=f"{n:064d}",
        storage_key=f"matrix/{n}",
        size_bytes=1,
        width=1,
        height=1,
    )
    flag = VisitFlag(visit=visit, kind="no_location")
    report = SelfReport(
        reference=f"M{n:08d}",
        household_id=household.id,
        form_nonce=f"nonce{n:027d}",
        category="other",
        description="屋顶漏雨",
        priority=2,
    )
    measure = SupportMeasure(household_id=household.id, kind="dibao", started_on=date(2026, 1, 1))
    conflict = DataConflict(
        household=household,
        record_uuid=str(uuidlib.uuid4()),
        field="phone",
        server_value={"value": "1"},
        phone_value={"value": "2"},
        submitted_by_id=cadre.id,
    )
    # Import jobs are seen by whoever ran them (and admins): each group's is run by an office
    # account that sees that group, so another role's is foreign to it.
    job = ImportJob(created_by_id=job_owner.id, file_name=f"registry{n}.xlsx")
    db.session.add_all([visit, photo, flag, report, measure, conflict, job])
    db.session.flush()
    return Rows(
        household,
        {
            "household_id": household.id,
            "member_id": household.members[0].id,
            "report_id": report.id,
            "measure_id": measure.id,
            "conflict_id": conflict.id,
            "flag_id": flag.id,
            "photo_uuid": photo.uuid,
            "village_id": household.village_id,
            "town_id": household.village.town_id,
            "cadre_id": cadre.id,
            "account_id": cadre.id,
            "job_id": job.id,  # the cadre's account, as the accounts pages name it
        },
    )


def _build(world) -> dict[str, Rows]:
    """A second household in 城子村 with another cadre, then rows under all four."""
    second = Household(code="H0009", village=world.chengzi, head_name="户主9", klass="C")
    second.members = [
        Member(name="户主9", id_number=id_number(9), relation="户主", sex="F", birth_year=1970)
    ]
    db.session.add(second)
    db.session.add(Assignment(household=second, cadre=world.users["shamao_cadre"]))
    db.session.flush()
    users = world.users
    rows = {
        "chengzi": _fill_household(
            world.h_chengzi, users["chengzi_cadre"], 1, users["chengzi_supervisor"]
        ),
        "chengzi_other_cadre": _fill_household(
            second, users["shamao_cadre"], 2, users["chengzi_supervisor"]
        ),
        "shamao": _fill_household(
            world.h_shamao, users["shamao_cadre"], 3, users["town_supervisor"]
        ),
        "other_town": _fill_household(world.h_other_town, users["other_cadre"], 4, users["admin"]),
    }
    db.session.commit()
    return rows


# Whose rows each role may see (the rest are foreign to it).
VISIBLE = {
    "anonymous": set(),
    "chengzi_cadre": {"chengzi"},
    "chengzi_supervisor": {"chengzi", "chengzi_other_cadre"},
    "town_supervisor": {"chengzi", "chengzi_other_cadre", "shamao"},
    "admin": {"chengzi", "chengzi_other_cadre", "shamao", "other_town"},
}
# Routes whose id names a row the caller creates (a photo's UUID, chosen on the phone): any
# refusal will do, as long as a taken id is refused like a free one.
CALLER_CHOSEN = {"photos.upload"}
FILL = (
    "household_id",
    "member_id",
    "report_id",
    "measure_id",
    "conflict_id",
    "flag_id",
    "photo_uuid",
    "village_id",
    "town_id",
    "cadre_id",
    "account_id",
    "job_id",
)


def id_routes(app) -> list:
    routes = []
    for rule in app.url_map.iter_rules():
        id_args = [
            name
            for name, converter in rule._converters.items()
            if isinstance(converter, IdConverter | UUIDConverter)
        ]
        if id_args:
            unknown = set(id_args) - set(FILL)
            assert not unknown, f"{rule.rule}: the matrix cannot fill {unknown}"
            routes.append((rule, id_args))
    return routes


def _calls(rule, id_args, role: str, rows: dict):
    """(the route's arguments with a foreign id, the same with a missing id) per call."""
    seen = VISIBLE[role]
    own = rows["chengzi"].ids if role != "anonymous" else rows["other_town"].ids
    for tested in id_args:
        missing = MISSING_UUID if tested == "photo_uuid" else MISSING_ID
        foreign = {
            rows[name].ids[tested]
            for name in rows
            if name not in seen
            and rows[name].ids[tested] not in _visible_values(tested, rows, seen)
        }
        args = {a: own[a] for a in id_args}
        for value in sorted(foreign, key=str) or [missing]:  # a role that sees all: missing
            yield args | {tested: value}, args | {tested: missing}


def _visible_values(arg: str, rows: dict, seen: set) -> set:
    """Values a role may legitimately reach (a town shared by a visible household is visible)."""
    return {rows[name].ids[arg] for name in seen}


def _client(app, login, role: str):
    if role == "anonymous":
        client = app.test_client()
        with client.session_transaction() as session:
            session["csrf"] = "anonymous-token"
        return client, "anonymous-token"
    signed_in = login(role)
    return signed_in.client, signed_in.csrf


def _call(client, csrf: str, method: str, url: str):
    kwargs = {"headers": {"X-CSRF-Token": csrf}}
    if method != "GET":
        kwargs["data"] = {"csrf_token": csrf} if not url.startswith("/api/") else "{}"
        if url.startswith("/api/"):
            kwargs["content_type"] = "application/json"
    response = client.open(url, method=method, **kwargs)
    return response.status_code, response.get_data(as_text=True), response.headers.get("Location")


def _same(answer, missing_answer, url: str, missing_url: str) -> bool:
    """Equal but for the URL itself (a redirect to sign in carries it)."""

    def plain(answer, own_url):
        status, body, location = answer
        return status, body.replace(own_url, "{url}"), (location or "").replace(own_url, "{url}")

    return plain(answer, url) == plain(missing_answer, missing_url)


def _allowed(role: str, endpoint: str, status: int, location: str | None) -> bool:
    if role == "anonymous":
        return status == 401 or (status == 302 and "/login" in (location or ""))
    if endpoint in CALLER_CHOSEN:
        return 400 <= status < 500
    return status in (403, 404)


def test_every_id_route_hides_foreign_rows_from_every_role(app, world, login, summary):
    rows = _build(world)
    routes = id_routes(app)
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    calls, problems = 0, []
    for role in ROLES:
        client, csrf = _client(app, login, role)
        for rule, id_args in routes:
            for method in sorted(rule.methods - SKIPPED_METHODS):
                for args, missing_args in _calls(rule, id_args, role, rows):
                    url, missing_url = _build_url(rule, args), _build_url(rule, missing_args)
                    answer = _call(client, csrf, method, url)
                    missing_answer = _call(client, csrf, method, missing_url)
                    calls += 2
                    if not _allowed(role, rule.endpoint, answer[0], answer[2]):
                        problems.append(f"{role} {method} {url}: {answer[0]}")
                    elif not _same(answer, missing_answer, url, missing_url):
                        problems.append(
                            f"{role} {method} {url}: {answer[0]}, missing id {missing_answer[0]}"
                        )
    summary(f"access matrix: {len(routes)} routes with ids, {calls} calls, {len(ROLES)} roles")
    assert not problems, "\n".join(problems)
    assert len(routes) >= 30 and calls >= 500
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before


def _build_url(rule, args: dict) -> str:
    _, path = rule.build(args, append_unknown=False)
    return path


def test_a_route_whose_id_the_matrix_cannot_fill_fails_it(app):
    app.add_url_rule("/api/widgets/<int:widget_id>", "widget", lambda widget_id: "")
    try:
        id_routes(app)
    except AssertionError as refused:
        assert "widget_id" in str(refused)
    else:
        raise AssertionError("an unknown id argument went unnoticed")
