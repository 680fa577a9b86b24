"""INSERT ... ON CONFLICT, which both databases have, through each dialect's construct."""

from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db


def insert(model):
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)
