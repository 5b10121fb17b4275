"""one-day overrides of practitioners' weekly hours.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # One row per practitioner and local day; its ranges (none: not working) in a child table.
    op.create_table('hours_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_hours_override_practitioner_id_practitioner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hours_override')),
    sa.UniqueConstraint('practitioner_id', 'day', name=op.f('uq_hours_override_practitioner_id'))
    )
    op.create_table('hours_override_range',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('override_id', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.ForeignKeyConstraint(['override_id'], ['hours_override.id'], name=op.f('fk_hours_override_range_override_id_hours_override'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hours_override_range'))
    )
    with op.batch_alter_table('hours_override_range', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hours_override_range_override_id'), ['override_id'], unique=False)


def downgrade():
    with op.batch_alter_table('hours_override_range', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hours_override_range_override_id'))
    op.drop_table('hours_override_range')
    op.drop_table('hours_override')
