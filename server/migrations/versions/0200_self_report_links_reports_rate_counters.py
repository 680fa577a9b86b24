"""self-report links, reports, rate counters

Revision ID: 0200
Revises: 0100
Create Date: 2026-11-27 04:53:09.853046

uq_household_link_live is a partial unique index (both databases have them): one live
door-card link per household, while revoked links stay as history.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0200'
down_revision = '0100'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_counter',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('window_start', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_counter'))
    )
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_counter_expires_at'), ['expires_at'], unique=False)

    op.create_table('household_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('card_rendered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_household_link_created_by_id_user')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_household_link_household_id_household')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_household_link_revoked_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_household_link_token_hash'))
    )
    with op.batch_alter_table('household_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_link_household_id'), ['household_id'], unique=False)
        batch_op.create_index('uq_household_link_live', ['household_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.create_table('self_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=9), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('form_nonce', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('callback_phone', sa.String(length=20), nullable=True),
    sa.Column('photo_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seen_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_note', sa.Text(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("category IN ('illness','disaster','work','housing','schooling','harvest','need_help','other')", name=op.f('ck_self_report_category')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user.id'], name=op.f('fk_self_report_handled_by_id_user')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_self_report_household_id_household')),
    sa.ForeignKeyConstraint(['link_id'], ['household_link.id'], name=op.f('fk_self_report_link_id_household_link')),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_self_report_photo_id_photo')),
    sa.ForeignKeyConstraint(['seen_by_id'], ['user.id'], name=op.f('fk_self_report_seen_by_id_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_self_report_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_report')),
    sa.UniqueConstraint('form_nonce', name=op.f('uq_self_report_form_nonce')),
    sa.UniqueConstraint('reference', name=op.f('uq_self_report_reference'))
    )
    with op.batch_alter_table('self_report', schema=None) as batch_op:
        batch_op.create_index('ix_self_report_household_received', ['household_id', 'received_at'], unique=False)
        batch_op.create_index('ix_self_report_open', ['handled_at', 'priority', 'received_at'], unique=False)



def downgrade():
    with op.batch_alter_table('self_report', schema=None) as batch_op:
        batch_op.drop_index('ix_self_report_open')
        batch_op.drop_index('ix_self_report_household_received')

    op.drop_table('self_report')
    with op.batch_alter_table('household_link', schema=None) as batch_op:
        batch_op.drop_index('uq_household_link_live', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_household_link_household_id'))

    op.drop_table('household_link')
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_counter_expires_at'))

    op.drop_table('rate_counter')
