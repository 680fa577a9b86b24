"""The OpenAPI document, generated from the routes and the schemas, must describe every API
route and nothing else, list the errors each can answer, and give the types that are sent."""

import re

import pytest
from marshmallow.decorators import VALIDATES_SCHEMA
from openapi_spec_validator import validate

from server.openapi import api_rules
from server.schemas.base import Schema
from tests.syncdata import crop, results, visit

IGNORED_METHODS = {"HEAD", "OPTIONS"}
MISSING_ID, MISSING_UUID = "2147483647", "00000000-0000-4000-8000-000000000000"


def _openapi_path(rule) -> str:
    """/api/x/<int:x_id> becomes /api/x/{x_id}, whatever the converter."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)


def _operations(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").get_json()


def test_document_matches_the_routes(app, spec):
    documented = {(path, method.upper()) for path, method, _ in _operations(spec)}
    routed = {
        (_openapi_path(rule), method)
        for rule in api_rules(app)
        for method in rule.methods - IGNORED_METHODS
    }
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented operations with no route"


def test_validates_as_openapi_3_and_every_reference_resolves(spec):
    validate(spec)
    for ref in _refs(spec):
        kind, name = ref.removeprefix("#/components/").split("/")
        assert name in spec["components"][kind], ref


def test_every_error_answers_the_one_error_shape(spec):
    for path, method, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            response = _resolved(spec, response)
            schema = response["content"]["application/json"]["schema"]["$ref"]
            expected = "FieldError" if status == "422" else "Error"
            assert schema == f"#/components/schemas/{expected}", (method, path, status)
    field_error = spec["components"]["schemas"]["FieldError"]
    assert {"error", "message", "fields", "codes"} <= set(field_error["required"])


def _call(client, method: str, path: str, headers=None):
    url = path.replace("{", "<").replace("}", ">")
    url = re.sub(r"<\w+_uuid>", MISSING_UUID, url)
    url = re.sub(r"<\w+>", MISSING_ID, url)
    return client.open(url, method=method.upper(), json={}, headers=headers or {})


def test_every_operation_documents_what_it_answers_signed_out_or_to_a_wrong_call(
    app, world, login, spec
):
    """Each operation called signed out, signed in without the CSRF header, and with a
    missing id and an empty body as each role: every status is one its operation lists."""
    callers = {"anonymous": (app.test_client(), {})}
    for role in ("chengzi_cadre", "town_supervisor", "admin"):
        signed_in = login(role)
        callers[f"{role} without CSRF"] = (signed_in.client, {})
        callers[role] = (signed_in.client, {"X-CSRF-Token": signed_in.csrf})
    seen, undocumented = set(), []
    for path, method, operation in _operations(spec):
        if path == "/api/logout":
            continue  # would end the sessions the other calls use; anonymous below
        for caller, (client, headers) in callers.items():
            status = _call(client, method, path, headers).status_code
            seen.add(status)
            if str(status) not in operation["responses"]:
                undocumented.append(f"{caller}: {method.upper()} {path} -> {status}")
    logout = spec["paths"]["/api/logout"]["post"]["responses"]
    assert str(_call(app.test_client(), "post", "/api/logout").status_code) in logout
    assert undocumented == []
    assert {401, 403, 404, 422} <= seen  # the calls reached the errors they were made for


def test_decimals_are_documented_as_the_strings_sent(app, world, login, spec):
    cadre = login("chengzi_cadre")
    (pushed,) = results(cadre, [visit(world.h_chengzi.id, crops=[crop(area_mu="1.25")])])
    assert pushed["status"] == "created"
    sent = cadre.get(f"/api/households/{world.h_chengzi.id}").get_json()
    assert sent["crops"][0]["area_mu"] == "1.25"
    schemas = spec["components"]["schemas"]
    for name in ("Crop", "CropIn", "CropSeason"):
        area = schemas[name]["properties"]["area_mu"]
        assert area["type"] == "string", name
        assert re.fullmatch(area["pattern"], "1.25"), name


def test_bounds_and_choices_of_the_schemas_reach_the_document(spec):
    crop_in = spec["components"]["schemas"]["CropIn"]["properties"]
    assert crop_in["crop"]["enum"] == ["kiwifruit", "tobacco", "other"]
    assert (crop_in["season_year"]["minimum"], crop_in["season_year"]["maximum"]) == (2000, 2100)
    visit_data = spec["components"]["schemas"]["VisitData"]["properties"]
    assert visit_data["household_id"]["maximum"] == 2**31 - 1  # an id column's bound
    assert visit_data["photo_uuids"]["uniqueItems"] is True


def test_a_patch_documents_every_field_as_optional(spec):
    """PATCH /api/members/{id} reads MemberInSchema(partial=True): only what changes."""
    body = spec["paths"]["/api/members/{member_id}"]["patch"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schemas = spec["components"]["schemas"]
    assert ref == "#/components/schemas/MemberInPatch"
    assert "required" not in schemas["MemberInPatch"]
    assert {"name", "id_number", "relation"} <= set(schemas["MemberIn"]["required"])


def test_cross_field_rules_are_stated(spec):
    schemas = spec["components"]["schemas"]
    for schema in _all_schemas():
        name = schema.__name__.removesuffix("Schema")
        if schema._hooks[VALIDATES_SCHEMA] and name in schemas:
            assert schemas[name].get("description"), f"{name} has a rule the document omits"
    assert '"other"' in schemas["CropIn"]["description"]
    assert "crop_name" in schemas["CropIn"]["description"]
    assert "detail" in schemas["MeasureIn"]["description"]
    assert "started_on" in schemas["MeasureEnd"]["properties"]["ended_on"]["description"]
    assert "id_number" in schemas["MemberIn"]["description"]
    password = spec["paths"]["/api/password"]["post"]["requestBody"]
    repeated = password["content"]["application/json"]["schema"]["properties"]
    assert "new_password" in repeated["repeated_password"]["description"]


def _all_schemas(base=Schema):
    for schema in base.__subclasses__():
        yield schema
        yield from _all_schemas(schema)


def _resolved(spec, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)
