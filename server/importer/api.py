"""The registry import over HTTP, for supervisors (their scope) and admins."""

from io import BytesIO

from flask import Blueprint, request, send_file
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import access
from ..apidoc import File, documented
from ..errors import ApiError
from ..extensions import db
from ..models import Town
from ..schemas.imports import ImportFormSchema, ImportReportSchema
from .errors import ImportFileError
from .service import import_file
from .template import template_bytes

bp = Blueprint("imports", __name__, url_prefix="/api/imports")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# ImportFormSchema reads the form's fields; the file itself comes from request.files.
IMPORT_FORM = {
    "allOf": [
        ImportFormSchema,
        {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}},
        },
    ]
}


@bp.post("")
@login_required
@documented("registry", {200: ImportReportSchema}, form=IMPORT_FORM, errors=[403])
def import_households():
    """Import households from an XLSX or CSV file, within the user's scope.

    Households are written whole or not at all; refused rows come back as errors with the
    row number, the column and the reason.
    """
    access.require(access.can_edit_registry(current_user))
    form = ImportFormSchema().load(request.form)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(
            422,
            "validation_failed",
            "Some fields are not valid.",
            {"file": ["A file is required."]},
        )
    try:
        report = import_file(
            upload.read(),  # within MAX_CONTENT_LENGTH: no copy on disk
            town_name=form.get("town"),
            actor=current_user._get_current_object(),
            dry_run=form["dry_run"],
            source_name=upload.filename,
        )
    except ImportFileError as exc:
        fields = {"file": [str(exc.message)]}
        if exc.columns:
            fields["columns"] = exc.columns
        raise ApiError(422, "bad_file", str(exc.message), fields) from exc
    return ImportReportSchema().dump(report)


@bp.get("/template.xlsx")
@login_required
@documented("registry", {200: File(XLSX_TYPE)}, errors=[403])
def template():
    """The import template: header row, one example household, and a sheet of notes."""
    access.require(access.can_edit_registry(current_user))
    town = current_user.town.name if current_user.town else _only_town()
    return send_file(
        BytesIO(template_bytes(town)),
        mimetype=XLSX_TYPE,
        as_attachment=True,
        download_name="household-import-template.xlsx",
    )


def _only_town() -> str:
    names = db.session.scalars(select(Town.name).limit(2)).all()
    return names[0] if len(names) == 1 else "太河镇"
