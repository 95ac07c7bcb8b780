"""A database that goes away gives 503 JSON and the server recovers by itself (issue 2, SPEC §2/§9).

No fault is simulated inside the app: SQLite files are really moved, filled or blocked, and
MySQL connections are really killed or cut by a TCP proxy.
"""
import errno
import multiprocessing
import sqlite3
import subprocess
from urllib.parse import urlparse

import pymysql
import pytest

from app import create_app
from app.config import build_settings
from models import ALL_TABLES, WorkerLease, database
from tests.conftest import MYSQL_URL
from tests.support import TcpProxy

needs_mysql = pytest.mark.skipif(not MYSQL_URL, reason="MySQL half: CS_TEST_MYSQL_URL is not set")
# For tests that use conftest's make_app: its backend fixture skips when MySQL is not set.
only_mysql = pytest.mark.parametrize("backend", ["mysql"], indirect=True)


def assert_database_unavailable(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["error_code"] == "DATABASE_UNAVAILABLE"
    assert error["http_code"] == 503
    assert response.headers["Retry-After"]


def assert_serving(client, *, mode):
    assert client.get("/healthz").status_code == 200
    assert client.get("/server/status").get_json()["mode"] == mode
    assert client.post("/server/mode", json={"mode": "production"}).status_code == 200


@pytest.fixture
def standalone_app():
    """standalone_app(url, **sections) -> an app built like wsgi.py builds it, torn down at the end."""
    made = []

    def make(url, **sections):
        raw = {name: dict(options) for name, options in sections.items()}
        raw.setdefault("database", {})["url"] = url
        app = create_app(build_settings(raw, source="<test>"))
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["context_services"].ids.release()
    if not database.is_closed():
        database.close()


# --- SQLite --------------------------------------------------------------------------

def test_sqlite_file_replaced_by_a_directory_gives_503_until_it_is_back(standalone_app, tmp_path):
    path = tmp_path / "cs.db"
    client = standalone_app(f"sqlite:///{path}").test_client()
    assert client.post("/server/mode", json={"mode": "maintenance"}).status_code == 200
    # The open connection would go on writing to the moved file, where no later start
    # would find the data; the server must notice that the path no longer leads to it.
    path.rename(tmp_path / "cs.db.away")
    path.mkdir()
    assert_database_unavailable(client.get("/healthz"))
    assert_database_unavailable(client.post("/server/mode", json={"mode": "production"}))
    status = client.get("/server/status").get_json()
    assert status["database"]["answers"] is False
    path.rmdir()
    (tmp_path / "cs.db.away").rename(path)
    assert_serving(client, mode="maintenance")


def test_sqlite_directory_emptied_gives_503_not_a_new_empty_database(standalone_app, tmp_path):
    data = tmp_path / "data"
    client = standalone_app(f"sqlite:///{data}/cs.db").test_client()
    assert client.post("/server/mode", json={"mode": "maintenance"}).status_code == 200
    data.rename(tmp_path / "data.away")
    data.mkdir()        # e.g. a volume that failed to mount: the directory is there, the file not
    assert_database_unavailable(client.get("/healthz"))
    assert_database_unavailable(client.post("/server/mode", json={"mode": "production"}))
    assert list(data.iterdir()) == []
    data.rmdir()
    (tmp_path / "data.away").rename(data)
    assert_serving(client, mode="maintenance")


@pytest.fixture
def small_filesystem(tmp_path):
    """A 2 MiB tmpfs: a disk that can really fill up. Needs the right to mount (root)."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mount_point
    if not database.is_closed():
        database.close()
    subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill(directory):
    """Write a file until the filesystem is full; return its path."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_sqlite_on_a_full_disk_gives_503_until_there_is_room(standalone_app, small_filesystem):
    client = standalone_app(f"sqlite:///{small_filesystem}/cs.db").test_client()
    assert client.get("/healthz").status_code == 200
    filler = fill(small_filesystem)
    assert_database_unavailable(client.post("/server/mode", json={"mode": "maintenance"}))
    # Reads still work on a full disk, so the database still answers the health check.
    assert client.get("/healthz").status_code == 200
    filler.unlink()
    assert client.post("/server/mode", json={"mode": "maintenance"}).status_code == 200
    assert client.get("/server/status").get_json()["mode"] == "maintenance"


def test_sqlite_path_unusable_at_start_up_starts_and_recovers(standalone_app, tmp_path):
    blocker = tmp_path / "not-yet-mounted"
    blocker.write_text("a file where the database directory should be")
    app = standalone_app(f"sqlite:///{blocker}/cs.db")
    client = app.test_client()
    assert_database_unavailable(client.get("/healthz"))
    assert_database_unavailable(client.post("/server/mode", json={"mode": "maintenance"}))
    status = client.get("/server/status")
    assert status.status_code == 200
    assert status.get_json()["database"] == {"kind": "sqlite", "answers": False}
    assert client.get("/no/such/route").status_code == 404
    blocker.unlink()
    blocker.mkdir()
    assert_serving(client, mode="production")
    assert WorkerLease.select().count() == WorkerLease.MAX_WORKERS


# --- MySQL / MariaDB -----------------------------------------------------------------

def mysql_admin():
    url = urlparse(MYSQL_URL)
    return pymysql.connect(host=url.hostname, port=url.port or 3306, user=url.username or "root",
                           password=url.password or "", autocommit=True)


def app_connection_id():
    return database.execute_sql("SELECT CONNECTION_ID()").fetchone()[0]


def kill(connection_id):
    with mysql_admin() as admin, admin.cursor() as cursor:
        cursor.execute(f"KILL CONNECTION {int(connection_id)}")


@only_mysql
def test_mysql_killed_connection_is_replaced_transparently(make_app):
    app = make_app()
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    killed = app_connection_id()
    kill(killed)
    assert client.post("/server/mode", json={"mode": "maintenance"}).status_code == 200
    assert app_connection_id() != killed
    kill(app_connection_id())
    assert client.get("/healthz").status_code == 200
    kill(app_connection_id())
    assert client.get("/server/status").get_json()["mode"] == "maintenance"


@only_mysql
def test_mysql_killed_connection_is_replaced_before_a_transaction(make_app):
    app = make_app()

    @app.post("/test-only/transaction")
    def write_in_a_transaction():
        from models import ServerSetting
        with database.atomic():
            ServerSetting.put("probe", "1")
            ServerSetting.put("probe", "2")
        return {"probe": ServerSetting.get_value("probe")}

    client = app.test_client()
    assert client.post("/test-only/transaction").get_json() == {"probe": "2"}
    kill(app_connection_id())
    assert client.post("/test-only/transaction").get_json() == {"probe": "2"}


@needs_mysql
def test_mysql_unreachable_at_start_up_gives_503_and_does_not_crash(standalone_app):
    url = urlparse(MYSQL_URL)
    app = standalone_app(f"mysql://root@127.0.0.1:1{url.path}", database={"connect_timeout_s": 2})
    client = app.test_client()
    assert_database_unavailable(client.get("/healthz"))
    assert_database_unavailable(client.post("/server/mode", json={"mode": "maintenance"}))
    status = client.get("/server/status")
    assert status.status_code == 200
    assert status.get_json()["database"] == {"kind": "mysql", "answers": False}
    assert status.get_json()["mode"] == "unknown"


def mysql_url_through(proxy):
    url = urlparse(MYSQL_URL)
    return url._replace(netloc=f"{url.username or 'root'}{':' + url.password if url.password else ''}"
                                f"@127.0.0.1:{proxy.port}").geturl()


@pytest.fixture
def proxy():
    url = urlparse(MYSQL_URL)
    forwarding = TcpProxy(url.hostname, url.port or 3306)
    yield forwarding
    forwarding.stop()


@only_mysql
def test_mysql_outage_gives_503_and_recovers_without_restart(make_app, proxy):
    app = make_app(database={"url": mysql_url_through(proxy.start())})
    client = app.test_client()
    assert client.post("/server/mode", json={"mode": "maintenance"}).status_code == 200
    proxy.stop()
    assert_database_unavailable(client.get("/healthz"))
    assert_database_unavailable(client.post("/server/mode", json={"mode": "production"}))
    assert client.get("/server/status").get_json()["database"]["answers"] is False
    proxy.start()
    assert_serving(client, mode="maintenance")


@only_mysql
def test_mysql_down_at_start_up_creates_tables_when_it_comes_back(make_app, standalone_app, proxy):
    make_app()              # binds and empties the test database
    drop_all_tables()
    app = standalone_app(mysql_url_through(proxy))
    client = app.test_client()
    assert_database_unavailable(client.get("/healthz"))
    proxy.start()
    assert_serving(client, mode="production")
    assert all_tables_exist()


# --- tables at start-up --------------------------------------------------------------

def drop_all_tables():
    with database.connection_context():
        database.drop_tables(ALL_TABLES, safe=True)


def all_tables_exist():
    with database.connection_context():
        if not {model._meta.table_name for model in ALL_TABLES} <= set(database.get_tables()):
            return False
        return WorkerLease.select().count() == WorkerLease.MAX_WORKERS


def test_missing_tables_are_created_at_start_up(make_app):
    make_app()
    drop_all_tables()
    assert not all_tables_exist()
    client = make_app().test_client()
    assert all_tables_exist()
    assert client.post("/server/mode", json={"mode": "maintenance"}).status_code == 200


def create_app_in_a_process(url, start):
    """Run in a fresh process: build the app as a gunicorn worker would, all at one moment."""
    start.wait()
    create_app(build_settings({"database": {"url": url}}))
    with database.connection_context():
        assert WorkerLease.select().count() == WorkerLease.MAX_WORKERS


def test_apps_creating_tables_at_once_all_succeed(make_app, backend, database_url, tmp_path):
    if backend == "mysql":
        make_app()
        drop_all_tables()
        database.close()
    else:
        database_url = f"sqlite:///{tmp_path}/new/cs.db"     # not even the file exists yet
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(4)
    processes = [spawn.Process(target=create_app_in_a_process, args=(database_url, start)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    create_app(build_settings({"database": {"url": database_url}}))
    assert all_tables_exist()


# --- SQLite set-up for several worker processes ---------------------------------------

def test_sqlite_runs_in_wal_mode_with_the_configured_synchronous(standalone_app, tmp_path):
    client = standalone_app(f"sqlite:///{tmp_path}/cs.db", database={"sqlite_synchronous": "full"}).test_client()
    assert client.get("/healthz").status_code == 200
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 2     # FULL
    assert database.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 10000


def test_sqlite_write_transactions_take_the_write_lock_up_front(standalone_app, tmp_path):
    # A transaction that only upgrades to a write lock at its first write can fail with
    # "database is locked" whatever the busy timeout; one that starts with it just waits.
    path = tmp_path / "cs.db"
    standalone_app(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with database.atomic():
            database.execute_sql("SELECT 1")        # no write yet
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


# --- MySQL character set -------------------------------------------------------------

@pytest.fixture
def latin1_database():
    """A MySQL database whose default character set is latin1, as old servers create them."""
    url = urlparse(MYSQL_URL)
    name = url.path.lstrip("/") + "_latin1"
    with mysql_admin() as admin, admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET latin1")
    yield url._replace(path="/" + name).geturl(), name
    if not database.is_closed():
        database.close()
    with mysql_admin() as admin, admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


@needs_mysql
def test_mysql_tables_are_utf8mb4_whatever_the_database_default(standalone_app, latin1_database):
    url, name = latin1_database
    app = standalone_app(url)

    @app.post("/test-only/setting")
    def store_and_read():
        from flask import request
        from models import ServerSetting
        ServerSetting.put("probe", request.get_json()["value"])
        return {"value": ServerSetting.get_value("probe")}

    text = "Zoë 日本 😀"
    response = app.test_client().post("/test-only/setting", json={"value": text})
    assert response.status_code == 200
    assert response.get_json() == {"value": text}
    collations = {row[0] for row in database.execute_sql(
        "SELECT table_collation FROM information_schema.tables WHERE table_schema = %s", (name,))}
    # binary and NO PAD: text compares exactly, trailing spaces included, as on SQLite
    assert collations <= {"utf8mb4_nopad_bin", "utf8mb4_0900_bin"} and len(collations) == 1
