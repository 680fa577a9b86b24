"""导入: the registry import in the browser. Upload a file; its check (a dry run) shows what
would be new, changed, unchanged or refused; then it is applied. Both run in the background
(server/importer/jobs.py) and the job's page follows them."""

from io import BytesIO

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from .. import access
from ..auth import check_form_csrf
from ..extensions import db
from ..importer import jobs
from ..importer.error_sheet import error_workbook
from ..importer.errors import ImportFileError
from ..importer.report import counts_change_something
from ..models import ImportJob, ImportRowError, Town
from .site import bp, office_page

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECENT_JOBS = 20
REFRESH_SECONDS = 2  # while a job runs, its page reloads itself (no script needed)


STATE_LABELS = {
    "checking": _("Checking"),
    "checked": _("Checked: waiting to be applied"),
    "applying": _("Importing"),
    "applied": _("Imported"),
    "failed": _("Not imported"),
}


def state_label(job: ImportJob) -> str:
    if jobs.interrupted(job):
        return gettext("Interrupted")
    return str(STATE_LABELS[job.state])


def _job(job_id: int) -> ImportJob:
    """The user's job, or 404 as for a job that does not exist."""
    job = db.session.scalar(
        select(ImportJob).where(ImportJob.id == job_id, access.import_job_condition(current_user))
    )
    if job is None:
        abort(404)
    return job


def _towns() -> list[str]:
    if current_user.role != "admin":
        return []
    return list(db.session.scalars(select(Town.name).order_by(Town.name)))


@bp.get("/import")
@office_page
def imports(problem=None, status=200):
    access.require(access.can_edit_registry(current_user))
    recent = db.session.scalars(
        select(ImportJob)
        .where(access.import_job_condition(current_user))
        .order_by(ImportJob.id.desc())
        .limit(RECENT_JOBS)
    ).all()
    page = render_template(
        "office/import.html",
        jobs=recent,
        towns=_towns(),
        problem=problem,
        state_label=state_label,
    )
    return page, status


@bp.post("/import")
@office_page
def upload():
    access.require(access.can_edit_registry(current_user))
    check_form_csrf()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return imports(gettext("Choose a registry file (XLSX or CSV) to upload."), 400)
    data = upload.read()
    if not data:
        return imports(gettext("The file is empty."), 400)
    town = request.form.get("town", "").strip() or None
    if town is not None and town not in _towns():
        return imports(gettext("Choose a town from the list."), 400)
    job = jobs.create(data, upload.filename, current_user._get_current_object(), town)
    return redirect(url_for("office.import_job", job_id=job.id), 303)


@bp.get("/import/<int:job_id>")
@office_page
def import_job(job_id: int):
    job = _job(job_id)
    stopped = jobs.interrupted(job)
    running = job.state in ("checking", "applying") and not stopped
    query = (
        select(ImportRowError)
        .where(ImportRowError.job_id == job.id)
        .order_by(ImportRowError.row, ImportRowError.id)
    )
    errors = db.session.scalars(query).all()
    refused_households = db.session.scalar(
        select(func.count(func.distinct(ImportRowError.household_code))).where(
            ImportRowError.job_id == job.id
        )
    )
    return render_template(
        "office/import_job.html",
        job=job,
        running=running,
        interrupted=stopped,
        errors=errors,
        refused_households=refused_households,
        refresh=REFRESH_SECONDS if running else None,
        state_label=state_label,
        file_kept=jobs.has_file(job),
        changes_something=counts_change_something(job.check_counts or {}),
    )


@bp.post("/import/<int:job_id>/apply")
@office_page
def apply_import(job_id: int):
    job = _job(job_id)
    check_form_csrf()
    if job.state != "checked":
        abort(409, gettext("Only a checked import can be applied."))
    if not counts_change_something(job.check_counts or {}):
        abort(
            409,
            gettext(
                "Nothing in this file would change the registry, so there is nothing to import."
            ),
        )
    if not jobs.has_file(job):
        abort(409, gettext("The uploaded file was deleted a day after its check. Upload it again."))
    jobs.apply(job)
    return redirect(url_for("office.import_job", job_id=job.id), 303)


@bp.post("/import/<int:job_id>/run-again")
@office_page
def run_import_again(job_id: int):
    job = _job(job_id)
    check_form_csrf()
    if not jobs.interrupted(job):
        abort(409, gettext("Only an interrupted import can be run again."))
    if not jobs.has_file(job):
        abort(
            409,
            gettext(
                "The uploaded file was deleted a day after the import stopped. Upload it again."
            ),
        )
    jobs.run_again(job)
    return redirect(url_for("office.import_job", job_id=job.id), 303)


@bp.get("/import/<int:job_id>/errors.xlsx")
@office_page
def import_errors(job_id: int):
    job = _job(job_id)
    if not jobs.has_file(job):
        abort(
            409,
            gettext(
                "The file was deleted a day after the import; its page lists the refused rows."
            ),
        )
    stem = job.file_name.rsplit(".", 1)[0] or "import"
    try:
        workbook = error_workbook(job)
    except ImportFileError:
        abort(409, gettext("This file could not be read, so it has no rows to list."))
    return send_file(
        BytesIO(workbook),
        mimetype=XLSX_TYPE,
        as_attachment=True,
        download_name=f"{stem}-errors.xlsx",
    )
