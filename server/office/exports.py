"""Downloads of the coverage table, the overdue list and the visits with their crops (the
writers are in server/coverage/exports.py)."""

from flask import Response, abort, stream_with_context
from flask_babel import gettext as _

from ..coverage.exports import (
    FORMATS,
    N_,
    content_disposition,
    coverage_rows,
    csv_chunks,
    overdue_rows,
    visit_rows,
    xlsx_chunks,
)
from ..coverage.labels import period_title
from .site import office_page
from .web import bp, klass_arg, period_arg, scope_arg

EXPORTS = {
    "coverage": N_("Coverage"),
    "overdue": N_("Overdue households"),
    "visits": N_("Visits and crops"),
}


def _scope_label(scope) -> str:
    if len(scope.villages) == 1:
        return f"{scope.groups[0][0].name}{scope.villages[0].name}"
    return "、".join(town.name for town, _villages in scope.groups)


@bp.get("/export/<what>.<fmt>")
@office_page
def export(what: str, fmt: str):
    if what not in EXPORTS or fmt not in FORMATS:
        abort(404)
    period = period_arg(allow_year=(what == "visits"))
    scope, klass = scope_arg(), klass_arg()
    rows = {
        "coverage": lambda: coverage_rows(scope, period),
        "overdue": lambda: overdue_rows(scope, period, klass),
        "visits": lambda: visit_rows(scope, period),
    }[what]()
    title = _(EXPORTS[what])
    filename = f"{title}_{_scope_label(scope)}_{period_title(period)}.{fmt}"
    body = csv_chunks(rows) if fmt == "csv" else xlsx_chunks(rows, title)
    response = Response(stream_with_context(body), mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response
