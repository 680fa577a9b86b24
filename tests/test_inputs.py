"""No input gets a 5xx: each kind of bad input is refused at its root with a clear 400, 404
or 422 naming the field, and nothing changes."""

import base64
import json

import marshmallow
import pytest
from sqlalchemy import func, select

import server.schemas.fields as our_fields
from server.extensions import db
from server.models import Assignment, AuditEvent, Household, SupportMeasure
from server.schemas.base import Schema as BaseSchema
from tests.syncdata import crop, results, visit
from tests.test_coverage import _form_token

HUGE = 2**70  # beyond 64 bits
BEYOND_COLUMN = 2**31  # beyond PostgreSQL's 32-bit integer ids


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def unchanged(household: Household) -> bool:
    db.session.rollback()
    return db.session.get(Household, household.id).version == household.version


@pytest.mark.parametrize("number", [HUGE, BEYOND_COLUMN, 10**10])
@pytest.mark.parametrize(
    "url",
    [
        "/api/households/{n}",
        "/api/reports/{n}/photo",
        "/api/reports/{n}",
        "/office/households/{n}",
        "/office/reports/{n}",
    ],
)
def test_integers_beyond_the_id_column_in_paths_are_missing_rows(world, login, url, number):
    office = login("admin")
    assert office.get(url.format(n=number)).status_code == 404


def test_digits_outside_ascii_in_paths_are_not_ids(world, login):
    # Werkzeug's int converter takes any Unicode digit: "١" would read as household 1.
    office = login("admin")
    assert office.get(f"/api/households/{world.h_chengzi.id}").status_code == 200
    arabic = str(world.h_chengzi.id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert office.get(f"/api/households/{arabic}").status_code == 404


@pytest.mark.parametrize(
    "method, url",
    [
        ("PATCH", "/api/households/{n}"),
        ("DELETE", "/api/members/{n}"),
        ("POST", "/api/members/{n}/id-number"),
        ("DELETE", "/api/households/1/assignments/{n}"),
    ],
)
def test_ids_beyond_the_column_are_missing_rows_whatever_the_method(world, login, method, url):
    """Not 405: the path has routes for other methods too."""
    office = login("admin")
    answer = office._send(method.lower(), url.format(n=BEYOND_COLUMN + 1), json={})
    assert answer.status_code == 404
    assert answer.get_json()["error"] == "not_found"


@pytest.mark.parametrize("value", [str(HUGE), str(BEYOND_COLUMN), "-1"])
def test_integers_beyond_the_column_in_query_strings(world, login, value):
    office = login("admin")
    answer = office.get(f"/api/households?village_id={value}")
    assert answer.status_code == 422
    assert answer.get_json()["codes"] == {"village_id": ["out_of_range"]}
    page = office.get(f"/office/overdue?village={value}")
    assert page.status_code == 400 and "village" in page.get_data(as_text=True)


@pytest.mark.parametrize("value", ["²", "١٢", "①", " 1", "1e3"])
def test_digits_outside_ascii_in_query_strings(world, login, value):
    office = login("admin")
    for url in (f"/office/overdue?village={value}", f"/office/conflicts?household={value}"):
        page = office.get(url)
        assert page.status_code == 400, url
        assert "须为 0 至 2147483647 之间的数字" in page.get_data(as_text=True)
    answer = office.get(f"/api/households?village_id={value}")
    assert answer.status_code == 422 and answer.get_json()["codes"] == {"village_id": ["invalid"]}


@pytest.mark.parametrize(
    "body, field",
    [
        (f'{{"village_id": {HUGE}}}', "village_id"),
        (f'{{"village_id": {BEYOND_COLUMN}}}', "village_id"),
        ('{"lat": 1e999}', "lat"),  # Python's JSON reads 1e999 as infinity
    ],
)
def test_integers_beyond_the_column_and_infinite_numbers_in_json_bodies(world, login, body, field):
    office = login("admin")
    answer = office.patch(
        f"/api/households/{world.h_chengzi.id}", data=body, content_type="application/json"
    )
    assert answer.status_code == 422, answer.get_json()
    assert list(answer.get_json()["codes"]) == [field]
    assert answer.get_json()["codes"][field][0] in {"out_of_range", "not_finite"}
    assert unchanged(world.h_chengzi)
    assigned = office.post(
        f"/api/households/{world.h_chengzi.id}/assignments", json={"cadre_id": HUGE}
    )
    assert assigned.status_code == 422 and assigned.get_json()["codes"] == {
        "cadre_id": ["out_of_range"]
    }
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 3


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_bodies_with_nan_or_infinity_are_not_json(world, login, constant):
    office = login("admin")
    answer = office.patch(
        f"/api/households/{world.h_chengzi.id}",
        data=f'{{"lat": {constant}}}',
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert unchanged(world.h_chengzi)


@pytest.mark.parametrize(
    "raw",
    [f"id:{HUGE}", f"id:{BEYOND_COLUMN}", "id:²", "id:-5", "seq:1:²"],
)
def test_integers_beyond_their_column_or_not_ascii_in_cursors(world, login, raw):
    office = login("admin")
    answer = office.get(f"/api/households?cursor={cursor(raw)}")
    assert answer.status_code == 400
    assert answer.get_json()["codes"] == {"cursor": ["invalid"]}
    page = office.get(f"/office/households/{world.h_chengzi.id}?after={cursor(raw)}")
    assert page.status_code == 400


@pytest.mark.parametrize("raw", [f"seq:{2**64}", f"seq:1:{HUGE}", f"seq:1:{BEYOND_COLUMN}"])
def test_pull_cursors_beyond_their_columns(world, login, raw):
    phone = login("chengzi_cadre")
    answer = phone.get(f"/api/sync/pull?cursor={cursor(raw)}")
    assert answer.status_code == 400 and answer.get_json()["codes"] == {"cursor": ["invalid"]}


def test_naive_date_times_inside_cursors(world, login):
    office = login("town_supervisor")
    assert office.get("/office/needs-action").status_code == 200
    naive = cursor(f"needs:20260501T120000.000000:{world.h_chengzi.id}")
    page = office.get(f"/office/needs-action?after={naive}")
    assert page.status_code == 400 and "cursor is not valid" in page.get_data(as_text=True)
    # The format pages made before: a readable time and id, naive or not.
    for old in ("2026-05-01T12:00:00|1", "2026-05-01T12:00:00+00:00|1"):
        assert office.get(f"/office/needs-action?after={old}").status_code == 400
    aware = cursor(f"needs:20260501T120000.000000Z:{world.h_chengzi.id}")
    assert office.get(f"/office/needs-action?after={aware}").status_code == 200


@pytest.mark.parametrize("depth", [33, 10_000, 200_000])
def test_deeply_nested_json_before_and_after_sign_in(world, client, login, depth):
    body = "[" * depth + "]" * depth
    for sender, url in ((client, "/api/login"), (login("chengzi_cadre"), "/api/sync/push")):
        kwargs = {"data": body, "content_type": "application/json"}
        if url != "/api/login":
            kwargs["headers"] = {"X-CSRF-Token": sender.csrf}
            sender = sender.client
        answer = sender.post(url, **kwargs)
        assert answer.status_code == 400, url
        assert answer.get_json()["codes"] == {"_body": ["too_deep"]}


def test_json_as_deep_as_a_push_is_read(world, login):
    deep = 1
    for _ in range(30):  # with the body itself: 31 levels
        deep = [deep]
    phone = login("chengzi_cadre")
    answer = phone.post("/api/sync/push", json={"records": [], "device": deep})
    assert answer.status_code == 200


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy"])
def test_strings_with_nul_or_lone_surrogates_in_json(world, login, text):
    office = login("admin")
    body = json.dumps({"head_name": text})  # ensure_ascii: the surrogate travels as \ud800
    answer = office.patch(
        f"/api/households/{world.h_chengzi.id}", data=body, content_type="application/json"
    )
    assert answer.status_code == 422
    assert answer.get_json()["codes"] == {"head_name": ["bad_text"]}
    assert unchanged(world.h_chengzi)
    phone = login("chengzi_cadre")
    (result,) = results(phone, [visit(world.h_chengzi.id, notes=text)])
    assert result["status"] == "rejected" and result["codes"] == {"notes": ["bad_text"]}


def test_nul_in_forms_and_query_strings(world, login):
    office = login("town_supervisor")
    household = world.h_chengzi.id
    page = office.get(f"/office/households/{household}").get_data(as_text=True)
    answer = office.post(
        f"/office/needs-action/{household}/handled",
        data={"csrf_token": _form_token(page), "note": "已\x00处理"},
    )
    assert answer.status_code == 400 and "note" in answer.get_data(as_text=True)
    assert office.get("/office/flags?kind=a%00b").status_code == 400
    api = office.get("/api/households?q=a%00b")
    assert api.status_code == 400 and api.get_json()["codes"] == {"q": ["bad_text"]}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize(
    "amount", ["Infinity", "-Infinity", "NaN", "sNaN", "1e999999999", "9" * 40]
)
def test_non_finite_or_huge_decimals_in_forms(world, login, amount):
    office = login("chengzi_supervisor")
    household = world.h_chengzi.id
    page = office.get(f"/office/households/{household}").get_data(as_text=True)
    answer = office.post(
        f"/office/households/{household}/measures",
        data={
            "csrf_token": _form_token(page),
            "kind": "dibao",
            "started_on": "2026-05-01",
            "amount_yuan": amount,
        },
    )
    assert answer.status_code == 422 and "每年金额" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SupportMeasure)) == 0


def test_a_validation_error_carries_codes_mirroring_its_messages(world, login):
    office = login("admin")
    answer = office.patch(
        f"/api/households/{world.h_chengzi.id}",
        json={"head_name": "", "klass": "Z", "lat": 91, "colour": "red", "village_id": "x"},
    )
    body = answer.get_json()
    assert answer.status_code == 422 and body["error"] == "validation_failed"
    assert body["codes"] == {
        "head_name": ["too_short"],
        "klass": ["not_one_of"],
        "lat": ["too_large"],
        "colour": ["unknown_field"],
        "village_id": ["invalid"],
    }
    assert set(body["fields"]) == set(body["codes"])


def test_a_rejected_push_record_carries_nested_codes(world, login):
    phone = login("chengzi_cadre")
    bad = visit(
        world.h_chengzi.id,
        visited_at="2026-05-01T10:00:00",  # no offset
        crops=[crop(), crop(area_mu="NaN", season_year=1999)],
        sudden_event="meteor",
    )
    del bad["data"]["location"]["lat"]
    missing = visit(BEYOND_COLUMN - 1)
    unnamed = visit(world.h_chengzi.id, crops=[crop(crop="other")], photo_uuids=[bad["uuid"]] * 2)
    (result, other, third) = results(phone, [bad, missing, unnamed])
    assert result["status"] == "rejected" and result["code"] == 422
    assert result["codes"] == {
        "visited_at": ["bad_date"],
        "location": {"lat": ["required"]},
        "crops": {
            "1": {
                "area_mu": ["not_finite"],
                "season_year": ["too_small"],
            }
        },
        "sudden_event": ["not_one_of"],
    }
    assert other["code"] == 404 and other["codes"] == {"household_id": ["not_found"]}
    assert third["codes"] == {
        "crops": {"0": {"crop_name": ["required"]}},
        "photo_uuids": ["duplicate"],
    }


def _server_schemas(cls=marshmallow.Schema):
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("server."):
            yield sub
        yield from _server_schemas(sub)


def test_every_schema_codes_its_errors_and_reads_with_the_bounded_fields():
    schemas = set(_server_schemas())
    assert len(schemas) > 30
    for schema in schemas:
        assert issubclass(schema, BaseSchema), schema
        for name, field in schema._declared_fields.items():
            for inner in [
                field,
                getattr(field, "inner", None),
                getattr(field, "value_field", None),
            ]:
                if inner is None or inner.dump_only:
                    continue
                kind = type(inner)
                assert (
                    kind.__module__ == our_fields.__name__
                    or not issubclass(kind, marshmallow.fields.Integer | marshmallow.fields.String)
                    or kind is marshmallow.fields.UUID
                ), f"{schema.__name__}.{name}"


def test_form_parts_without_a_name_get_a_422_not_a_crash(world, login):
    office = login("admin")
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\n{{}}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="colour"\r\n\r\nred\r\n'
        f"--{boundary}--\r\n"
    )
    answer = office.post(
        "/api/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert answer.status_code == 422
    assert answer.get_json()["codes"] == {"None": ["unknown_field"], "colour": ["unknown_field"]}
