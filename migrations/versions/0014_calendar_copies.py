"""consults copied into practitioners' own CalDAV calendars (a durable queue, one row per
consult and calendar), the calendars each CalDAV account holds, and a version of each
practitioner's busy times.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:31:15.581376

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('uid', sa.String(length=255), nullable=False),
    sa.Column('href', sa.String(length=2300), nullable=False),
    sa.Column('written_sequence', sa.Integer(), nullable=True),
    sa.Column('etag', sa.String(length=200), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_calendar_copy_appointment_id_appointment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['connection_id'], ['calendar_connection.id'], name=op.f('fk_calendar_copy_connection_id_calendar_connection'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_copy')),
    sa.UniqueConstraint('connection_id', 'uid', name=op.f('uq_calendar_copy_connection_id'))
    )
    with op.batch_alter_table('calendar_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_copy_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index('ix_calendar_copy_due', ['due_at'], unique=False)

    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendars', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('busy_version', sa.Integer(), nullable=False, server_default='0'))



def downgrade():
    # Not in batch mode: on SQLite that copies the table, and other tables' foreign keys to
    # it refuse the copy's DROP TABLE. (SQLite has dropped columns itself since 3.35.)
    op.drop_column('practitioner', 'busy_version')

    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.drop_column('calendars')

    with op.batch_alter_table('calendar_copy', schema=None) as batch_op:
        batch_op.drop_index('ix_calendar_copy_due')
        batch_op.drop_index(batch_op.f('ix_calendar_copy_appointment_id'))

    op.drop_table('calendar_copy')
