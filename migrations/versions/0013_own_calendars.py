"""practitioners' own calendars: connections (ICS feeds, CalDAV accounts) and the busy times
read from them (start, end and an opaque key only).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('secret', sa.LargeBinary(), nullable=False),
    sa.Column('server_url', sa.String(length=2000), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('busy_calendars', sa.JSON(), nullable=False),
    sa.Column('push_calendar', sa.String(length=2000), nullable=False),
    sa.Column('etag', sa.String(length=200), nullable=False),
    sa.Column('last_modified', sa.String(length=100), nullable=False),
    sa.Column('covered_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sync_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outage_reported', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_calendar_connection_practitioner_id_practitioner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_connection'))
    )
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_connection_practitioner_id'), ['practitioner_id'], unique=False)

    op.create_table('external_busy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['calendar_connection.id'], name=op.f('fk_external_busy_connection_id_calendar_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_external_busy_practitioner_id_practitioner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_busy'))
    )
    with op.batch_alter_table('external_busy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_busy_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index('ix_external_busy_practitioner_ends', ['practitioner_id', 'ends_at'], unique=False)



def downgrade():
    with op.batch_alter_table('external_busy', schema=None) as batch_op:
        batch_op.drop_index('ix_external_busy_practitioner_ends')
        batch_op.drop_index(batch_op.f('ix_external_busy_connection_id'))

    op.drop_table('external_busy')
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_connection_practitioner_id'))

    op.drop_table('calendar_connection')
