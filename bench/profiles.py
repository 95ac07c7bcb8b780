"""Customer profiles in the benchmark: the 1M-profile pre-fill, and the inputs of the profile cases.

The fill writes profiles and their identification rows for the `phone` key straight into
the tables, as bench/fill.py does for services: one phone number per profile, profile IDs
composed as real Snowflake IDs from the highest worker ID (leased meanwhile), customer IDs
`P` + 8 digits, and the same digests the server computes, so the server finds every one.
"""
import json
import random
import time
from dataclasses import dataclass, field

from contextlib import nullcontext as _nothing
from urllib.parse import quote

import peewee as pw

from app.ids import EPOCH_MS
from app.services.identification import digest
from bench.fill import DAY_MS, _lease, _release
from bench.server import call
from models import IdentificationKey, IdentificationValue, Profile, database

PHONE_KEY = {"name": "phone", "attributes": ["PhoneNumber"]}
# The Create Customer body of the create case: no customer_id, so each POST makes a new profile.
CREATE_BODY = {"FirstName": "Ann", "LastName": "Lee", "Title": "Ms", "PhoneNumber": ["+33612345678"],
               "EmailAddress": ["ann.lee@example.com"]}


def phone_number(number):
    return f"+336{number:08d}"


@dataclass
class ProfileFillReport:
    rows: int
    seconds: float
    phones: list = field(default_factory=list)        # a sample of the phone numbers filled

    def as_dict(self):
        return {"rows": self.rows, "seconds": round(self.seconds, 1),
                "rows_per_s": round(self.rows / self.seconds) if self.seconds else None}


def generate_profiles(count, *, layout, worker_id, now_ms, key_id, span_days=365):
    """Yield (profile row, identification row) tuples, in ID order; deterministic for now_ms."""
    first_ms = max(EPOCH_MS + 1, now_ms - span_days * DAY_MS)
    step = (now_ms - 60_000 - first_ms) // count
    if step < 1:
        raise ValueError(f"cannot spread {count} profiles one millisecond apart since the ID epoch")
    for number in range(count):
        created = first_ms + number * step
        profile_id = layout.compose(created, worker_id, 0)
        phone = phone_number(number)
        core = json.dumps({"FirstName": f"First{number % 5000}", "LastName": f"Last{number % 20000}",
                           "PhoneNumber": [phone]}, separators=(",", ":"))
        yield ((profile_id, f"P{number:08d}", core, created, created),
               (key_id, digest([phone]), profile_id, profile_id))


def fill_profiles(db, count, *, layout, key_id, batch_size=5000, sample_size=2000, seed=11):
    """Insert `count` profiles, each with its row for key_id; returns a ProfileFillReport.

    SQLite drops the two tables' secondary indexes and rebuilds them at the end (one sorted
    build); MySQL keeps them (its foreign keys need them) and commits every batch.
    """
    worker_id = layout.max_workers - 1
    now_ms = int(time.time() * 1000)
    profile_sql = _insert_sql(db, Profile, ("id", "customer_id", "core", "created_ms", "updated_ms"))
    value_sql = _insert_sql(db, IdentificationValue, ("key_id", "digest", "slot", "profile_id"))
    sqlite = not isinstance(db, pw.MySQLDatabase)
    started = time.monotonic()
    _lease(worker_id, now_ms)
    try:
        if sqlite:
            for model in (Profile, IdentificationValue):
                for index in model._meta.fields_to_index():
                    db.execute_sql(f'DROP INDEX IF EXISTS "{index._name}"')
        rows = generate_profiles(count, layout=layout, worker_id=worker_id, now_ms=now_ms, key_id=key_id)
        written = 0
        with db.atomic() if sqlite else _nothing():
            while written < count:
                batch = [row for _, row in zip(range(batch_size), rows)]
                with _nothing() if sqlite else db.atomic():
                    db.cursor().executemany(profile_sql, [profile for profile, _ in batch])
                    db.cursor().executemany(value_sql, [value for _, value in batch])
                written += len(batch)
        if sqlite:
            for model in (Profile, IdentificationValue):
                model._schema.create_indexes(safe=True)
    finally:
        _release(worker_id)
    rng = random.Random(seed)
    phones = [phone_number(rng.randrange(count)) for _ in range(min(sample_size, count))]
    return ProfileFillReport(rows=written, seconds=time.monotonic() - started, phones=phones)


def _insert_sql(db, model, columns):
    quote = db.quote
    names = ", ".join(f"{quote[0]}{column}{quote[1]}" for column in columns)
    marks = ", ".join([db.param] * len(columns))
    return f"INSERT INTO {quote[0]}{model._meta.table_name}{quote[1]} ({names}) VALUES ({marks})"


# --- the cases ------------------------------------------------------------------------------

PROFILE_CASES = ("create_profile", "identify", "identify_profile")


def register_phone_key(run):
    """The `phone` key through HTTP (409: there already); returns its row ID for the fill."""
    status, _, answer = call(run.server.url, "POST", "/metadata/identification-keys", PHONE_KEY)
    if status in (404, 405):
        raise run.skip(f"POST /metadata/identification-keys answered {status} (route not there yet?)")
    if status not in (201, 409):
        raise run.failed(f"registering the phone key answered {status}: {json.dumps(answer)[:300]}")
    with database.connection_context():
        return IdentificationKey.get(IdentificationKey.name_key == "phone").id


def fill_for(run):
    """The 1M-profile fill of this backend (once), as a dict for the results."""
    key_id = register_phone_key(run)
    print(f"  [{run.name}] filling {run.settings.fill_rows:,} profiles ...", flush=True)
    with database.connection_context():
        report = fill_profiles(run.db, run.settings.fill_rows, layout=run.layout(), key_id=key_id)
    print(f"    {report.rows:,} profiles in {report.seconds:.1f} s", flush=True)
    # Keys reach every worker within refresh_seconds; the fill changed no key, the set-up did.
    time.sleep(1.2)
    return {**report.as_dict(), "phones": report.phones}


def prepare(run, case, fill):
    """The Lua env of a profile case, after probing its route."""
    if case.key == "create_profile":
        register_phone_key(run)
        run.probe("POST", "/profiles", CREATE_BODY)
        body_file = run.settings.workdir / "create_profile.json"
        body_file.write_text(json.dumps(CREATE_BODY))
        return {"BENCH_PATH": "/profiles", "BENCH_BODY_FILE": str(body_file)}
    suffix = "&include_profile=yes" if case.key == "identify_profile" else ""
    paths = [f"/profiles?PhoneNumber={quote(phone)}{suffix}" for phone in fill["phones"]]
    answer = run.probe("GET", paths[0])
    if not isinstance(answer, list) or len(answer) != 1:
        raise run.failed(f"GET {paths[0]} answered {str(answer)[:200]}, expected one customer")
    return run.paths_env(case, paths)
