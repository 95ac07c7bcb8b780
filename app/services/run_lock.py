"""The lock that keeps two maintenance runs from working at once, on either database.

MySQL: a named lock (GET_LOCK) of the connection, server-wide, so it holds across hosts;
SQLite: an flock on a file next to the database, which only processes of this host can
share anyway. Both are released by the server or the kernel when the holder dies, even
by SIGKILL, so a crashed run never blocks the next one.
"""
import fcntl
import os
import time

import peewee as pw

from models import database

POLL_S = 0.2


class RunLockBusy(Exception):
    """Another maintenance run holds the lock."""


class RunLock:
    """with RunLock(wait_s=...): hold the maintenance lock; raises RunLockBusy when it stays taken.

    On MySQL the lock belongs to the connection: use it on the connection that does the work
    (a reconnect in between would lose it).
    """

    def __init__(self, *, wait_s=0.0):
        self.wait_s = wait_s
        self._file = None

    def __enter__(self):
        db = database.obj
        if isinstance(db, pw.SqliteDatabase):
            self._lock_file(db)
        else:
            self._get_lock(db)
        return self

    def __exit__(self, *exc_info):
        if self._file is not None:
            self._file.close()          # closing the descriptor drops the flock
            self._file = None
        else:
            database.execute_sql("SELECT RELEASE_LOCK(%s)", (self._name(database.obj),))

    @staticmethod
    def _name(db):
        # GET_LOCK names are server-wide and at most 64 characters: one per database.
        return f"context_services_maintain.{db.database}"[:64]

    def _get_lock(self, db):
        got = database.execute_sql("SELECT GET_LOCK(%s, %s)", (self._name(db), self.wait_s)).fetchone()[0]
        if got != 1:
            raise RunLockBusy(f"another maintenance run holds the lock {self._name(db)!r} on this database")

    def _lock_file(self, db):
        path = f"{getattr(db, 'path', db.database)}.maintain.lock"
        handle = open(path, "a+")
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    raise RunLockBusy(f"another maintenance run holds {path}") from None
                time.sleep(POLL_S)
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
