"""The clinic's one row of settings, for every layer (booking, email, intake, staff)."""

from __future__ import annotations

from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import ClinicSettings


class NotSetUp(ClinicError):
    """The clinic has no settings, consult type or practitioner yet."""

    status = 503


def clinic_settings() -> ClinicSettings:
    settings = db.session.get(ClinicSettings, 1)
    if settings is None:
        raise NotSetUp("The clinic has not been set up yet.")
    return settings
