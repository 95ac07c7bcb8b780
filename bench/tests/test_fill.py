"""The 1M pre-fill's rows: valid Snowflake IDs, the promised shape, and a lease held only meanwhile."""
import time

import pytest

from app.db import open_database
from app.ids import LAYOUTS
from bench.fill import COLUMNS, fill_services, generate
from models import Service, WorkerLease, create_all_tables, database

LAYOUT = LAYOUTS["default"]
NOW_MS = 1_790_000_000_000      # 2026-09-21, well after the ID epoch


def rows(count):
    return [dict(zip(COLUMNS, row, strict=True)) for row in generate(count, layout=LAYOUT, worker_id=63, now_ms=NOW_MS)]


def test_ids_are_snowflakes_of_the_fill_worker_at_the_start_time():
    generated = rows(5000)
    for row in generated:
        assert LAYOUT.decompose(row["id"]) == (row["started_ms"], 63, 0)
    ids = [row["id"] for row in generated]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids[-1] < 2 ** 53


def test_rows_respect_the_spec_limits_and_the_promised_shape():
    generated = rows(20000)
    assert all(len(row["contact_key"]) <= 64 for row in generated)
    assert all(row["customer_id"] is None or len(row["customer_id"]) <= 16 for row in generated)
    anonymous = sum(row["customer_id"] is None for row in generated)
    active = sum(row["completed_ms"] is None for row in generated)
    assert 0.05 < anonymous / len(generated) < 0.15
    assert 0.01 < active / len(generated) < 0.05
    assert all(row["completed_ms"] is None or row["completed_ms"] > row["started_ms"] for row in generated)


def test_the_same_seed_gives_the_same_rows():
    assert rows(100) == rows(100)


def test_too_close_to_the_epoch_is_refused():
    with pytest.raises(ValueError, match="one millisecond apart"):
        list(generate(10_000_000, layout=LAYOUT, worker_id=63, now_ms=LAYOUT.decompose(0)[0] + 120_000))


@pytest.fixture
def sqlite_db(tmp_path):
    db = open_database(f"sqlite:///{tmp_path}/cs.db")
    database.initialize(db)
    with database.connection_context():
        create_all_tables(db)
    yield db
    if not database.is_closed():
        database.close()


def test_fill_writes_every_row_rebuilds_indexes_and_gives_the_lease_back(sqlite_db):
    with database.connection_context():
        report = fill_services(sqlite_db, 3000, layout=LAYOUT, batch_size=700, sample_size=50)
        assert Service.select().count() == 3000
        indexes = {index.name for index in sqlite_db.get_indexes(Service._meta.table_name)}
        assert {index._name for index in Service._meta.fields_to_index()} <= indexes
        lease = WorkerLease.get_by_id(LAYOUT.max_workers - 1)
        assert lease.holder is None and lease.last_ms <= int(time.time() * 1000)
        for key in report.anonymous_active_keys:
            assert (Service.select()
                    .where((Service.contact_key == key) & Service.customer_id.is_null()
                           & Service.completed_ms.is_null())
                    .exists())
        assert len(report.customers) == 50


def test_fill_refuses_a_worker_id_a_server_holds(sqlite_db):
    with database.connection_context():
        (WorkerLease.update(holder="server", expires_ms=int(time.time() * 1000) + 60_000)
         .where(WorkerLease.worker_id == LAYOUT.max_workers - 1).execute())
        with pytest.raises(RuntimeError, match="leased by a server process"):
            fill_services(sqlite_db, 10, layout=LAYOUT)
        assert Service.select().count() == 0
        assert WorkerLease.get_by_id(LAYOUT.max_workers - 1).holder == "server"
