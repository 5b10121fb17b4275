"""The outbox's and the audit log's filters, read from the query string."""

from wtforms import SelectChoice, SelectField

from clinic.web.fields import GetForm, known_choice


class OutboxFilterForm(GetForm):
    status = SelectField(
        "Status",
        default="any",
        validate_choice=False,
        choices=[
            SelectChoice("any", "Any status (failed and pending first)"),
            SelectChoice("failed", "Failed"),
            SelectChoice("pending", "Pending"),
            SelectChoice("sending", "Sending"),
            SelectChoice("sent", "Sent"),
            SelectChoice("dropped", "Dropped"),
            SelectChoice("logged", "Logged (no mail server)"),
        ],
        validators=[known_choice("Please choose one of the statuses listed.")],
    )


class AuditFilterForm(GetForm):
    action = SelectField(
        "Action",
        default="any",
        validate_choice=False,
        validators=[known_choice("There is no such action in the log.")],
    )
    staff = SelectField(
        "Staff member",
        default="any",
        validate_choice=False,
        validators=[known_choice("There is no such staff member.")],
    )

    def fill_in(self, actions, staff) -> None:
        """Offer the actions found in the log and every staff account."""
        self.action.choices = [SelectChoice("any", "Any action")] + [
            SelectChoice(a, a.replace("_", " ")) for a in actions
        ]
        self.staff.choices = [
            SelectChoice("any", "Anyone"),
            SelectChoice("unknown", "Unknown (no staff account)"),
        ] + [SelectChoice(str(s.id), s.email) for s in staff]
