"""A database made by the previous build is upgraded in place at start-up, its data intact.

tests/data/previous_build_*.sql is the DDL that the first build (before migrations) made,
captured from it on each database; the rows are written with plain SQL, as that build stored
them, and read back through the new app's HTTP interface.
"""
from pathlib import Path

import pytest

from app import create_app
from app.config import build_settings
from app.db import open_database
from models import database
from models.migrations import LATEST_VERSION, MIGRATIONS, SchemaVersion
from tests.calls import ok
from tests.support import running_gunicorn

DATA = Path(__file__).parent / "data"
DATA_TABLES = ("service", "state", "task", "extension_schema", "extension_record", "extension_unique_key",
               "server_setting")

BOB, BOB_SPACE, ANONYMOUS = 117854965215232, 117854965215233, 117854965215234
OFFERS = ('{"multi_valued": true, "attributes": [{"name": "offer_name", "type": "string", "length": 255, '
          '"mandatory": true, "encrypt": false}, {"name": "type", "type": "integer", "length": 255, '
          '"mandatory": false, "encrypt": false}], "unique": [["offer_name"]]}')
GOLD_DIGEST = "ffa94ea444e5ac43a3b31aa2c17b81a8dc115dda4ca18f7748bfe7533b2079fd"
ROWS = [
    ("INSERT INTO extension_schema (id, kind, name, name_key, multi_valued, definition, created_ms)"
     " VALUES (1, 'services', 'offers', 'offers', 1, ?, 1795998784857)", (OFFERS,)),
    ("INSERT INTO service (id, est_duration, disposition, disposition_desc, started_ms, start_context,"
     " completed_ms, end_context, customer_id, contact_key, service_type, last_state_id, last_task_id)"
     " VALUES (?, NULL, NULL, NULL, 1795998784867, '{}', NULL, NULL, 'bob', NULL, 1, 1, 1)", (BOB,)),
    ("INSERT INTO service (id, started_ms, start_context, completed_ms, end_context, customer_id,"
     " contact_key, service_type, disposition, disposition_desc)"
     " VALUES (?, 1795998784900, '{\"session_id\":\"s1\"}', 1795998785900, '{}', 'bob ', 'k', 7, 3, 'done')",
     (BOB_SPACE,)),
    ("INSERT INTO service (id, started_ms, start_context, customer_id, contact_key, service_type)"
     " VALUES (?, 1795998785000, '{}', NULL, 'k ', 1)", (ANONYMOUS,)),
    ("INSERT INTO state (id, started_ms, start_context, service_id, state_id, state_type)"
     " VALUES (1, 1795998784869, '{}', ?, 1, 2)", (BOB,)),
    ("INSERT INTO task (id, started_ms, start_context, service_id, task_id, task_type, state_id)"
     " VALUES (1, 1795998784872, '{}', ?, 1, 3, 1)", (BOB,)),
    ("INSERT INTO extension_record (id, schema_id, name, name_key, service_id, owner_no, position, value)"
     " VALUES (1, 1, 'offers', 'offers', ?, 0, 0, '{\"offer_name\":\"gold\",\"type\":4}')", (BOB,)),
    ("INSERT INTO extension_unique_key (id, record_id, schema_id, service_id, owner_no, constraint_no, digest)"
     " VALUES (1, 1, 1, ?, 0, 0, ?)", (BOB, GOLD_DIGEST)),
    ("INSERT INTO server_setting (\"key\", value) VALUES ('extensions_generation', 'g1')", ()),
]


def _sql(db, text):
    text = text.replace("?", db.param)
    return text.replace('"key"', "`key`") if db.param == "%s" else text


def _drop_every_table(db):
    mysql = db.param == "%s"
    db.execute_sql("SET FOREIGN_KEY_CHECKS = 0" if mysql else "PRAGMA foreign_keys = OFF")
    for table in db.get_tables():
        db.execute_sql(f"DROP TABLE {db.quote[0]}{table}{db.quote[1]}")
    db.execute_sql("SET FOREIGN_KEY_CHECKS = 1" if mysql else "PRAGMA foreign_keys = ON")


# Columns that migrations added: the snapshot compares what the previous build stored.
ADDED_COLUMNS = {"service": ("last_activity_ms",), "extension_schema": ("deleted_ms",)}


def _snapshot(db):
    snapshot = {}
    for table in DATA_TABLES:
        columns = [column.name for column in db.get_columns(table) if column.name not in ADDED_COLUMNS.get(table, ())]
        listed = ", ".join(f"{db.quote[0]}{name}{db.quote[1]}" for name in columns)
        snapshot[table] = db.execute_sql(f"SELECT {listed} FROM {table} ORDER BY 1").fetchall()
    return snapshot


@pytest.fixture
def previous_build(backend, database_url):
    """(url, rows of every data table) of a database exactly as the previous build made and filled it."""
    db = open_database(database_url)
    with db.connection_context():
        _drop_every_table(db)
        ddl = (DATA / f"previous_build_{backend}.sql").read_text()
        for statement in filter(str.strip, ddl.split(";\n")):
            db.execute_sql(statement)
        for statement, params in ROWS:
            db.execute_sql(_sql(db, statement), params)
        before = _snapshot(db)
    yield database_url, before
    # Leave a database that later tests' apps create afresh, not this upgraded one.
    with db.connection_context():
        _drop_every_table(db)


def _applied_versions():
    return [row.version for row in SchemaVersion.select().order_by(SchemaVersion.version)]


def _assert_readable(client):
    bob = client.get(f"/services/{BOB}?extensions=offers")
    assert bob.status_code == 200, bob.get_json()
    assert bob.get_json()["customer_id"] == "bob" and bob.get_json()["offers"] == [{"offer_name": "gold", "type": 4}]
    assert client.get(f"/services/{BOB}/states/1").status_code == 200
    assert client.get(f"/services/{BOB}/tasks/1").get_json()["state_id"] == 1
    completed = client.get(f"/services/{BOB_SPACE}").get_json()
    assert (completed["customer_id"], completed["contact_key"], completed["disposition_desc"]) == ("bob ", "k", "done")
    # Identity is exact after the upgrade on both databases: "bob " is not "bob", "k " is not "k".
    listed = client.get("/customers/bob/services").get_json()
    assert [service["service_id"] for service in listed] == [BOB]
    anonymous = client.get("/services/anonymous/k%20").get_json()
    assert [service["service_id"] for service in anonymous] == [ANONYMOUS]
    assert client.get("/services/anonymous/k").get_json() == []


# Active: the latest start or end of the service, its states and tasks; completed: the completion.
LAST_ACTIVITY = {BOB: 1795998784872, BOB_SPACE: 1795998785900, ANONYMOUS: 1795998785000}


def _last_activity(db):
    return dict(db.execute_sql("SELECT id, last_activity_ms FROM service").fetchall())


def test_the_app_upgrades_a_database_of_the_previous_build_keeping_every_row(previous_build):
    url, before = previous_build
    app = create_app(build_settings({"database": {"url": url}}))
    try:
        _assert_readable(app.test_client())
        with database.connection_context():
            assert _snapshot(database.obj) == before
            assert _applied_versions() == [migration.version for migration in MIGRATIONS]
            assert _last_activity(database.obj) == LAST_ACTIVITY
            assert "deleted_ms" in {column.name for column in database.obj.get_columns("extension_schema")}
            assert "service_completed_ms_last_activity_ms" in {index.name for index in
                                                               database.obj.get_indexes("service")}
    finally:
        app.extensions["context_services"].ids.release()
        if not database.is_closed():
            database.close()


def test_a_new_database_starts_at_the_latest_version_without_running_migrations(make_app, caplog):
    make_app()
    with database.connection_context():
        assert _applied_versions()[-1] == LATEST_VERSION
    assert "schema migration" not in caplog.text


def test_several_gunicorn_workers_starting_on_an_old_database_migrate_it_once(previous_build, tmp_path):
    url, before = previous_build
    with running_gunicorn({"database": {"url": url}}, workers=4, tmp_path=tmp_path) as base_url:
        import requests
        listed = requests.get(f"{base_url}/customers/bob/services", timeout=30).json()
        assert [service["service_id"] for service in listed] == [BOB]
    log = "".join(path.read_text() for path in tmp_path.glob("gunicorn-*.log"))
    for migration in MIGRATIONS:
        assert log.count(f"schema migration {migration.version} applied") == 1, log
    db = open_database(url)
    with db.connection_context():
        assert _snapshot(db) == before
        rows = db.execute_sql("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert [version for (version,) in rows] == [migration.version for migration in MIGRATIONS]


def test_identification_values_of_the_first_profile_build_lose_their_redundant_indexes(make_app):
    client = make_app().test_client()
    ok(client.post("/metadata/identification-keys", json={"name": "phone", "attributes": ["PhoneNumber"]}), 201)
    customer = ok(client.post("/profiles", json={"PhoneNumber": ["5550100"]}), 201)["customer_id"]
    with database.connection_context():
        db = database.obj
        # The shape the first build with profiles (before migration 4) gave this table.
        db.execute_sql("CREATE INDEX identification_value_key_id ON identification_value (key_id)")
        db.execute_sql("CREATE INDEX identification_value_profile_id ON identification_value (profile_id)")
        SchemaVersion.delete().where(SchemaVersion.version == 4).execute()

    client = make_app().test_client()

    with database.connection_context():
        names = {index.name for index in database.obj.get_indexes("identification_value")}
        assert not names & {"identification_value_key_id", "identification_value_profile_id"}
        assert _applied_versions()[-1] == 4
    assert ok(client.get("/profiles?PhoneNumber=5550100")) == [{"customer_id": customer}]
