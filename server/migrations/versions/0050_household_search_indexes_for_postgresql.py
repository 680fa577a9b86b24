"""household search indexes for PostgreSQL

Revision ID: 0050
Revises: 0001
Create Date: 2026-11-27 05:07:34.195912

Text search on households (`q`) is `head_name LIKE '%text%' OR code LIKE 'text%'`. On
PostgreSQL a trigram GIN index serves the first and a pattern-ops btree the second (whatever the
database's collation), so a search no longer reads every household of the county. SQLite gets
nothing: it scans, which is fast enough at county scale (see bench/registry.py).

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0050'
down_revision = '0001'
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_household_head_name_trgm",
        "household",
        ["head_name"],
        postgresql_using="gin",
        postgresql_ops={"head_name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_household_code_pattern",
        "household",
        ["code"],
        postgresql_ops={"code": "varchar_pattern_ops"},
    )


def downgrade():
    if not _postgresql():
        return
    op.drop_index("ix_household_code_pattern", table_name="household")
    op.drop_index("ix_household_head_name_trgm", table_name="household")
    # The extension stays: other objects may use it, and dropping it needs more rights.
