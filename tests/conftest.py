"""Fixtures: an app per test on a fresh database, SQLite always and MariaDB when configured.

Set CS_TEST_MYSQL_URL (e.g. mysql://root@127.0.0.1:3306/test) to run every database test
a second time on MySQL/MariaDB; without it that half is skipped and the run says so.
"""
import os

import pytest

from app import create_app
from app.config import build_settings
from models import ALL_TABLES, WorkerLease, database

MYSQL_URL = os.environ.get("CS_TEST_MYSQL_URL")
BACKENDS = ["sqlite", "mysql"]


def pytest_report_header(config):
    return f"MySQL half: {'on, ' + MYSQL_URL if MYSQL_URL else 'SKIPPED (CS_TEST_MYSQL_URL is not set)'}"


def pytest_terminal_summary(terminalreporter):
    if not MYSQL_URL:
        terminalreporter.write_line(
            "NOTE: the MySQL/MariaDB half of the suite was SKIPPED; set CS_TEST_MYSQL_URL to run it.",
            yellow=True, bold=True)


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "mysql" and not MYSQL_URL:
        pytest.skip("MySQL half: CS_TEST_MYSQL_URL is not set")
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/cs.db"
    request.getfixturevalue("fresh_mysql_schema")
    return MYSQL_URL


@pytest.fixture(scope="session")
def fresh_mysql_schema():
    """Drop the tables once per run, so a database left by an older schema is rebuilt."""
    from app.db import open_database
    db = open_database(MYSQL_URL)
    with db.connection_context():
        db.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
        for table in db.get_tables():
            db.execute_sql(f"DROP TABLE `{table}`")
        db.execute_sql("SET FOREIGN_KEY_CHECKS = 1")


def empty_all_tables():
    """Give a shared MySQL database the state of a new one."""
    with database.connection_context():
        database.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
        for model in reversed(ALL_TABLES):
            model.delete().execute()
        database.execute_sql("SET FOREIGN_KEY_CHECKS = 1")
        WorkerLease.after_create()


@pytest.fixture
def make_app(database_url, backend):
    """make_app(section={option: value}, ...) -> a Flask app on this test's fresh database."""
    made = []

    def make(**sections):
        raw = {name.replace("_", "-") if name == "business_attributes" else name: dict(options)
               for name, options in sections.items()}
        raw.setdefault("database", {}).setdefault("url", database_url)
        app = create_app(build_settings(raw, source="<test>"))
        if backend == "mysql" and not made:
            empty_all_tables()
        made.append(app)
        return app

    yield make
    _tear_down(made)


def _tear_down(apps):
    """Give back the apps' worker-ID leases and close the shared connection."""
    for app in apps:
        app.extensions["context_services"].ids.release()
    if not database.is_closed():
        database.close()


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
    _tear_down(made)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
