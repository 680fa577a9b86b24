"""imports: background import jobs and their refused rows, household entered_on

Revision ID: 0620
Revises: 0610
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0620'
down_revision = '0610'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('file_data', sa.LargeBinary(), nullable=True),
    sa.Column('town_name', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('check_counts', sa.JSON(), nullable=True),
    sa.Column('apply_counts', sa.JSON(), nullable=True),
    sa.Column('unknown_columns', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_import_job_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job'))
    )
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_job_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('import_row_error',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=32), nullable=True),
    sa.Column('column', sa.String(length=64), nullable=True),
    sa.Column('household_code', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['import_job.id'], name=op.f('fk_import_row_error_job_id_import_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_row_error'))
    )
    with op.batch_alter_table('import_row_error', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_row_error_job_id'), ['job_id'], unique=False)

    with op.batch_alter_table('household', schema=None) as batch_op:
        # Households already registered keep None: their months count as before.
        batch_op.add_column(sa.Column('entered_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_column('entered_on')
    with op.batch_alter_table('import_row_error', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_row_error_job_id'))
    op.drop_table('import_row_error')
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_job_created_by_id'))
    op.drop_table('import_job')
