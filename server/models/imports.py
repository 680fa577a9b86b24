"""Registry imports run in the background: the uploaded file, the state, the refused rows."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

# What a job is doing or has done. A check is a dry run; only a checked job is applied.
JOB_STATES = ("checking", "checked", "applying", "applied", "failed")
RUNNING_STATES = ("checking", "applying")


class ImportJob(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    # The file itself, kept until the job is applied: a worker on any machine can read it,
    # and nothing is left on a disk when a run is interrupted.
    file_data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    town_name: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="checking")
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)  # 0 while the file is read
    # The counts of the check and of the import (ImportReport.counts()), and the headers
    # the importer does not know.
    check_counts: Mapped[dict | None] = mapped_column(JSON)
    apply_counts: Mapped[dict | None] = mapped_column(JSON)
    unknown_columns: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)  # why the file cannot be imported at all
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Moved on at every step of a run: a running job whose heartbeat stopped was interrupted.
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ImportRowError(db.Model):
    """One refused row of a job's latest run, every one of them (the report keeps 1,000)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_job.id", ondelete="CASCADE"), index=True)
    row: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(32))
    column: Mapped[str | None] = mapped_column(String(64))
    household_code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
