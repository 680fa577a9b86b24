"""Registry imports in the background: a job per uploaded file, checked first (a dry run
that writes nothing), then applied when its user says so.

The job's state, progress and every refused row are written to the database as the run goes
(on a connection of their own, so they are seen at once and survive a failed chunk), and the
uploaded file is kept with the job. An interrupted run (a worker killed, a machine
restarted) stops moving its heartbeat; running it again finishes it, because importing a file
twice changes nothing the first run already wrote.

The file holds every member's ID number, so it is not kept for good: a day after its job is
done with (applied, failed, checked and never applied, or interrupted and left), the worker's
hourly sweep clears it. The job, its counts and its refused rows stay.
"""

import logging
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _
from huey import crontab
from sqlalchemy import and_, delete, insert, or_, select, update

from .. import jobs
from ..extensions import db
from ..models import ImportJob, ImportRowError, User, utcnow
from .errors import ImportFileError, RowError
from .service import import_file

log = logging.getLogger(__name__)

# A run moves its heartbeat at least once per chunk of 500 households (seconds apart);
# one silent for this long has stopped.
STALE_AFTER = timedelta(minutes=2)
PHASES = {"check": ("checking", "checked"), "apply": ("applying", "applied")}
# Long enough to apply a checked file or download its refused rows the next morning.
KEEP_FILE_FOR = timedelta(days=1)


def create(data: bytes, file_name: str, actor: User, town_name: str | None) -> ImportJob:
    job = ImportJob(
        created_by_id=actor.id,
        file_name=file_name[:200],
        file_data=data,
        town_name=town_name or None,
        state="checking",
    )
    db.session.add(job)
    db.session.commit()
    _enqueue(job, "check")
    return job


def apply(job: ImportJob) -> None:
    """Write what the check showed (a checked job only)."""
    job.state, job.rows_done, job.rows_total = "applying", 0, 0
    job.heartbeat_at = utcnow()
    db.session.commit()
    _enqueue(job, "apply")


def run_again(job: ImportJob) -> None:
    """Run an interrupted job's phase again, from the start of the file."""
    job.heartbeat_at = utcnow()
    db.session.commit()
    _enqueue(job, "check" if job.state == "checking" else "apply")


def interrupted(job: ImportJob) -> bool:
    return job.state in ("checking", "applying") and job.heartbeat_at < utcnow() - STALE_AFTER


def has_file(job: ImportJob) -> bool:
    """Whether the uploaded file is still kept (without loading it)."""
    query = select(ImportJob.file_data.is_not(None)).where(ImportJob.id == job.id)
    return bool(db.session.scalar(query))


def clear_old_files(now=None) -> int:
    """Clear the files of jobs done with for KEEP_FILE_FOR; how many were cleared."""
    cutoff = (now or utcnow()) - KEEP_FILE_FOR
    finished = and_(
        ImportJob.state.in_(("applied", "failed", "checked")), ImportJob.finished_at < cutoff
    )
    left = and_(ImportJob.state.in_(("checking", "applying")), ImportJob.heartbeat_at < cutoff)
    statement = (
        update(ImportJob)
        .where(ImportJob.file_data.is_not(None), or_(finished, left))
        .values(file_data=None)
    )
    cleared = db.session.execute(statement).rowcount
    db.session.commit()
    if cleared:
        log.info("cleared the uploaded files of %s import jobs", cleared)
    return cleared


@jobs.huey.periodic_task(crontab(minute="5"))
def sweep_old_files() -> None:
    with jobs.task_app().app_context():
        clear_old_files()


def _enqueue(job: ImportJob, phase: str) -> None:
    run_job(job.id, phase)


@jobs.huey.task()
def run_job(job_id: int, phase: str) -> None:
    app = jobs.task_app()
    with app.app_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
        run(job_id, phase)


def run(job_id: int, phase: str) -> None:
    """One phase of a job, in the worker. A job no longer in that phase is left alone."""
    running, done = PHASES[phase]
    job = db.session.get(ImportJob, job_id)
    if job is None or job.state != running:
        return
    actor = db.session.get(User, job.created_by_id)
    data, file_name, town_name = job.file_data, job.file_name, job.town_name
    db.session.commit()  # hold no transaction open while reading the file
    recorder = Recorder(job_id)
    recorder.start()
    try:
        report = import_file(
            data,
            town_name=town_name,
            actor=actor,
            dry_run=phase == "check",
            source_name=file_name,
            progress=recorder.progress,
            reading=recorder.reading,
            every_error=recorder.errors,
        )
    except ImportFileError as exc:
        db.session.rollback()
        recorder.finish("failed", message=str(exc.message))
        return
    except Exception:
        db.session.rollback()
        log.exception("import job %s failed", job_id)
        recorder.finish("failed", message=str(_("The import stopped on an unexpected error.")))
        raise
    counts = report.counts()
    recorder.finish(done, **{f"{phase}_counts": counts}, unknown_columns=report.unknown_columns)


class Recorder:
    """Writes a run's progress and refused rows on a connection of its own."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.pending: list[dict] = []

    def start(self) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(ImportRowError).where(ImportRowError.job_id == self.job_id))
        self._set(rows_done=0, rows_total=0, message=None)

    def reading(self, rows: int) -> None:
        self._set(rows_done=rows)  # the total is not known while the file is read

    def progress(self, done: int, total: int) -> None:
        self._flush()
        self._set(rows_done=done, rows_total=total)

    def errors(self, errors: list[RowError]) -> None:
        self.pending += [
            {
                "job_id": self.job_id,
                "row": e.row,
                "field": e.field,
                "column": (e.column or "")[:64] or None,
                "household_code": (e.household_code or "")[:64] or None,
                "message": e.message,
            }
            for e in errors
        ]

    def finish(self, state: str, **values) -> None:
        self._flush()
        self._set(state=state, finished_at=utcnow(), **values)

    def _flush(self) -> None:
        if self.pending:
            with db.engine.begin() as connection:
                connection.execute(insert(ImportRowError), self.pending)
            self.pending = []

    def _set(self, **values) -> None:
        statement = update(ImportJob).where(ImportJob.id == self.job_id)
        with db.engine.begin() as connection:
            connection.execute(statement.values(heartbeat_at=utcnow(), **values))
