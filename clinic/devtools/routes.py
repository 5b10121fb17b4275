import sqlalchemy as sa
from flask import Response, abort, render_template

from clinic.core.extensions import db
from clinic.core.models import OutboxMessage
from clinic.devtools import bp
from clinic.notify.compose import compose


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.appointment is None:
        abort(404, description="There is no such message in the outbox.")
    return message


@bp.get("/outbox")
def outbox():
    """Every message in the outbox, newest first, with its state."""
    messages = db.session.scalars(
        sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
    ).all()
    return render_template("devtools/outbox.html", messages=messages)


@bp.get("/outbox/<int:message_id>")
def message(message_id: int):
    message = _message_or_404(message_id)
    return render_template("devtools/message.html", message=message, composed=compose(message))


@bp.get("/outbox/<int:message_id>/email.html")
def message_html(message_id: int):
    """The HTML part exactly as the recipient's mail program would get it."""
    return Response(compose(_message_or_404(message_id)).html, mimetype="text/html")


@bp.get("/outbox/<int:message_id>/invite.ics")
def message_invite(message_id: int):
    invite = compose(_message_or_404(message_id)).invite
    if invite is None:
        abort(404, description="This message carries no invite.")
    return Response(invite.calendar, mimetype="text/calendar")
