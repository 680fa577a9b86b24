"""The OpenAPI document at /api/openapi.json, generated from the routes and the marshmallow
schemas.

Each API view says what it reads and answers with `@documented(...)`, next to its route; its
docstring's first line is the summary and the rest the description. The errors that follow
from what a route is (401 for a signed-out caller, 403 for a state-changing call without its
CSRF header, 404 for an id out of scope, 400 and 422 for bad input, 413 for a body over the
limit) are added here, once, from the route's rule and what it reads; a view lists only the
errors of its own (a role it refuses, 409, 429, 503). Every error answers the one shape of
server/errors.py, described by ErrorSchema.
"""

import inspect
import re
from http import HTTPStatus

import marshmallow
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app

from .apidoc import ApiDoc, File, documented
from .auth import CSRF_HEADER, SAFE_METHODS
from .params import ROW_ID_MAX
from .password_change import OPEN_ENDPOINTS
from .schemas import fields
from .schemas.base import Schema

bp = Blueprint("openapi", __name__)


class ErrorSchema(Schema):
    """Every error (server/errors.py: error_response). `fields` holds English sentences per
    field, nested like the input; `codes` mirrors it with stable codes (docs/inputs.md)."""

    error = fields.String(required=True, metadata={"description": "a stable error name"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields")
    codes = fields.Dict()


class FieldErrorSchema(ErrorSchema):
    """A 422: which fields are not valid, and why, as sentences and as codes."""

    fields_ = fields.Dict(data_key="fields", required=True)
    codes = fields.Dict(required=True)


# The errors many routes share, each a named response of the document.
COMMON_ERRORS = {
    400: (
        "BadRequest",
        "Malformed input: a body that is not a JSON object or is nested too deeply, a NUL in "
        "a form or query string, a bad cursor, or a number no column holds",
        ErrorSchema,
    ),
    401: ("Unauthorized", "Not signed in", ErrorSchema),
    403: (
        "Forbidden",
        f"Not allowed for this role, a missing or wrong {CSRF_HEADER} header, or a "
        "one-time password still to be changed (password_change_required)",
        ErrorSchema,
    ),
    404: ("NotFound", "No such record in your scope", ErrorSchema),
    409: ("Conflict", "Conflicts with existing data", ErrorSchema),
    413: ("TooLarge", "The body is over the size limit", ErrorSchema),
    422: ("Invalid", "Some fields are not valid", FieldErrorSchema),
    429: ("TooMany", "Too many attempts; try again after Retry-After seconds", ErrorSchema),
    503: ("Busy", "Busy; send again after Retry-After seconds", ErrorSchema),
}


def api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]


# The converters of API paths, as params.IdConverter and Werkzeug's uuid read them.
PATH_PARAMETERS = {
    "int": {"type": "integer", "minimum": 0, "maximum": ROW_ID_MAX},
    "uuid": {"type": "string", "format": "uuid"},
}
PATH_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")


def openapi_path(rule) -> str:
    """/api/x/<int:x_id> becomes /api/x/{x_id}."""
    return PATH_ARGUMENT.sub(r"{\2}", rule.rule)


def schema_name(schema) -> str:
    """MemberInSchema is "MemberIn"; read with partial=True (a PATCH), "MemberInPatch"."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    return f"{name}Patch" if getattr(schema, "partial", None) is True else name


def build_spec(app) -> dict:
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title="Zoufang API",
        version="1",
        openapi_version="3.0.3",
        info={
            "description": f"Household support visits. State-changing calls need the "
            f"{CSRF_HEADER} header from /api/me. Errors answer "
            '{"error", "message", "fields", "codes"} (docs/inputs.md).'
        },
        plugins=[plugin],
    )
    plugin.converter.add_attribute_function(_decimal_as_string)
    plugin.converter.add_attribute_function(_integer_bounds)
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    for name, description, schema in COMMON_ERRORS.values():
        spec.components.response(name, _error_response(description, schema))
    for rule in api_rules(app):
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "api_doc"):
            raise LookupError(f"{rule.endpoint} has no @documented")
        operations = {
            method.lower(): _operation(rule, method, view)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        }
        spec.path(path=openapi_path(rule), operations=operations)
    return spec.to_dict()


def _decimal_as_string(self, field, ret: dict, **kwargs) -> dict:
    """A Decimal that travels as a string ("0.50", no float rounding) is a string of decimal
    digits in the document, its bounds said in words (JSON Schema bounds only numbers)."""
    if not (isinstance(field, marshmallow.fields.Decimal) and field.as_string):
        return {}
    low, high = ret.pop("minimum", None), ret.pop("maximum", None)
    # marshmallow keeps `places` as the quantum, Decimal("0.01") for 2
    decimals = "+" if field.places is None else f"{{1,{-field.places.as_tuple().exponent}}}"
    words = "a decimal number as a string of digits"
    if low is not None and high is not None:
        words += f", from {low} to {high}"
    return {"type": "string", "pattern": rf"^-?[0-9]+(\.[0-9]{decimals})?$", "description": words}


def _integer_bounds(self, field, ret: dict, **kwargs) -> dict:
    """An integer field refuses what its column cannot hold (schemas/fields.py)."""
    if not isinstance(field, fields.Integer):
        return {}
    bounds = {"minimum": field.low, "maximum": field.high}
    return {name: value for name, value in bounds.items() if name not in ret}


def _error_response(description: str, schema) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(rule, method: str, view) -> dict:
    doc: ApiDoc = view.api_doc
    summary, _, description = inspect.cleandoc(view.__doc__ or "").partition("\n")
    operation = {"tags": [doc.tag], "summary": summary.strip()}
    if description.strip():
        operation["description"] = inspect.cleandoc(description)
    parameters = [
        {"in": "path", "name": name, "required": True, "schema": PATH_PARAMETERS[kind or "int"]}
        for kind, name in PATH_ARGUMENT.findall(rule.rule)
    ]
    if doc.query is not None:
        parameters.append({"in": "query", "schema": doc.query})
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        operation["requestBody"] = _request_body("application/json", doc.body)
    if doc.form is not None:
        operation["requestBody"] = _request_body("multipart/form-data", doc.form)
    if not doc.public:
        operation["security"] = [{"session": []}]
    operation["responses"] = {
        str(status): _answer(status, spec) for status, spec in doc.responses.items()
    } | _errors(rule, method, doc)
    return operation


def _request_body(media_type: str, schema) -> dict:
    return {"required": True, "content": {media_type: {"schema": schema}}}


def _answer(status: int, spec) -> dict:
    description, body = spec if isinstance(spec, tuple) else (None, spec)
    if isinstance(body, str):
        description, body = body, None
    answer = {"description": description or HTTPStatus(status).phrase}
    if isinstance(body, File):
        answer["content"] = {body.media_type: {"schema": {"type": "string", "format": "binary"}}}
    elif body is not None:
        answer["content"] = {"application/json": {"schema": body}}
    return answer


def _errors(rule, method: str, doc: ApiDoc) -> dict:
    """The errors this route can answer: those that follow from its kind, and its own."""
    reads_input = any(x is not None for x in (doc.query, doc.body, doc.form))
    implied = {
        400: reads_input,
        401: not doc.public,
        # CSRF refuses a state-changing call, and a one-time password holds every route
        # but those that change it.
        403: not doc.public and (method not in SAFE_METHODS or rule.endpoint not in OPEN_ENDPOINTS),
        404: bool(rule.arguments),
        413: doc.body is not None or doc.form is not None,
        422: reads_input,
    }
    statuses = sorted({s for s, applies in implied.items() if applies} | set(doc.errors))
    errors = {}
    for status in statuses:
        name, description, schema = COMMON_ERRORS[status]
        own = doc.errors.get(status)
        errors[str(status)] = _error_response(own, schema) if own else name
    return errors


@bp.get("/api/openapi.json")
@documented("meta", {200: ("The OpenAPI 3 document", {"type": "object"})}, public=True)
def openapi_document():
    """This document."""
    app = current_app._get_current_object()
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build_spec(app)
    return app.extensions["openapi"]
