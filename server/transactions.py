"""Write transactions that take the database's write lock before they read.

On SQLite, pysqlite opens a transaction lazily at the first INSERT/UPDATE and knows nothing
of SAVEPOINT: a savepoint taken before the first write becomes the outer transaction, and its
RELEASE commits. A transaction that reads and then writes can also fail at once with "database
is locked" when another writer committed in between (WAL snapshots cannot be upgraded).
`begin_write()` opens the request's transaction with BEGIN IMMEDIATE instead: the write lock is
taken up front (waiting up to the busy timeout), savepoints nest inside a real transaction, and
two pushes arriving together queue up instead of failing. On PostgreSQL it is a plain
transaction; concurrent writers are handled by row locks and unique constraints.
"""

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

SQLITE_BEGIN = "zoufang_sqlite_begin"


def begin_write() -> None:
    """Start this request's write transaction. Call it before reading what the writes depend
    on; whatever the request had read so far (the signed-in user) is read again."""
    db.session.rollback()
    db.session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN)
    if mode is None or conn.dialect.name != "sqlite":
        return
    dbapi_connection = conn.connection.driver_connection
    previous = dbapi_connection.isolation_level
    # No transaction is open yet, so switching pysqlite to autocommit commits nothing; once
    # ours is open, pysqlite sees it and commits or rolls it back as usual.
    dbapi_connection.isolation_level = None
    conn.exec_driver_sql(f"BEGIN {mode}")
    dbapi_connection.isolation_level = previous
