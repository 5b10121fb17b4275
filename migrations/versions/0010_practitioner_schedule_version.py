"""a schedule version on each practitioner, raised with every change to their free times.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:50:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('schedule_version', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade():
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.drop_column('schedule_version')
