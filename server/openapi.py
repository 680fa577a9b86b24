"""The OpenAPI document, generated from the views' docstrings and the marshmallow schemas."""

from http import HTTPStatus

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, current_app

bp = Blueprint("openapi", __name__)


def api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]


def build_spec(app) -> dict:
    spec = APISpec(
        title="Zoufang API",
        version="1",
        openapi_version="3.0.3",
        info={
            "description": "Household support visits. State-changing calls need the "
            "X-CSRF-Token header from /api/me. Errors answer "
            '{"error", "message", "fields", "codes"} (docs/inputs.md).'
        },
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
    )
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    with app.test_request_context():
        for rule in api_rules(app):
            spec.path(view=app.view_functions[rule.endpoint], app=app)
    return _with_default_descriptions(spec.to_dict())


def _with_default_descriptions(document: dict) -> dict:
    """OpenAPI requires a description on every response; the status phrase is a fine default."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                response.setdefault("description", HTTPStatus(int(status)).phrase)
    return document


@bp.get("/api/openapi.json")
def openapi_document():
    """This document.
    ---
    get:
      tags: [meta]
      responses:
        200: {description: The OpenAPI 3 document}
    """
    app = current_app._get_current_object()
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build_spec(app)
    return app.extensions["openapi"]
