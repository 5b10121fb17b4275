"""the calendar feed's last served fingerprint and when it was first served, for conditional GETs.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # Both empty until the feed is next fetched, which then answers in full and fills them.
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_fingerprint', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('feed_changed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.drop_column('feed_changed_at')
        batch_op.drop_column('feed_fingerprint')
