"""A MariaDB server of the test's own, in a temporary directory, to stop and start at will.

The shared server at 127.0.0.1:3306 serves other test runs at the same time: a test that
needs the database to go away must never touch it. This one is installed with
mariadb-install-db into a temporary data directory and run as a child process on a free port.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pymysql
import pytest

from tests.support import free_port

READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60
_SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"])

# Small, so that installing and starting take a second or two; durable, so that what a
# commit acknowledged survives a SIGKILL.
_SERVER_OPTIONS = [
    "--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=1",
    "--skip-log-bin", "--skip-name-resolve", "--character-set-server=utf8mb4", "--max-connections=200",
]


def binaries():
    """(mariadb-install-db, mariadbd) paths, or None when MariaDB's server is not installed."""
    install = shutil.which("mariadb-install-db", path=_SBIN) or shutil.which("mysql_install_db", path=_SBIN)
    server = shutil.which("mariadbd", path=_SBIN) or shutil.which("mysqld", path=_SBIN)
    return (install, server) if install and server else None


class PrivateMariaDB:
    """A MariaDB server on 127.0.0.1:<port> with database `test`; stop() and start() it freely.

    The port stays the same across restarts, so a client's URL keeps working, as it would
    for a database host that comes back.
    """

    def __init__(self, directory, *, options=()):
        found = binaries()
        if found is None:
            raise RuntimeError("mariadb-install-db or mariadbd is not installed")
        self.install_db, self.mariadbd = found
        self.directory = Path(directory)
        self.datadir = self.directory / "data"
        self.socket = self.directory / "mariadb.sock"
        self.log_path = self.directory / "mariadbd.log"
        self.port = free_port()
        self.process = None
        self._user = ["--user=root"] if os.geteuid() == 0 else []
        self.options = list(options)        # further mariadbd options, e.g. --ssl-cert=...

    @property
    def url(self):
        return f"mysql://root@127.0.0.1:{self.port}/test"

    def install(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        finished = subprocess.run(
            [self.install_db, "--no-defaults", "--auth-root-authentication-method=normal",
             f"--datadir={self.datadir}", "--skip-test-db", *self._user, *_SERVER_OPTIONS],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=READY_TIMEOUT_S)
        if finished.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed:\n{finished.stdout.decode(errors='replace')}")
        return self

    def start(self):
        """Start the server and wait until it answers; creates database `test` the first time."""
        assert self.process is None or self.process.poll() is not None, "already running"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self.mariadbd, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
                 f"--socket={self.socket}", "--bind-address=127.0.0.1", "--skip-grant-tables",
                 f"--pid-file={self.directory / 'mariadbd.pid'}", *self._user, *_SERVER_OPTIONS,
                 *self.options],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root", connect_timeout=2)
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mariadbd did not answer within {READY_TIMEOUT_S} s") from None
                time.sleep(0.1)
                continue
            with connection:
                connection.cursor().execute("CREATE DATABASE IF NOT EXISTS test CHARACTER SET utf8mb4")
            return self

    def stop(self, *, kill=False):
        """Stop the server: SIGTERM is a clean shutdown, kill=True a crash (SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def execute(self, sql, params=None, *, database="test"):
        """Run one statement (in `database`, None for none); the rows it returns."""
        connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root", database=database,
                                     connect_timeout=5)
        with connection:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            connection.commit()
            return rows


@pytest.fixture(scope="module")
def private_mariadb(tmp_path_factory):
    """A started PrivateMariaDB for the tests of one module; skipped when MariaDB is absent."""
    if binaries() is None:
        pytest.skip("MariaDB's server (mariadb-install-db, mariadbd) is not installed")
    server = PrivateMariaDB(tmp_path_factory.mktemp("mariadb")).install().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def empty_private_mariadb(private_mariadb):
    """The module's private server, running, with database `test` empty."""
    if private_mariadb.process.poll() is not None:
        private_mariadb.start()
    private_mariadb.execute("DROP DATABASE IF EXISTS test", database=None)
    private_mariadb.execute("CREATE DATABASE test CHARACTER SET utf8mb4", database=None)
    return private_mariadb
