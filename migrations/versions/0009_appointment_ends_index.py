"""an index on each practitioner's consults by end time, so free times skip the history.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Consults that end after the window's start: past consults all end before it, so this
    # range never reads a clinic's history (the starts_at index, bounded only above, does).
    op.create_index(
        'ix_appointment_practitioner_ends', 'appointment', ['practitioner_id', 'ends_at']
    )


def downgrade():
    op.drop_index('ix_appointment_practitioner_ends', table_name='appointment')
