"""tasks: report response deadlines, needs-action items for open conflicts and reports

Items used to be raised when the needs-action page was opened; they are now raised where
conflicts and reports are stored. This raises the missing ones for conflicts and reports
still open, and gives open reports their deadline by the town's working days.

Revision ID: 0610
Revises: 0500
Create Date: 2026-12-01 20:40:00

"""
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

from server.workdays import deadline  # a pure function of the calendar: no app needed

# revision identifiers, used by Alembic.
revision = '0610'
down_revision = '0500'
branch_labels = None
depends_on = None

ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = {"normal": 5, "urgent": 1}


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _town_settings(raw) -> dict:
    if isinstance(raw, str):
        raw = json.loads(raw)
    return raw or {}


def _deadlines(bind) -> None:
    rows = bind.execute(sa.text(
        "SELECT r.id, r.urgent, r.received_at, t.settings FROM self_report r"
        " JOIN household h ON h.id = r.household_id JOIN village v ON v.id = h.village_id"
        " JOIN town t ON t.id = v.town_id WHERE r.handled_at IS NULL AND r.due_at IS NULL"
    )).all()
    for report_id, urgent, received_at, raw in rows:
        town = _town_settings(raw)
        days = DEFAULT_DAYS | (town.get("report_response_days") or {})
        due = deadline(
            _aware(received_at), days["urgent" if urgent else "normal"], ZONE,
            town.get("extra_holidays") or (), town.get("extra_workdays") or (),
        )
        bind.execute(
            sa.text("UPDATE self_report SET due_at = :due WHERE id = :id"),
            {"due": due, "id": report_id},
        )


def _raise_items(bind) -> None:
    missing = "NOT EXISTS (SELECT 1 FROM needs_action n WHERE n.source = '{0}' AND n.source_id = s.id)"
    detail = {"postgresql": "json_build_object('field', {0})", "sqlite": "json_object('field', {0})"}
    as_json = detail[bind.dialect.name]
    bind.execute(sa.text(
        "INSERT INTO needs_action (household_id, source, source_id, reason, detail, raised_at)"
        f" SELECT s.household_id, 'conflict', s.id, 'conflict', {as_json.format('s.field')},"
        f" s.created_at FROM data_conflict s WHERE s.resolved_at IS NULL AND {missing.format('conflict')}"
    ))
    bind.execute(sa.text(
        "INSERT INTO needs_action (household_id, source, source_id, reason, detail, raised_at)"
        f" SELECT s.household_id, 'report', s.id, 'report', {as_json.format('s.category')},"
        f" s.received_at FROM self_report s WHERE s.handled_at IS NULL AND {missing.format('report')}"
    ))


def upgrade():
    with op.batch_alter_table('self_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    _deadlines(bind)
    _raise_items(bind)


def downgrade():
    with op.batch_alter_table('self_report', schema=None) as batch_op:
        batch_op.drop_column('due_at')
