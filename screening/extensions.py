"""The Flask extension objects, created unbound and attached in ``create_app``.

It imports nothing else of ``screening``.
"""

import datetime as dt

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import DateTime
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        return value.replace(tzinfo=dt.UTC) if value is not None else None


class Base(DeclarativeBase):
    registry = registry(type_annotation_map={dt.datetime: UTCDateTime})


# Objects keep their values after a commit instead of reloading them on the next read. A
# request ends soon after its commit and nothing else changes a row under it mid-request,
# while each reload is one more query (and, on SQLite, one more wait for the write lock).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
