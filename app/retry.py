"""Re-running a request whose transaction the database refused for a deadlock or a lock wait (SPEC §12).

MySQL/MariaDB end a transaction chosen as a deadlock victim (1213) with a rollback, and a lock
wait timeout (1205) ends in a rollback as soon as the error leaves `database.atomic()`; under
Galera a certification conflict is reported as 1213 at COMMIT, again without committing.
Nothing of such a request was stored, so the view runs again from the start: its body is
cached by the first reading. A view does its writes in one transaction or one statement,
which is what makes this safe.

A connection lost inside a transaction before its COMMIT went out (app.db.TransactionLost)
is retried too: the server dropped the uncommitted work with the connection. A connection lost
after a write or a COMMIT went out may follow a commit: that outcome is unknown and never
retried here (app.db.WriteOutcomeUnknown). SQLite is not retried either: it has already waited
its busy timeout for the lock before refusing.
"""
import collections
import logging
import random
import threading
import time

import peewee as pw

from app import metrics
from app.db import TransactionLost

logger = logging.getLogger(__name__)

MAX_TRIES = 3
RETRYABLE_MYSQL_ERRORS = {1213: "deadlock", 1205: "lock_wait_timeout"}
# A connection that broke inside a transaction before its COMMIT went out (a database node
# died): nothing was stored, and the next try connects again, through HAProxy to a live node.
CONNECTION_LOST = "connection_lost"
REASONS = (*RETRYABLE_MYSQL_ERRORS.values(), CONNECTION_LOST)
# Between tries, a random wait up to this many seconds times the try number: two requests
# that deadlocked each other do not meet again in the same order at once.
JITTER_S = 0.02


def mysql_error_code(error):
    """The MySQL error number behind a peewee database error, or None."""
    for candidate in (error, *error.args[:1]):
        args = getattr(candidate, "args", ())
        if args and isinstance(args[0], int):
            return args[0]
    return None


def retry_reason(error):
    """'deadlock', 'lock_wait_timeout' or 'connection_lost' when error is one a whole-request
    retry may cure, else None."""
    if isinstance(error, TransactionLost):
        return CONNECTION_LOST
    if not isinstance(error, pw.OperationalError):
        return None
    return RETRYABLE_MYSQL_ERRORS.get(mysql_error_code(error))


class RetryCounter:
    """How many requests were run again, by reason, since the process started."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = collections.Counter()

    def record(self, reason):
        metrics.count_database_retry()
        with self._lock:
            self._counts[reason] += 1

    def snapshot(self):
        with self._lock:
            return {reason: self._counts[reason] for reason in REASONS}


def run_with_retries(run, *, counter, sleep=time.sleep, jitter=random.random):
    """run() once, and again (at most MAX_TRIES in all) while it fails with a retryable
    database error; that error is raised after the last try, any other error at once."""
    for attempt in range(1, MAX_TRIES + 1):
        try:
            return run()
        except pw.OperationalError as error:
            reason = retry_reason(error)
            if reason is None or attempt == MAX_TRIES:
                raise
            counter.record(reason)
            logger.warning("transaction refused (%s), try %d of %d: %s", reason, attempt, MAX_TRIES, error)
            sleep(JITTER_S * attempt * jitter())
