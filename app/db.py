"""The database connection lifecycle: one live connection per worker process."""
import logging
import os
import select
from urllib.parse import quote

import peewee as pw
from playhouse.shortcuts import ReconnectMixin

from app.config import ConfigError, database_url_parts, redact
from app.db_tls import tls_context, tls_failure
from models import create_all_tables, database

logger = logging.getLogger(__name__)

# Errors that mean "the database cannot be used right now" rather than "this request is wrong".
UNAVAILABLE_ERRORS = (pw.OperationalError, pw.InterfaceError)


class WriteOutcomeUnknown(pw.OperationalError):
    """The connection was lost after a write or a COMMIT went out: it may have been stored or not.

    Sending the statement again could store it twice, so the client is told (503) instead.
    """


class TransactionLost(pw.OperationalError):
    """The connection broke inside a transaction before its COMMIT went out.

    The server drops uncommitted work with the connection, so nothing was stored: the whole
    request may run again on a new connection (app/retry.py).
    """


# MySQL client errors: 2013, the connection broke while an answer was awaited (the statement
# went out and may have run); 2006, it broke before the statement went out; 0, PyMySQL's
# "this connection is closed already".
CR_SERVER_LOST = 2013
CONNECTION_LOST = {CR_SERVER_LOST, 2006, 0}


class ReconnectingMySQLDatabase(ReconnectMixin, pw.MySQLDatabase):
    """Replaces a connection the server dropped (restart, wait_timeout, KILL) on the next query.

    Only a statement that cannot have taken effect is sent again on the new connection: a
    read, or a write whose connection was found dead before it went out. A write or COMMIT
    whose connection broke while its answer was awaited raises WriteOutcomeUnknown; a
    connection lost inside a transaction, before its COMMIT went out, TransactionLost.
    """

    def execute_sql(self, sql, params=None):
        if self.in_transaction():
            return self._execute_in_transaction(sql, params)
        if _only_reads(sql):
            return super().execute_sql(sql, params)
        return self._execute_autocommit_write(sql, params)

    def _execute_in_transaction(self, sql, params):
        try:
            return pw.MySQLDatabase.execute_sql(self, sql, params)
        except UNAVAILABLE_ERRORS as error:
            _raise_if_lost(error, TransactionLost)
            raise

    def _execute_autocommit_write(self, sql, params):
        self._replace_connection_closed_by_server()
        try:
            return pw.MySQLDatabase.execute_sql(self, sql, params)
        except UNAVAILABLE_ERRORS as error:
            _raise_lost_outcome(error)
            raise

    def commit(self):
        try:
            return super().commit()
        except UNAVAILABLE_ERRORS as error:
            _raise_lost_outcome(error)
            _raise_if_lost(error, TransactionLost)      # the COMMIT never went out
            raise

    def rollback(self):
        try:
            return super().rollback()
        except UNAVAILABLE_ERRORS:
            # The connection is dead, and the server drops an open transaction with it. Raising
            # here would hide the error that ended the transaction (a lost COMMIT above all).
            logger.debug("rollback on a broken connection", exc_info=True)

    def _replace_connection_closed_by_server(self):
        if self.is_closed() or not _peer_closed(self._state.conn):
            return
        try:
            self.close()        # the next statement connects again
        except Exception:  # noqa: BLE001 - a broken connection may fail to close in any way
            logger.debug("closing a connection the server closed failed", exc_info=True)


def _peer_closed(connection):
    """True when the server (or a proxy) closed the connection or has already answered on it.

    A connection at rest has nothing to read: anything readable (an end of file, an error
    packet about a timeout) means it is no longer usable. One poll, no round trip.
    """
    sock = getattr(connection, "_sock", None)
    if sock is None:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _only_reads(sql):
    return sql.lstrip()[:6].upper() in ("SELECT", "SHOW")


def _raise_lost_outcome(error):
    """Raise WriteOutcomeUnknown when error says the write may have been applied."""
    if _error_number(error) == CR_SERVER_LOST:
        raise WriteOutcomeUnknown(*error.args) from error


def _raise_if_lost(error, lost_class):
    # A read that timed out found the server too slow, not gone: running the request again
    # would only wait as long once more.
    if _error_number(error) in CONNECTION_LOST and "timed out" not in str(error):
        raise lost_class(*error.args) from error


def _error_number(error):
    return error.args[0] if error.args and isinstance(error.args[0], int) else None


class SqliteFileDatabase(pw.SqliteDatabase):
    """One SQLite file, kept open by each worker, that notices when its file is moved away.

    SQLite keeps working on the file it opened even after that file was renamed, deleted or
    replaced: a server would go on writing where no later start finds the data. So the
    identity of the file is noted at connect, and `file_moved()` tells when the path leads
    elsewhere. (Moving a database file under a running server is never safe with SQLite;
    this turns it into a visible outage instead of silent loss.)
    """

    def __init__(self, path, **kwargs):
        self.path = os.path.abspath(path)
        super().__init__(self.path, **kwargs)

    def begin(self, lock_type=None):
        # BEGIN IMMEDIATE takes the write lock up front: a transaction never has to upgrade
        # a read lock, which is what makes concurrent SQLite writers fail with "locked".
        # (An override rather than peewee's lock_type argument, which peewee 3.17 lacks.)
        return super().begin(lock_type or "IMMEDIATE")

    def open_existing_only(self):
        """Once the tables exist, a reconnect must find the file: a lost file gives an error
        (503), never a new, empty database in its place."""
        self.database = "file:" + quote(self.path) + "?mode=rw"
        self.connect_params["uri"] = True

    def _connect(self):
        connection = super()._connect()
        self._state.file_identity = _file_identity(self.path)
        return connection

    def file_moved(self):
        """True when a connection is open and the path no longer leads to its file."""
        if self.is_closed():
            return False
        return _file_identity(self.path) != getattr(self._state, "file_identity", None)


def _file_identity(path):
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def open_database(url, *, synchronous="normal", busy_timeout_ms=10000, connect_timeout_s=5):
    """Build the peewee database for a [database] url; nothing connects yet."""
    try:
        scheme, parts = database_url_parts(url)
    except ValueError as error:
        raise ConfigError(f"[database] url = {redact(url)!r}: {error}") from None
    if scheme == "sqlite":
        path = parts["database"]
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        except OSError as error:
            # As with a MySQL server that is down: start, answer 503, recover once it works.
            logger.error("cannot create the directory of %s: %s", path, error)
        return SqliteFileDatabase(path, timeout=busy_timeout_ms / 1000, pragmas={
            "journal_mode": "wal",
            "synchronous": synchronous,
            "busy_timeout": busy_timeout_ms,
            "foreign_keys": 1,
            "cache_size": -16000,
        })
    if scheme == "mysql":
        from pymysql.constants import CLIENT   # only needed, and only installed, for MySQL
        return ReconnectingMySQLDatabase(
            parts["database"],
            host=parts["host"], port=parts.get("port", 3306),
            user=parts.get("user", "root"), password=parts.get("passwd", ""),
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
    tls = tls_context(options) if isinstance(db, pw.MySQLDatabase) else None
    if tls is not None:
        # One context for every connection of the process, instead of PyMySQL's one per connect.
        db.connect_params.pop("ssl_disabled", None)
        db.connect_params["ssl"] = tls
    database.initialize(db)
    try:
        with database.connection_context():
            ensure_tables(db)
    except UNAVAILABLE_ERRORS as error:
        if tls is not None and tls_failure(error):
            # A certificate that does not verify will not heal by waiting, as a server that is down may.
            raise ConfigError(f"[database] ssl = {options['ssl']}: TLS to {redact(options['url'])} failed: "
                              f"{tls_failure(error)}") from None
        # The server still starts: requests answer 503 until the database comes back,
        # and the first one that reaches it creates the tables.
        logger.error("database %s not ready at start-up: %s", redact(options["url"]), error)
    return db


def ensure_tables(db):
    """Create missing tables (idempotent); also after a start-up that could not reach the database."""
    create_all_tables(db)
    if isinstance(db, SqliteFileDatabase):
        db.open_existing_only()


def drop_moved_database_file():
    """Close a SQLite connection whose file was moved or replaced, so the next query reopens
    the path: the file found there, or a 503 while there is none."""
    db = database.obj
    if isinstance(db, SqliteFileDatabase) and db.file_moved():
        logger.error("database file %s was moved, replaced or deleted; reopening the path", db.path)
        discard_connection()


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
