from flask import render_template

from clinic.availability.open_times import active_practitioners, consult_type
from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.public import bp


@bp.get("/")
def index():
    """The landing page: what the free consult is, who it is for, and the way in."""
    return render_template(
        "public/index.html",
        settings=clinic_settings(),
        consult=consult_type(),
        practitioners=active_practitioners(),
    )


@bp.get("/privacy")
def privacy():
    """The privacy notice patients agree to when booking."""
    return render_template("public/privacy.html", settings=clinic_settings())


@bp.get("/livez")
def livez():
    """Liveness: the process answers. No database here: a restart can't mend an unreachable
    one, which /healthz (readiness) reports."""
    return {"status": "ok"}


@bp.get("/healthz")
def healthz():
    """Readiness: the process answers and reaches the database, for load balancers and
    monitors."""
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
