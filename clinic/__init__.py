"""Clinic consult booking and intake site."""

import os

from flask import Flask

import config as config_module


def create_app(config_object=None) -> Flask:
    """Build the app. ``config_object`` defaults to the class named by ``CLINIC_ENV``."""
    app = Flask(
        __name__,
        instance_path=str(config_module.BASE_DIR / "instance"),
        template_folder=str(config_module.BASE_DIR / "templates"),
        static_folder=str(config_module.BASE_DIR / "static"),
    )
    app.config.from_object(config_object or config_module.from_environment())
    register_extensions(app)
    register_blueprints(app)
    register_templating(app)

    from clinic import cli
    from clinic.web import error_pages, headers, log_redaction, rate_limits, raw_query

    headers.init_app(app)
    raw_query.init_app(app)
    log_redaction.install(app.logger)
    rate_limits.init_app(app)
    error_pages.init_app(app)
    cli.init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    from clinic.core.database import configure_engine
    from clinic.core.extensions import csrf, db, limiter, login_manager, mail, migrate

    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.BASE_DIR / "migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    from clinic.availability import schedule_version
    from clinic.availability.busy_cache import BusyCache
    from clinic.availability.slot_cache import SlotCache
    from clinic.web import kept_answers, versioned_answers

    schedule_version.listen()  # raises versions as schedules change
    app.extensions["clinic.slot_cache"] = SlotCache()
    app.extensions["clinic.busy_cache"] = BusyCache()
    kept_answers.init_app(app)
    versioned_answers.init_app(app)


def register_blueprints(app: Flask) -> None:
    from clinic.api import bp as api_bp
    from clinic.booking import manage, routes  # noqa: F401 - manage adds its pages to booking's blueprint
    from clinic.calendar.routes import bp as calendar_bp
    from clinic.core.extensions import csrf
    from clinic.intake.routes import bp as intake_bp
    from clinic.public import bp as public_bp
    from clinic.staff import bp as staff_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(routes.bp)
    app.register_blueprint(intake_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # JSON API: no cookies, no session, nothing for CSRF to ride on
    if app.config.get("DEV_OUTBOX_PAGE"):
        from clinic.devtools import bp as devtools_bp

        app.register_blueprint(devtools_bp)


def register_templating(app: Flask) -> None:
    from clinic.core import formatting

    formatting.init_app(app)
