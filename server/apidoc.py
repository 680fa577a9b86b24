"""How an API view describes itself for the OpenAPI document (server/openapi.py builds it).

Apart from the builder, which imports views (auth, password_change) that use it.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class File:
    """An answer that is a file of this media type rather than JSON."""

    media_type: str


@dataclass(frozen=True)
class ApiDoc:
    tag: str
    # status: a Schema (class or instance) for JSON, a File, a description for no body, or
    # (description, Schema or File).
    responses: dict
    query: type | None = None  # a Schema read from the query string
    body: object = None  # the JSON body: a Schema, or an OpenAPI schema naming Schemas
    form: object = None  # a multipart/form-data body, the same way
    # The route's own errors: status -> its description here, or None for the common one.
    errors: dict = field(default_factory=dict)
    public: bool = False  # no sign-in needed


def documented(tag: str, responses: dict, *, errors=(), **kwargs):
    """Describe an API view for the OpenAPI document; `errors` is a list of statuses or a
    {status: description} dict of those only this route answers."""
    own = errors if isinstance(errors, dict) else dict.fromkeys(errors)

    def mark(view):
        view.api_doc = ApiDoc(tag, responses, errors=own, **kwargs)
        return view

    return mark
