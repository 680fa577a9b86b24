"""Background jobs, on a huey queue.

The embedded default keeps the queue in a SQLite file in the instance folder, so nothing
but the app is needed; set ZOUFANG_REDIS_URL and the queue lives in Redis instead (several
machines, one queue). The web process only enqueues; `flask jobs worker` runs the jobs (the
Procfile's `worker`, and `make run` starts one next to the web server). With
ZOUFANG_JOBS_IMMEDIATE a job runs at once in the process that enqueues it (unit tests).

A job's state and progress live in the application's database, not in the queue: a page can
show them from any process, and a job the queue lost can be run again from there.
"""

import logging
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from huey import Huey
from huey.storage import BaseStorage, MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

QUEUE_NAME = "zoufang"


class Queue(Huey):
    """A huey whose storage is chosen by the app's settings (init_app), not at import, when
    the tasks are declared on it."""

    configured: BaseStorage | None = None

    def create_storage(self) -> BaseStorage:
        if self._immediate or self.configured is None:
            return MemoryStorage(self.name)
        return self.configured


huey = Queue(QUEUE_NAME)

_app: Flask | None = None  # the app the tasks of this process run in


def init_app(app: Flask) -> None:
    global _app
    _app = app
    app.cli.add_command(jobs_cli)
    config = app.config
    if config["JOBS_IMMEDIATE"]:
        Queue.configured = None
    elif config["REDIS_URL"]:
        Queue.configured = RedisStorage(QUEUE_NAME, url=config["REDIS_URL"])
    else:
        filename = config["QUEUE_FILE"] or str(Path(app.instance_path) / "queue.sqlite3")
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        Queue.configured = SqliteStorage(QUEUE_NAME, filename=filename)
    huey.immediate = bool(config["JOBS_IMMEDIATE"])
    huey.storage = huey.create_storage()


def task_app() -> Flask:
    """The app a task runs in: this process's, or a new one (a bare huey_consumer)."""
    global _app
    if _app is None:
        from . import create_app

        _app = create_app()
    return _app


jobs_cli = AppGroup("jobs", help="Background jobs.")


@jobs_cli.command("worker")
@click.option("--workers", default=1, show_default=True, help="Jobs run at the same time.")
def worker(workers: int):
    """Run queued jobs until stopped (Ctrl-C, SIGTERM)."""
    if huey.immediate:
        raise click.ClickException("ZOUFANG_JOBS_IMMEDIATE is set: jobs run where enqueued.")
    # An idle worker looks at the queue at least every second (huey's default backs off to
    # ten): someone is watching the page of the job just uploaded.
    # Periodic tasks too: the hourly sweep of old import files (server/importer/jobs.py).
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=1.0
    )
    consumer.run()
