"""intake safety: answers kept as revisions, flags kept once raised, alerts with an owner,
crisis lines per country, the follow-up promise and office hours.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 11:00:00

"""
from datetime import time

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

FOLLOWUP_TEXT = (
    "We have let the clinic know. Staff read these alerts in office hours, {hours}, and aim "
    "to contact you within {response}; if nobody has by then, a senior member of staff is "
    "told. We are not an emergency service and do not watch answers as they arrive, so if "
    "you need help sooner, use the numbers above."
)
OLD_CRISIS_TEXT = (
    "If you are thinking about harming yourself or are in danger, please get help now: "
    "call or text 988 (Suicide & Crisis Lifeline, US), or call your local emergency number. "
    "In an emergency call 911."
)
CRISIS_TEXT = (
    "If you are thinking about harming yourself or are in danger, please get help now: call "
    "your local emergency number (112 works across the European Union and in many other "
    "countries), or go to your nearest emergency department."
)


def upgrade():
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followup_text', sa.Text(), nullable=False, server_default=FOLLOWUP_TEXT))
        batch_op.add_column(sa.Column('office_days', sa.String(length=20), nullable=False, server_default='0,1,2,3,4'))
        batch_op.add_column(sa.Column('office_opens', sa.Time(), nullable=False, server_default='09:00:00'))
        batch_op.add_column(sa.Column('office_closes', sa.Time(), nullable=False, server_default='17:00:00'))
        batch_op.add_column(sa.Column('alert_escalate_minutes', sa.Integer(), nullable=False, server_default='120'))
    # The US-only text stays only where a clinic wrote its own; US patients now get 988/911 from
    # the United States' own entry.
    settings = sa.table('clinic_settings', sa.column('crisis_text', sa.Text))
    op.execute(settings.update().where(settings.c.crisis_text == OLD_CRISIS_TEXT).values(crisis_text=CRISIS_TEXT))

    with op.batch_alter_table('intake_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=False, server_default=''))

    op.create_table(
        'intake_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('section_id', sa.String(length=40), nullable=False),
        sa.Column('version', sa.String(length=20), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['response_id'], ['intake_response.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('response_id', 'number'),
    )
    op.create_index('ix_intake_revision_response_id', 'intake_revision', ['response_id'])
    # Answers saved before revisions were kept become each intake's first revision.
    op.execute(
        "INSERT INTO intake_revision (response_id, number, section_id, version, answers, saved_at) "
        "SELECT id, 1, '', version, answers, updated_at FROM intake_response"
    )

    op.create_table(
        'intake_flag_raised',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('level', sa.String(length=8), nullable=False),
        sa.Column('message', sa.String(length=300), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['response_id'], ['intake_response.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('response_id', 'code'),
    )
    op.create_index('ix_intake_flag_raised_response_id', 'intake_flag_raised', ['response_id'])

    op.create_table(
        'intake_alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('level', sa.String(length=8), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['acknowledged_by_id'], ['staff_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('appointment_id', 'kind'),
    )
    op.create_index('ix_intake_alert_appointment_id', 'intake_alert', ['appointment_id'])
    op.create_index('ix_intake_alert_due_at', 'intake_alert', ['due_at'])

    _alerts_for_urgent_consults()

    op.create_table(
        'crisis_line',
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('country'),
    )


def _alerts_for_urgent_consults():
    """Each consult already marked urgent gets the alert its answers raised, so staff can take
    it on. It was emailed when raised, so it has no escalation deadline."""
    appointment = sa.table('appointment', sa.column('id', sa.Integer), sa.column('urgent', sa.Boolean))
    response = sa.table(
        'intake_response',
        sa.column('appointment_id', sa.Integer),
        sa.column('answers', sa.JSON),
        sa.column('urgent_at', sa.DateTime(timezone=True)),
        sa.column('updated_at', sa.DateTime(timezone=True)),
    )
    alert = sa.table(
        'intake_alert',
        sa.column('appointment_id', sa.Integer),
        sa.column('kind', sa.String),
        sa.column('level', sa.String),
        sa.column('raised_at', sa.DateTime(timezone=True)),
        sa.column('action', sa.String),
        sa.column('note', sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(response.c.appointment_id, response.c.answers, response.c.urgent_at, response.c.updated_at)
        .join(appointment, appointment.c.id == response.c.appointment_id)
        .where(appointment.c.urgent.is_(True))
    ).all()
    for appointment_id, answers, urgent_at, updated_at in rows:
        answers = answers or {}
        kinds = []
        if answers.get('heart_now') == 'yes':
            kinds.append('emergency')
        if str(answers.get('phq9_9', '0')) in ('1', '2', '3') or not kinds:
            kinds.append('self_harm')  # the only other answer that marked a consult urgent
        for kind in kinds:
            connection.execute(
                alert.insert().values(
                    appointment_id=appointment_id,
                    kind=kind,
                    level='red',
                    raised_at=urgent_at or updated_at,
                    action='',
                    note='',
                )
            )


def downgrade():
    op.drop_table('crisis_line')
    op.drop_index('ix_intake_alert_due_at', table_name='intake_alert')
    op.drop_index('ix_intake_alert_appointment_id', table_name='intake_alert')
    op.drop_table('intake_alert')
    op.drop_index('ix_intake_flag_raised_response_id', table_name='intake_flag_raised')
    op.drop_table('intake_flag_raised')
    op.drop_index('ix_intake_revision_response_id', table_name='intake_revision')
    op.drop_table('intake_revision')
    with op.batch_alter_table('intake_response', schema=None) as batch_op:
        batch_op.drop_column('country')
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.drop_column('alert_escalate_minutes')
        batch_op.drop_column('office_closes')
        batch_op.drop_column('office_opens')
        batch_op.drop_column('office_days')
        batch_op.drop_column('followup_text')
