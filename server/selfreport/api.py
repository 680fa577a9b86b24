"""The cadres' side of self-reports: their task list, and marking a report seen or handled."""

from flask import Blueprint, abort, request, send_file
from flask_login import current_user, login_required

from .. import access
from ..extensions import db
from ..schemas.selfreport import HandledSchema, ReportQuerySchema, ReportSchema
from . import photos, reports

bp = Blueprint("selfreport_api", __name__, url_prefix="/api")


@bp.get("/reports")
@login_required
def list_reports():
    """Household self-reports in the user's scope, as tasks.

    Open first; then urgent illness, disaster and need-help (priority 0), other urgent (1),
    the rest (2); oldest first within each.
    ---
    get:
      tags: [reports]
      parameters:
        - in: query
          schema: ReportQuerySchema
      responses:
        200:
          content:
            application/json:
              schema:
                type: array
                items: ReportSchema
        422: {description: Bad filter}
    """
    args = ReportQuerySchema().load(request.args)
    rows = reports.tasks(
        current_user, args["status"], args.get("household_id"), limit=args["limit"]
    )
    return ReportSchema(many=True).dump(rows)


@bp.get("/reports/<int:report_id>")
@login_required
def get_report(report_id: int):
    """One self-report.
    ---
    get:
      tags: [reports]
      parameters:
        - {in: path, name: report_id, required: true, schema: {type: integer}}
      responses:
        200:
          content:
            application/json:
              schema: ReportSchema
        404: {description: No such report in your scope}
    """
    return ReportSchema().dump(access.get_report(current_user, report_id))


@bp.post("/reports/<int:report_id>/seen")
@login_required
def mark_seen(report_id: int):
    """Say the report has been read; the family's page then shows it as seen. Idempotent.
    ---
    post:
      tags: [reports]
      parameters:
        - {in: path, name: report_id, required: true, schema: {type: integer}}
      responses:
        200:
          content:
            application/json:
              schema: ReportSchema
        404: {description: No such report in your scope}
    """
    report = access.get_report(current_user, report_id)
    reports.mark_seen(report, current_user)
    db.session.commit()
    return ReportSchema().dump(report)


@bp.post("/reports/<int:report_id>/handled")
@login_required
def mark_handled(report_id: int):
    """Close the report with a note on what was done (a phone call, relief arranged...).
    ---
    post:
      tags: [reports]
      parameters:
        - {in: path, name: report_id, required: true, schema: {type: integer}}
      requestBody:
        content:
          application/json:
            schema: HandledSchema
      responses:
        200:
          content:
            application/json:
              schema: ReportSchema
        404: {description: No such report in your scope}
        422: {description: A note is required}
    """
    report = access.get_report(current_user, report_id)
    data = HandledSchema().load(request.get_json(silent=True) or {})
    reports.mark_handled(report, current_user, data["note"])
    db.session.commit()
    return ReportSchema().dump(report)


@bp.get("/reports/<int:report_id>/photo")
@login_required
def report_photo(report_id: int):
    """The photo sent with a report, re-encoded (no metadata), as JPEG.
    ---
    get:
      tags: [reports]
      parameters:
        - {in: path, name: report_id, required: true, schema: {type: integer}}
      responses:
        200:
          content:
            image/jpeg: {}
        404: {description: "No such report in your scope, or no photo"}
    """
    return photo_response(access.get_report(current_user, report_id))


def photo_response(report):
    if report.photo is None:
        abort(404)
    response = send_file(photos.path_for(report.photo.storage_key), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
