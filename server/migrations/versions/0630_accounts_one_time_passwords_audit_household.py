"""accounts: one-time passwords; the household of every audit event

Revision ID: 0630
Revises: 0620
Create Date: 2026-12-01 20:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0630"
down_revision = "0620"
branch_labels = None
depends_on = None

# Entities whose table holds the household's id; mirrors server/audit.py.
DIRECT = ("member", "support_measure", "data_conflict", "household_link", "self_report")


def upgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.add_column(sa.Column("household_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_audit_event_household", ["household_id", "id"], unique=False)
    op.execute("UPDATE audit_event SET household_id = entity_id WHERE entity = 'household'")
    for table in DIRECT:
        op.execute(
            f"UPDATE audit_event SET household_id = (SELECT t.household_id FROM {table} t "
            f"WHERE t.id = audit_event.entity_id) WHERE entity = '{table}'"
        )
    op.execute(
        "UPDATE audit_event SET household_id = (SELECT v.household_id FROM visit_flag f "
        "JOIN visit v ON v.id = f.visit_id WHERE f.id = audit_event.entity_id) "
        "WHERE entity = 'visit_flag'"
    )


def downgrade():
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_index("ix_audit_event_household")
        batch_op.drop_column("household_id")
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("must_change_password")
