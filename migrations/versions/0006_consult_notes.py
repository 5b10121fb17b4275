"""internal notes on consults, written by staff.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 16:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consult_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_consult_note_appointment_id_appointment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_consult_note_staff_user_id_staff_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consult_note'))
    )
    with op.batch_alter_table('consult_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consult_note_appointment_id'), ['appointment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('consult_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consult_note_appointment_id'))
    op.drop_table('consult_note')
