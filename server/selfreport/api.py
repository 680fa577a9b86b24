"""The cadres' side of self-reports: their task list, and marking a report seen or handled."""

from flask import Blueprint, Response, abort, request
from flask_login import current_user, login_required

from .. import access, storage
from ..apidoc import File, documented
from ..extensions import db
from ..schemas.selfreport import HandledSchema, ReportQuerySchema, ReportSchema
from . import reports

bp = Blueprint("selfreport_api", __name__, url_prefix="/api")


@bp.get("/reports")
@login_required
@documented("reports", {200: ReportSchema(many=True)}, query=ReportQuerySchema)
def list_reports():
    """Household self-reports in the user's scope, as tasks.

    Open first; then urgent illness, disaster and need-help (priority 0), other urgent (1),
    the rest (2); oldest first within each.
    """
    args = ReportQuerySchema().load(request.args)
    rows = reports.tasks(
        current_user, args["status"], args.get("household_id"), limit=args["limit"]
    )
    return ReportSchema(many=True).dump(rows)


@bp.get("/reports/<int:report_id>")
@login_required
@documented("reports", {200: ReportSchema})
def get_report(report_id: int):
    """One self-report."""
    return ReportSchema().dump(access.get_report(current_user, report_id))


@bp.post("/reports/<int:report_id>/seen")
@login_required
@documented("reports", {200: ReportSchema})
def mark_seen(report_id: int):
    """Say the report has been read; the family's page then shows it as seen. Idempotent."""
    report = access.get_report(current_user, report_id)
    reports.mark_seen(report, current_user)
    db.session.commit()
    return ReportSchema().dump(report)


@bp.post("/reports/<int:report_id>/handled")
@login_required
@documented("reports", {200: ReportSchema}, body=HandledSchema)
def mark_handled(report_id: int):
    """Close the report with a note on what was done (a phone call, relief arranged...)."""
    report = access.get_report(current_user, report_id)
    data = HandledSchema().load(request.get_json(silent=True) or {})
    reports.mark_handled(report, current_user, data["note"])
    db.session.commit()
    return ReportSchema().dump(report)


@bp.get("/reports/<int:report_id>/photo")
@login_required
@documented(
    "reports", {200: File("image/jpeg")}, errors={404: "No such report in your scope, or no photo"}
)
def report_photo(report_id: int):
    """The photo sent with a report, re-encoded (no metadata), as JPEG."""
    return photo_response(access.get_report(current_user, report_id))


def photo_response(report):
    if report.photo is None:
        abort(404)
    response = Response(storage.current().get(report.photo.storage_key), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
