"""A lease on schema changes that holds across every node of a Galera cluster.

MySQL's named locks (GET_LOCK) are local to one server: under Galera, hosts starting at once
through different nodes would run the same CREATE INDEX or migration side by side, and the
second fails (1061 duplicate key name). A row is what the whole cluster agrees on: taking the
lease is an UPDATE that only a free (or expired) lease matches. Two nodes applying it at once
cannot both commit: certification refuses one (1213), and when it runs again it finds the
lease taken. Everything done under the lease is replicated before its release, so a host that
takes the lease next sees the schema as its holder left it.

On a single server this is one more lock beside GET_LOCK, which waits for the same holders.
"""
import contextlib
import logging
import os
import random
import time
import uuid

import peewee as pw

logger = logging.getLogger(__name__)

TABLE = "schema_lease"
# Longer than any schema change takes; a holder that dies lets the next host in after it.
LEASE_S = 120
POLL_S = 0.25
DEADLOCK = 1213     # how MySQL and Galera refuse one of two conflicting writers


@contextlib.contextmanager
def schema_lease(db, *, timeout_s, table_settings):
    """Hold the cluster-wide schema lease for the block; the lease's table, created with
    table_settings (MySQL table options) when missing, is not one of the models.

    Raises pw.OperationalError when it was not free within timeout_s.
    """
    holder = f"{os.uname().nodename[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    _ensure_lease_row(db, table_settings)
    deadline = time.monotonic() + timeout_s
    while not _try_take(db, holder):
        if time.monotonic() > deadline:
            raise pw.OperationalError(f"the schema lease was not free within {timeout_s} s")
        time.sleep(POLL_S * (0.5 + random.random()))
    try:
        yield
    finally:
        _release(db, holder)


def _ensure_lease_row(db, table_settings):
    db.execute_sql(f"CREATE TABLE IF NOT EXISTS {TABLE} (name VARCHAR(16) PRIMARY KEY, "
                   "holder VARCHAR(64) NULL, expires_ms BIGINT NOT NULL DEFAULT 0) " + " ".join(table_settings))
    _ignoring_conflicts(db, f"INSERT IGNORE INTO {TABLE} (name, expires_ms) VALUES ('schema', 0)", ())


def _try_take(db, holder):
    now_ms = int(time.time() * 1000)
    cursor = _ignoring_conflicts(
        db, f"UPDATE {TABLE} SET holder = %s, expires_ms = %s"
            " WHERE name = 'schema' AND (holder IS NULL OR expires_ms < %s)",
        (holder, now_ms + LEASE_S * 1000, now_ms))
    return cursor is not None and cursor.rowcount == 1


def _release(db, holder):
    try:
        db.execute_sql(f"UPDATE {TABLE} SET holder = NULL, expires_ms = 0 WHERE name = 'schema' AND holder = %s",
                       (holder,))
    except (pw.OperationalError, pw.InterfaceError):
        # It expires by itself; the next host waits at most LEASE_S for it.
        logger.warning("could not release the schema lease", exc_info=True)


def _ignoring_conflicts(db, sql, params):
    """Run an autocommit statement; None when another node's conflicting write won (1213)."""
    try:
        return db.execute_sql(sql, params)
    except pw.OperationalError as error:
        if error.args and error.args[0] == DEADLOCK:
            return None
        raise
