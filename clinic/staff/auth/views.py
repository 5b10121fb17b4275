"""Signing in and out, and changing one's password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import OperationalError

from clinic.accounts.services import AccountError, authenticate, change_password, end_sessions
from clinic.core.clock import utc_now
from clinic.core.extensions import db, limiter, login_manager
from clinic.core.models import StaffUser
from clinic.staff import bp
from clinic.staff.auth.forms import ChangePasswordForm, SignInForm
from clinic.web.client_address import client_address


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """The account a session names, if that session has not been ended since ("id:version")."""
    number, _, version = user_id.partition(":")
    if not (number.isascii() and number.isdecimal() and version.isascii() and version.isdecimal()):
        return None
    user = db.session.get(StaffUser, int(number))
    if user is None or user.session_version != int(version):
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _account_key() -> str:
    return "sign-in:" + request.form.get("email", "").strip().lower()[:254]


def _failed(response) -> bool:
    return response.status_code != 303


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["SIGN_IN_ADDRESS_LIMIT"],
    methods=["POST"],
    error_message="Too many sign-in attempts from your network. Please wait a few minutes, "
    "then try again.",
)
@limiter.limit(
    lambda: current_app.config["SIGN_IN_ACCOUNT_LIMIT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    error_message="Too many failed sign-ins for this account. Please wait 15 minutes, "
    "then try again, or ask an admin to help.",
)
def sign_in():
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("staff.home"), code=303)
    form = SignInForm()
    status, message = 200, None
    if form.validate_on_submit():
        user = authenticate(
            form.email.data, form.password.data, utc_now(), address=client_address()
        )
        if user is not None:
            login_user(user)
            return redirect(target or url_for("staff.home"), code=303)
        status, message = 401, "That email and password don't match an active staff account."
    elif form.is_submitted():
        status = 422
    return render_template("staff/sign_in.html", form=form, message=message, next=target), status


@bp.post("/sign-out")
@login_required
def sign_out():
    """Ends every session of the account (on this browser and any other), then this one."""
    try:
        end_sessions(current_user, utc_now(), address=client_address())
    except OperationalError:  # the database is busy or away: this browser signs out anyway
        db.session.rollback()
        logout_user()
        flash(
            "You have signed out on this browser. Your sessions elsewhere could not be ended "
            "just now: sign in and out again later to end them."
        )
        return redirect(url_for("staff.sign_in"), code=303)
    logout_user()
    flash("You have signed out.")
    return redirect(url_for("staff.sign_in"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    status, message = 200, None
    if form.validate_on_submit():
        try:
            user = current_user._get_current_object()
            change_password(
                user, form.current.data, form.new.data, utc_now(), address=client_address()
            )
            login_user(user)  # this browser stays signed in; every other session has ended
        except AccountError as problem:
            db.session.rollback()
            status, message = 422, str(problem)
        else:
            flash("Your password has been changed.")
            return redirect(url_for("staff.home"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("staff/password.html", form=form, message=message), status
