"""a version number in each staff session, so signing out or a new password ends them all.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Sessions signed in before this revision name the account by id alone, which no longer
    # loads: everyone signs in once more.
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
