"""Staff accounts: made, signed in, passwords changed, signed out everywhere.

Each public function that writes owns its transaction."""

from __future__ import annotations

from datetime import datetime
from functools import cache

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from clinic.core.audit import audit
from clinic.core.database import begin_write
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import Practitioner, Role, StaffUser

MIN_PASSWORD_LENGTH = 12


def _hash_method() -> str:
    """How new passwords are hashed (PASSWORD_HASH_METHOD). A check reads the method from the
    stored hash, so hashes made by another method keep working."""
    return current_app.config["PASSWORD_HASH_METHOD"]


def _hash(password: str) -> str:
    return generate_password_hash(password, _hash_method())


@cache
def _dummy_hash(method: str) -> str:
    """Checked against when the email is unknown, so a wrong email takes as long as a wrong
    password: made by the method new passwords get, once per method."""
    return generate_password_hash("not a real password", method)


class AccountError(ClinicError, ValueError):
    """A plain-language reason an account could not be created or changed."""

    status = 422


def create_staff(
    email: str,
    role: str,
    password: str,
    name: str = "",
    practitioner_id: int | None = None,
) -> StaffUser:
    email = email.strip().lower()
    if role not in {r.value for r in Role}:
        raise AccountError(f"The role must be one of {', '.join(r.value for r in Role)}.")
    if "@" not in email or len(email) > 254:
        raise AccountError("Please give a valid email address.")
    check_new_password(password)
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
        raise AccountError(f"There is already a staff account for {email}.")
    if role == Role.PRACTITIONER:
        if practitioner_id is None:
            practitioner_id = db.session.scalar(
                sa.select(Practitioner.id).where(sa.func.lower(Practitioner.email) == email)
            )
        if practitioner_id is None or db.session.get(Practitioner, practitioner_id) is None:
            raise AccountError(
                "A practitioner account must be linked to a practitioner: use the "
                "practitioner's own email address or give --practitioner ID."
            )
    user = StaffUser(
        email=email,
        name=name,
        role=role,
        practitioner_id=practitioner_id if role == Role.PRACTITIONER else None,
        password_hash=_hash(password),
    )
    db.session.add(user)
    db.session.commit()
    return user


def practitioners_without_account() -> list[Practitioner]:
    """Active practitioners (who get intake alerts about their consults) with no active
    practitioner account linked to them, so nobody can open those alerts as them."""
    linked = (
        sa.select(StaffUser.id)
        .where(
            StaffUser.practitioner_id == Practitioner.id,
            StaffUser.role == Role.PRACTITIONER.value,
            StaffUser.active.is_(True),
        )
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(Practitioner)
            .where(Practitioner.active.is_(True), ~linked)
            .order_by(Practitioner.name, Practitioner.id)
        )
    )


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"Please choose a password of at least {MIN_PASSWORD_LENGTH} characters."
        )


def authenticate(email: str, password: str, now: datetime, *, address: str) -> StaffUser | None:
    """The active account matching ``email`` and ``password``; every attempt is audited."""
    begin_write()  # it writes after reading: take SQLite's write lock first, not mid-way
    email = email.strip().lower()
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
    stored = user.password_hash if user else _dummy_hash(_hash_method())
    matches = check_password_hash(stored, password)
    if user is None or not matches or not user.active:
        reason = "disabled account" if user is not None and matches else "wrong email or password"
        audit("sign_in_failed", user, subject=email[:120], detail=reason, now=now, address=address)
        return None
    user.last_sign_in_at = now
    audit("sign_in", user, now=now, address=address)
    return user


def change_password(
    user: StaffUser, current: str, new: str, now: datetime, *, address: str
) -> None:
    begin_write()
    if not check_password_hash(user.password_hash, current):
        raise AccountError("Your current password isn't right.")
    check_new_password(new)
    user.password_hash = _hash(new)
    user.session_version += 1  # a new password ends the account's other sessions
    audit("password_changed", user, now=now, address=address)


def end_sessions(user: StaffUser, now: datetime, *, address: str) -> None:
    """Sign the account out everywhere: every session cookie it was given stops working."""
    begin_write()
    user.session_version += 1
    audit("signed_out", user, now=now, address=address)
