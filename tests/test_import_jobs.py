"""The registry import in the browser: upload, check (a dry run), refused rows, apply, the
refused rows as XLSX, jobs that are interrupted and run again, and a real queue worker."""

import io
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from server import jobs as queue
from server.extensions import db
from server.importer import jobs, service
from server.models import AuditEvent, Household, ImportJob, ImportRowError, utcnow
from tests.test_import import HEADER, household, person, registry_rows, row, write_xlsx

ROOT = Path(__file__).resolve().parent.parent
# Scratch files an import could leave: ours, and SQLite's temporary databases. (Other
# programs on the machine write to the same folder meanwhile.)
SCRATCH_PREFIXES = ("zoufang", "etilqs")


def xlsx_bytes(rows, header=HEADER) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, rows, header=header)
    return buffer.getvalue()


def upload_page(client, data: bytes, name="户籍.xlsx", **form):
    fields = {"file": (io.BytesIO(data), name), "csrf_token": client.csrf, **form}
    return client.client.post("/office/import", data=fields, content_type="multipart/form-data")


def post_form(client, url):
    return client.client.post(url, data={"csrf_token": client.csrf})


def rows_with_bad_ones() -> list[list]:
    wrong_check = person(61)[:17] + ("0" if person(61)[17] != "0" else "1")
    return [
        *registry_rows(),
        row("X001", "城子村", "甲", "甲", person(60), "户主"),
        row("X001", "城子村", "甲", "乙", wrong_check, "配偶"),  # refuses X001, both rows
        row("X002", "城子村", "丙", "丙", person(62), "户主", klass="E"),
    ]


def latest_job() -> ImportJob:
    db.session.expire_all()
    return db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))


def test_upload_checks_first_then_applies_and_lists_every_refused_row(world, login):
    client = login("town_supervisor")
    response = upload_page(client, xlsx_bytes(rows_with_bad_ones()))
    assert response.status_code == 303
    job = latest_job()
    assert job.state == "checked"
    assert household("T001") is None  # the check wrote nothing
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-count="households_created">3<' in page
    assert 'data-count="households_rejected">2<' in page
    assert "X001" in page and "X002" in page
    assert "校验位" in page  # the reason, in Chinese

    response = post_form(client, f"/office/import/{job.id}/apply")
    assert response.status_code == 303
    job = latest_job()
    assert job.state == "applied"
    assert job.apply_counts["households_created"] == 3
    assert household("T001") is not None and household("X001") is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "registry"))
    assert event.actor_id == world.users["town_supervisor"].id
    assert event.reason == "import 户籍.xlsx"


def test_the_refused_rows_download_as_the_original_rows_with_a_reason(world, login):
    client = login("town_supervisor")
    upload_page(client, xlsx_bytes(rows_with_bad_ones()))
    job = latest_job()
    response = client.get(f"/office/import/{job.id}/errors.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0][1:-1]) == HEADER
    by_row = {line[0]: line for line in values[1:]}
    assert sorted(by_row) == [7, 8, 9]  # both rows of X001, the row of X002
    assert by_row[8][1:6] == ("X001", "城子村", "甲", "乙", rows_with_bad_ones()[6][4])
    assert "校验位" in by_row[8][-1]
    assert "第8行" in by_row[7][-1]  # a good row of a refused household says why
    assert "A、B、C、D" in by_row[9][-1]  # the class E


def test_every_refused_row_is_kept_past_the_reports_cap(world, login):
    bad = [
        row(f"Z{n:04d}", "城子村", "甲", "甲", person(2000 + n), "户主", klass="E")
        for n in range(1200)
    ]
    client = login("town_supervisor")
    upload_page(client, xlsx_bytes(bad))
    job = latest_job()
    stored = select(func.count()).where(ImportRowError.job_id == job.id)
    assert db.session.scalar(stored) == 1200  # the report itself lists 1,000
    assert job.check_counts["households_rejected"] == 1200
    sheet = load_workbook(io.BytesIO(client.get(f"/office/import/{job.id}/errors.xlsx").data))
    assert sheet.active.max_row == 1 + 1200


def test_unknown_columns_are_named_before_anything_is_written(world, login):
    header = [*HEADER, "备注", "帮扶成效"]
    rows = [[*r, "低保户", "良好"] for r in registry_rows()]
    client = login("town_supervisor")
    response = upload_page(client, xlsx_bytes(rows, header=header))
    job = latest_job()
    assert (job.state, job.unknown_columns) == ("checked", ["备注", "帮扶成效"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "备注、帮扶成效" in page
    assert household("T001") is None


def test_jobs_of_others_answer_404(world, login):
    upload_page(login("town_supervisor"), xlsx_bytes(registry_rows()))
    job = latest_job()
    other = login("other_supervisor")
    for url in (f"/office/import/{job.id}", f"/office/import/{job.id}/errors.xlsx"):
        assert other.get(url).status_code == 404
    assert post_form(other, f"/office/import/{job.id}/apply").status_code == 404
    assert login("admin").get(f"/office/import/{job.id}").status_code == 200
    assert login("chengzi_cadre").get("/office/import").status_code == 403


def test_bad_uploads_get_a_sentence_and_change_nothing(world, login):
    client = login("town_supervisor")
    response = client.client.post(
        "/office/import", data={"csrf_token": client.csrf}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and "XLSX" in response.get_data(as_text=True)
    upload_page(client, b"\xd0\xcf\x11\xe0 an old xls", name="old.xls")
    job = latest_job()
    assert job.state == "failed" and ".xls" in job.message
    assert client.get(f"/office/import/{job.id}").status_code == 200
    assert client.get(f"/office/import/{job.id}/errors.xlsx").status_code == 409
    no_token = client.client.post("/office/import", data={"file": (io.BytesIO(b"x"), "a.csv")})
    assert no_token.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 1


class Interrupted(BaseException):
    """Stands for the worker being killed in the middle of a run."""


def test_an_interrupted_import_runs_again_to_finish_and_leaves_no_files(world, login, monkeypatch):
    rows = [
        row(f"R{n:03d}", "城子村", f"户{n}", f"户{n}", person(300 + n), "户主") for n in range(9)
    ]
    client = login("town_supervisor")
    upload_page(client, xlsx_bytes(rows))
    job = latest_job()
    scratch_before = set(os.listdir(tempfile.gettempdir()))
    monkeypatch.setattr(service, "CHUNK_HOUSEHOLDS", 3)
    real_progress = jobs.Recorder.progress

    def killed_after_the_first_chunk(self, done, total):
        real_progress(self, done, total)
        if 0 < done < total:
            raise Interrupted

    monkeypatch.setattr(jobs.Recorder, "progress", killed_after_the_first_chunk)
    with pytest.raises(Interrupted):
        post_form(client, f"/office/import/{job.id}/apply")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Household)) == 3 + 3
    job = latest_job()
    assert job.state == "applying" and not jobs.interrupted(job)
    assert post_form(client, f"/office/import/{job.id}/run-again").status_code == 409

    job.heartbeat_at -= jobs.STALE_AFTER  # the worker is gone: its heartbeat stopped
    db.session.commit()
    page = client.get(f"/office/import/{job.id}").get_data(as_text=True)
    assert 'data-state="interrupted"' in page
    monkeypatch.setattr(jobs.Recorder, "progress", real_progress)
    assert post_form(client, f"/office/import/{job.id}/run-again").status_code == 303
    job = latest_job()
    assert job.state == "applied"
    assert job.apply_counts["households_created"] == 6  # the three written before stay
    assert job.apply_counts["households_unchanged"] == 3
    assert {household(f"R{n:03d}").head_name for n in range(9)} == {f"户{n}" for n in range(9)}
    left = set(os.listdir(tempfile.gettempdir())) - scratch_before
    assert {name for name in left if name.startswith(SCRATCH_PREFIXES)} == set()


@pytest.fixture
def real_queue(app, tmp_path):
    """The app with a real queue file, and a `flask jobs worker` process serving it."""
    queue_file = tmp_path / "queue.sqlite3"
    app.config.update(JOBS_IMMEDIATE=False, QUEUE_FILE=str(queue_file))
    queue.init_app(app)
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "ZOUFANG_ENV": "test",
        "ZOUFANG_SECRET_KEY": "test-secret",
        "ZOUFANG_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "ZOUFANG_QUEUE_FILE": str(queue_file),
        "FLASK_APP": "server",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "jobs", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield worker
    worker.terminate()
    worker.wait(timeout=20)
    app.config["JOBS_IMMEDIATE"] = True
    queue.init_app(app)


def wait_for_state(job_id: int, state: str, worker, seconds: float = 60) -> ImportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        job = db.session.get(ImportJob, job_id)
        if job.state == state:
            return job
        assert worker.poll() is None, worker.stderr.read().decode()
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.state}")


def test_a_real_worker_runs_the_check_and_the_import(world, login, real_queue):
    client = login("town_supervisor")
    upload_page(client, xlsx_bytes(rows_with_bad_ones()))
    job = latest_job()
    assert job.state == "checking"  # queued: the web process did not run it
    page = client.get(f"/office/import/{job.id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page  # the page follows the job by itself
    job = wait_for_state(job.id, "checked", real_queue)
    assert job.check_counts["households_rejected"] == 2
    post_form(client, f"/office/import/{job.id}/apply")
    job = wait_for_state(job.id, "applied", real_queue)
    assert household("T002").klass == "C"
    assert 'http-equiv="refresh"' not in client.get(f"/office/import/{job.id}").get_data(
        as_text=True
    )


def test_a_gbk_csv_upload_is_checked_and_its_refused_rows_download(world, login, tmp_path):
    from tests.test_import import write_csv

    path = write_csv(tmp_path / "户籍.csv", rows_with_bad_ones(), encoding="gbk")
    client = login("town_supervisor")
    upload_page(client, path.read_bytes(), name="户籍.csv")
    job = latest_job()
    assert job.state == "checked" and job.check_counts["households_rejected"] == 2
    sheet = load_workbook(io.BytesIO(client.get(f"/office/import/{job.id}/errors.xlsx").data))
    lines = list(sheet.active.iter_rows(values_only=True))
    assert [line[1] for line in lines[1:]] == ["X001", "X001", "X002"]
    assert lines[2][3] == "甲"  # the file's own text, read as GBK


def _file_kept(job_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(ImportJob, job_id).file_data is not None


def test_an_uploaded_file_is_cleared_a_day_after_its_job_is_done_with(world, login):
    """The file holds ID numbers: kept a day after it is applied, or checked and left, or
    interrupted and left; then cleared, and the job's page says so instead of offering it."""
    client = login("town_supervisor")
    upload_page(client, xlsx_bytes(rows_with_bad_ones()), name="applied.xlsx")
    applied = latest_job()
    upload_page(client, xlsx_bytes(rows_with_bad_ones()), name="left.xlsx")
    left_checked = latest_job()  # checked while its households were still new
    post_form(client, f"/office/import/{applied.id}/apply")
    upload_page(client, xlsx_bytes(registry_rows()), name="stopped.xlsx")
    stopped = latest_job()
    db.session.execute(update(ImportJob).where(ImportJob.id == stopped.id).values(state="applying"))
    db.session.commit()
    ids = (applied.id, left_checked.id, stopped.id)

    assert jobs.clear_old_files() == 0  # done with just now: kept for the morning after
    assert all(_file_kept(i) for i in ids)
    assert client.get(f"/office/import/{applied.id}/errors.xlsx").status_code == 200

    assert jobs.clear_old_files(now=utcnow() + timedelta(days=1, minutes=1)) == 3
    assert not any(_file_kept(i) for i in ids)
    page = client.get(f"/office/import/{left_checked.id}").get_data(as_text=True)
    assert "已在检查一天后删除" in page and "apply" not in page
    assert "errors.xlsx" not in page and "X001" in page  # the refused rows are still listed
    refused = post_form(client, f"/office/import/{left_checked.id}/apply")
    assert refused.status_code == 409 and "请重新上传" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ImportJob, left_checked.id).state == "checked"  # nothing changed
    download = client.get(f"/office/import/{applied.id}/errors.xlsx")
    assert download.status_code == 409 and "未通过的行" in download.get_data(as_text=True)
    again = post_form(client, f"/office/import/{stopped.id}/run-again")
    assert again.status_code == 409


def test_a_running_job_keeps_its_file_however_long_it_takes(world, login):
    client = login("town_supervisor")
    upload_page(client, xlsx_bytes(registry_rows()))
    job = latest_job()
    db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id)
        .values(state="applying", heartbeat_at=utcnow() + timedelta(days=2))
    )
    db.session.commit()
    assert jobs.clear_old_files(now=utcnow() + timedelta(days=2)) == 0
    assert _file_kept(job.id)


def test_a_check_that_would_change_nothing_offers_no_import(world, login):
    client = login("town_supervisor")
    only_bad = rows_with_bad_ones()[len(registry_rows()) :]
    upload_page(client, xlsx_bytes(only_bad))
    job = latest_job()
    assert job.state == "checked" and job.check_counts["households_rejected"] == 2
    page = client.get(f"/office/import/{job.id}").get_data(as_text=True)
    assert "无需导入" in page and "/apply" not in page
    refused = post_form(client, f"/office/import/{job.id}/apply")
    assert refused.status_code == 409 and "无需导入" in refused.get_data(as_text=True)
    assert latest_job().state == "checked"
