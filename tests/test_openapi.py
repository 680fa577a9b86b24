"""The OpenAPI document must describe every API route, and nothing else."""

import re

from server.openapi import api_rules

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _openapi_path(rule) -> str:
    """/api/x/<int:x_id> becomes /api/x/{x_id}, whatever the converter."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)


def test_document_matches_the_routes(app, client):
    spec = client.get("/api/openapi.json").get_json()
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method != "parameters"
    }
    routed = {
        (_openapi_path(rule), method)
        for rule in api_rules(app)
        for method in rule.methods - IGNORED_METHODS
    }
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented operations with no route"


def test_every_operation_has_responses_and_schemas_resolve(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("responses"), f"{method} {path} documents no responses"
    text = str(spec)
    for name in schemas:
        assert name in text
    for ref in _refs(spec):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_validates_as_openapi_3(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/openapi.json").get_json())


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
