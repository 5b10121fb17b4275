"""per-practitioner calendar feeds, and the clinic's choice of names in them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 13:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Server defaults fill existing rows; the app always sets these columns itself.
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_salt', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_practitioner_calendar_token_hash'), ['calendar_token_hash'])
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_full_names', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.drop_column('feed_full_names')
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_practitioner_calendar_token_hash'), type_='unique')
        batch_op.drop_column('calendar_token_hash')
        batch_op.drop_column('calendar_salt')
