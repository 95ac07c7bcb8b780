"""The database connection lifecycle: one live connection per worker process."""
import logging
import os
from urllib.parse import unquote, urlparse

import peewee as pw
from playhouse.shortcuts import ReconnectMixin

from app.config import ConfigError
from models import create_all_tables, database

logger = logging.getLogger(__name__)

# Errors that mean "the database cannot be used right now" rather than "this request is wrong".
UNAVAILABLE_ERRORS = (pw.OperationalError, pw.InterfaceError)


class ReconnectingMySQLDatabase(ReconnectMixin, pw.MySQLDatabase):
    """Replaces a connection the server dropped (restart, wait_timeout) on the next query."""


def open_database(url, *, synchronous="normal", busy_timeout_ms=10000, connect_timeout_s=5):
    """Build the peewee database for a [database] url; nothing connects yet."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
        if not path:
            raise ConfigError(f"[database] url = {url!r}: sqlite:///path names no file")
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        # BEGIN IMMEDIATE takes the write lock up front: a transaction never has to upgrade
        # a read lock, which is what makes concurrent SQLite writers fail with "locked".
        return pw.SqliteDatabase(path, lock_type="IMMEDIATE", timeout=busy_timeout_ms / 1000, pragmas={
            "journal_mode": "wal",
            "synchronous": synchronous,
            "busy_timeout": busy_timeout_ms,
            "foreign_keys": 1,
            "cache_size": -16000,
        })
    if parsed.scheme in ("mysql", "mariadb"):
        name = parsed.path.lstrip("/")
        if not name or not parsed.hostname:
            raise ConfigError(f"[database] url: mysql://user:password@host:port/database needs host and database")
        from pymysql.constants import CLIENT   # only needed, and only installed, for MySQL
        return ReconnectingMySQLDatabase(
            unquote(name),
            host=parsed.hostname, port=parsed.port or 3306,
            user=unquote(parsed.username or "root"), password=unquote(parsed.password or ""),
            charset="utf8mb4",
            connect_timeout=connect_timeout_s, read_timeout=max(connect_timeout_s, 30),
            write_timeout=max(connect_timeout_s, 30),
            # PyMySQL would build a TLS context on every connect; loopback and private
            # networks do not need it, and a TLS set-up goes through the URL's host config.
            ssl_disabled=True,
            init_command="SET time_zone = '+00:00'",
            # An UPDATE counts the rows it matched, as on SQLite, not only those it changed:
            # "did this update find its row?" must not depend on the values written.
            client_flag=CLIENT.FOUND_ROWS,
        )
    raise ConfigError(f"[database] url = {_redact(url)!r}: scheme must be sqlite or mysql")


def _redact(url):
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(":" + parsed.password + "@", ":***@")
    return url


def database_kind(db):
    return "mysql" if isinstance(db, pw.MySQLDatabase) else "sqlite"


def init_database(settings):
    """Bind models to the configured database and create missing tables.

    The connection used for table creation is closed again, so that a gunicorn master
    that imports the app never hands an open connection to its forked workers.
    """
    options = settings["database"]
    db = open_database(options["url"], synchronous=options["sqlite_synchronous"],
                       busy_timeout_ms=options["busy_timeout_ms"],
                       connect_timeout_s=options["connect_timeout_s"])
    database.initialize(db)
    try:
        with database.connection_context():
            create_all_tables(db)
    except UNAVAILABLE_ERRORS as error:
        # The server still starts: requests answer 503 until the database comes back,
        # and the first one that reaches it creates the tables.
        logger.error("database %s not ready at start-up: %s", _redact(options["url"]), error)
    return db


def ensure_tables(db):
    """Create tables after a start-up that could not reach the database (idempotent)."""
    create_all_tables(db)


def discard_connection():
    """Close a connection that failed, so the next request opens a fresh one."""
    try:
        database.close()
    except Exception:  # noqa: BLE001 - a broken connection may fail to close in any way
        logger.debug("closing a broken connection failed", exc_info=True)


def ping():
    """True when the database answers a trivial query."""
    try:
        database.execute_sql("SELECT 1").fetchone()
        return True
    except UNAVAILABLE_ERRORS:
        discard_connection()
        return False
