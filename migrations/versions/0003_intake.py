"""intake questionnaire responses, urgent consults, the clinic's crisis text.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

CRISIS_TEXT = (
    "If you are thinking about harming yourself or are in danger, please get help now: "
    "call or text 988 (Suicide & Crisis Lifeline, US), or call your local emergency number. "
    "In an emergency call 911."
)


def upgrade():
    # Server defaults fill existing rows; the app always sets these columns itself.
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crisis_text', sa.Text(), nullable=False, server_default=CRISIS_TEXT))
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('intake_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('sections_done', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('urgent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_intake_response_appointment_id_appointment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_response')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_intake_response_appointment_id'))
    )


def downgrade():
    op.drop_table('intake_response')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('urgent')
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.drop_column('crisis_text')
