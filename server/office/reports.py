"""自主申报: the households' self-reports with their response times, and one report."""

from flask import render_template, request
from flask_login import current_user

from .. import access
from ..models import utcnow
from ..selfreport import reports
from ..selfreport.api import photo_response
from ..selfreport.labels import CATEGORY_LABELS, PRIORITY_LABELS, STATUS_LABELS
from .site import bp, office_page


@bp.context_processor
def _report_words():
    return {
        "categories": CATEGORY_LABELS,
        "statuses": STATUS_LABELS,
        "priorities": PRIORITY_LABELS,
    }


@bp.get("/reports")
@office_page
def reports_page():
    status = request.args.get("status", "open")
    if status not in reports.STATUS_FILTERS:
        status = "open"
    rows = reports.tasks(current_user, status, limit=500)
    return render_template(
        "office/reports.html",
        rows=rows,
        status=status,
        summary=reports.summary(current_user),
        now=utcnow(),
    )


@bp.get("/reports/<int:report_id>")
@office_page
def report_page(report_id: int):
    report = access.get_report(current_user, report_id)
    return render_template("office/report.html", report=report, now=utcnow())


@bp.get("/reports/<int:report_id>/photo")
@office_page
def report_photo(report_id: int):
    return photo_response(access.get_report(current_user, report_id))
