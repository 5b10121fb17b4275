"""Unbound Flask extensions; ``create_app`` binds them."""

from typing import TYPE_CHECKING

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints, so migrations can refer to (and drop) them on every database.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)

# The base class of every model: ``db.Model``. Flask-SQLAlchemy builds it at run time from Base's
# body and its own mixins, which a type checker cannot follow (mypy: 'Name "db.Model" is not
# defined'), so the checker is shown a class with the same bases.
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as FlaskModel

    class Model(FlaskModel, Base):
        __abstract__ = True

else:
    Model = db.Model

migrate = Migrate()
csrf = CSRFProtect()
mail = Mail()
# Counters live in RATELIMIT_STORAGE_URI (memory:// by default, Redis when several hosts serve).
limiter = Limiter(get_remote_address)

login_manager = LoginManager()
login_manager.login_view = "staff.sign_in"
login_manager.login_message = "Please sign in to see that page."
