"""The 1M-service pre-fill: generated rows written straight into the services table, not through HTTP.

The shape is an IVR's: ~100k customers with two contact keys each (~200k keys), one
service in ten never identified (anonymous), and most services completed; the few still
active are the newest ones plus a scattering of old ones that were never ended. Service IDs
are real Snowflake IDs (app.ids.Layout.compose) from the highest worker ID, which is leased
to the fill for its duration so that no server worker can hold it.
"""
import json
import random
import time
from dataclasses import dataclass, field

import peewee as pw

from app.ids import EPOCH_MS
from models import Service, WorkerLease

DAY_MS = 24 * 3600 * 1000
ANONYMOUS_SHARE = 0.10
ACTIVE_NEWEST_SHARE = 0.02      # the newest services: calls still going on
ACTIVE_STALE_SHARE = 0.005      # older services nobody ended
LEASE_HOLDER = "bench-fill"


@dataclass
class FillReport:
    rows: int
    seconds: float
    index_seconds: float        # part of seconds spent rebuilding the secondary indexes
    worker_id: int
    anonymous_active_keys: list = field(default_factory=list)   # keys with an active anonymous service
    customers: list = field(default_factory=list)

    def as_dict(self):
        return {"rows": self.rows, "seconds": round(self.seconds, 1),
                "index_seconds": round(self.index_seconds, 1),
                "rows_per_s": round(self.rows / self.seconds) if self.seconds else None,
                "worker_id": self.worker_id}


def customer_name(number):
    return f"CUST{number:07d}"


def contact_key(number):
    return f"06{number:08d}"


# The columns the generator fills, in the order of its tuples.
COLUMNS = ("id", "customer_id", "contact_key", "service_type", "est_duration", "disposition",
           "disposition_desc", "started_ms", "start_context", "completed_ms", "end_context",
           "last_state_id", "last_task_id", "last_activity_ms")


def generate(count, *, layout, worker_id, now_ms, customers=100_000, keys_per_customer=2,
             span_days=180, seed=6):
    """Yield row tuples (COLUMNS order) in start order; deterministic for a seed and now_ms.

    Raises ValueError when the clock is too close to the ID epoch to spread `count`
    services one millisecond apart.
    """
    rng = random.Random(seed)
    random_share = rng.random
    first_ms = max(EPOCH_MS + 1, now_ms - span_days * DAY_MS)
    last_ms = now_ms - 60_000
    step = (last_ms - first_ms) / count
    if step < 1:
        raise ValueError(f"cannot spread {count} services one millisecond apart since the ID epoch")
    keys = customers * keys_per_customer
    newest_from = count - int(count * ACTIVE_NEWEST_SHARE)
    # compose() once, then its own arithmetic: with a fixed worker ID and sequence 0, IDs
    # differ only by the shifted milliseconds (checked against compose() for the last row).
    first_id = layout.compose(first_ms, worker_id, 0)
    shift = layout.timestamp_shift
    if first_id + ((last_ms - first_ms) << shift) != layout.compose(last_ms, worker_id, 0):
        raise AssertionError("fill IDs would drift from Layout.compose")
    contexts = [json.dumps({"interaction_id": "IVR-FILL", "application_type": 400,
                            "application_id": 40 + n % 5, "media_type": 1 + n % 2}, separators=(",", ":"))
                for n in range(10)]
    customer_names = [customer_name(n) for n in range(customers)]
    service_types = (100, 200, 300)
    for number in range(count):
        # One start per step, jittered inside it: start times (and so IDs) are unique and ordered.
        started = int(first_ms + number * step + random_share() * (step - 1))
        key = int(random_share() * keys)
        active = number >= newest_from or random_share() < ACTIVE_STALE_SHARE
        customer = None if random_share() < ANONYMOUS_SHARE else customer_names[key // keys_per_customer]
        completed = None if active else started + 30_000 + int(random_share() * 900_000)
        yield (
            first_id + ((started - first_ms) << shift),
            customer,
            f"06{key:08d}",
            service_types[key % 3],
            60,
            None if active else 10,
            None,
            started,
            contexts[key % 10],
            completed,
            None if active else "{}",
            0,
            0,
            started if active else completed,
        )


def fill_services(db, count, *, layout, batch_size=5000, transaction_rows=None, sample_size=2000, seed=6):
    """Insert `count` generated services with executemany; returns a FillReport.

    The services table's secondary indexes are dropped first and rebuilt at the end (one
    sorted build instead of a million random inserts), so nothing may query the table
    meanwhile. SQLite takes all rows in one transaction; MySQL commits every
    `transaction_rows` (PyMySQL turns each executemany into multi-row INSERTs). Raises
    RuntimeError when the table has a required column the fill does not know.
    """
    extra_names, extra_values = _extra_columns()
    worker_id = layout.max_workers - 1
    now_ms = int(time.time() * 1000)
    quote = db.quote
    table = f"{quote[0]}{Service._meta.table_name}{quote[1]}"
    names = ", ".join(f"{quote[0]}{column}{quote[1]}" for column in COLUMNS + extra_names)
    marks = ", ".join([db.param] * (len(COLUMNS) + len(extra_names)))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    transaction_rows = transaction_rows or count
    anonymous_active, customers = set(), set()
    started = time.monotonic()
    _lease(worker_id, now_ms)
    try:
        _drop_indexes(db)
        rows = generate(count, layout=layout, worker_id=worker_id, now_ms=now_ms, seed=seed)
        written = 0
        while written < count:
            with db.atomic():
                in_transaction = 0
                while in_transaction < transaction_rows and written < count:
                    batch = []
                    for row in rows:
                        batch.append(row + extra_values if extra_values else row)
                        if row[1] is None:
                            if row[9] is None:
                                anonymous_active.add(row[2])
                        elif len(customers) < 10 * sample_size:
                            customers.add(row[1])
                        if len(batch) == batch_size:
                            break
                    db.cursor().executemany(sql, batch)
                    written += len(batch)
                    in_transaction += len(batch)
        indexing = time.monotonic()
        Service._schema.create_indexes(safe=True)
        index_seconds = time.monotonic() - indexing
    finally:
        _release(worker_id)
    seconds = time.monotonic() - started
    rng = random.Random(seed + 1)

    def sample(values):
        return rng.sample(sorted(values), min(sample_size, len(values)))

    return FillReport(rows=written, seconds=seconds, index_seconds=index_seconds, worker_id=worker_id,
                      anonymous_active_keys=sample(anonymous_active), customers=sample(customers))


def _drop_indexes(db):
    """Drop the services table's secondary indexes (peewee's drop_indexes omits MySQL's ON table)."""
    quote = db.quote
    table = f"{quote[0]}{Service._meta.table_name}{quote[1]}"
    for index in Service._meta.fields_to_index():
        name = f"{quote[0]}{index._name}{quote[1]}"
        if isinstance(db, pw.MySQLDatabase):
            db.execute_sql(f"ALTER TABLE {table} DROP INDEX {name}")
        else:
            db.execute_sql(f"DROP INDEX IF EXISTS {name}")


def _extra_columns():
    """Columns of the services table beyond COLUMNS, with their defaults; a required one
    without a default raises RuntimeError."""
    names, values = [], []
    for model_field in Service._meta.sorted_fields:
        name = model_field.column_name
        if name in COLUMNS:
            continue
        if model_field.default is not None and not callable(model_field.default):
            names.append(name)
            values.append(model_field.db_value(model_field.default))
        elif not model_field.null:
            raise RuntimeError(f"the fill does not know how to fill services.{name}; teach bench/fill.py")
    missing = set(COLUMNS) - {model_field.column_name for model_field in Service._meta.sorted_fields}
    if missing:
        raise RuntimeError(f"the services table has no column {sorted(missing)}; teach bench/fill.py")
    return tuple(names), tuple(values)


def _lease(worker_id, now_ms):
    taken = (WorkerLease
             .update(holder=LEASE_HOLDER, expires_ms=now_ms + 3_600_000)
             .where((WorkerLease.worker_id == worker_id)
                    & ((WorkerLease.holder.is_null()) | (WorkerLease.expires_ms < now_ms)))
             .execute())
    if not taken:
        raise RuntimeError(f"worker ID {worker_id} is leased by a server process; the fill needs it")


def _release(worker_id):
    (WorkerLease
     # Every ID the fill made is older than now: a later holder starting from now never repeats one.
     .update(holder=None, expires_ms=0, last_ms=int(time.time() * 1000))
     .where((WorkerLease.worker_id == worker_id) & (WorkerLease.holder == LEASE_HOLDER))
     .execute())
