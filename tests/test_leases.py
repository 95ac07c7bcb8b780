"""Worker-ID leases of SPEC §8 on the real databases: claim, renew, take-over, release, expiry."""
import os
import subprocess
import sys
import time

import pytest

from app.ids import EPOCH_MS, LAYOUTS, IdUnavailable, Layout, LeasedIdSource
from models import WorkerLease
from tests.support import REPO, ScriptedClock

DEFAULT = LAYOUTS["default"]
FOUR_WORKERS = Layout("four", 41, 2, 6, as_string=False)
LEASE_S = 60
LEASE_MS = LEASE_S * 1000
T = EPOCH_MS + 10**9


@pytest.fixture
def clock():
    return ScriptedClock(T)


@pytest.fixture
def new_source(app):
    """new_source(clock=..., layout=...) -> a LeasedIdSource standing for one process; all released at the end."""
    made = []

    def make(*, clock=None, layout=FOUR_WORKERS):
        source = LeasedIdSource(WorkerLease, layout, lease_seconds=LEASE_S, clock=clock,
                                sleep=clock.sleep if clock else time.sleep)
        made.append(source)
        return source

    yield make
    for source in made:
        source.release()


def claimed(source):
    """The worker ID a source holds after issuing one ID (it claims lazily)."""
    snowflake = source.next_id()
    assert source.layout.decompose(snowflake)[1] == source.worker_id
    return source.worker_id


def lease_row(worker_id):
    return WorkerLease.get_by_id(worker_id)


def test_two_processes_hold_distinct_worker_ids(new_source, clock):
    first, second = new_source(clock=clock), new_source(clock=clock)
    assert claimed(first) != claimed(second)
    assert lease_row(first.worker_id).holder != lease_row(second.worker_id).holder


def test_a_forked_process_claims_its_own_worker_id(new_source, clock, monkeypatch):
    source = new_source(clock=clock)
    parent_worker = claimed(source)
    # After fork the same object lives on in a process with another PID.
    monkeypatch.setattr(os, "getpid", lambda pid=os.getpid(): pid + 1_000_000)
    child_worker = claimed(source)
    assert child_worker != parent_worker
    assert lease_row(parent_worker).holder is not None


def test_the_lease_is_renewed_after_a_third_of_its_life(new_source, clock):
    source = new_source(clock=clock)
    worker = claimed(source)
    assert lease_row(worker).expires_ms == T + LEASE_MS
    clock.now = T + LEASE_MS // 3 - 1
    source.next_id()
    assert lease_row(worker).expires_ms == T + LEASE_MS
    clock.now = T + LEASE_MS // 3
    source.next_id()
    row = lease_row(worker)
    assert row.expires_ms == T + LEASE_MS // 3 + LEASE_MS
    assert row.last_ms == T + LEASE_MS // 3 - 1     # the last millisecond used before renewing
    assert source.worker_id == worker


def test_renewing_with_unchanged_values_still_counts_as_held(app):
    # MySQL reports changed rows, not matched ones, unless told otherwise; a renewal that
    # writes the same values must not look like a lost lease.
    assert WorkerLease.claim("h1", now=T, expires=T + LEASE_MS, worker_count=4) == (0, 0)
    assert WorkerLease.renew(0, "h1", expires=T + LEASE_MS, last_ms=0)
    assert WorkerLease.renew(0, "h1", expires=T + LEASE_MS, last_ms=0)
    assert not WorkerLease.renew(0, "someone else", expires=T + LEASE_MS, last_ms=0)


def test_an_expired_lease_taken_by_another_makes_the_first_claim_anew(new_source, clock):
    first = new_source(clock=clock)
    assert claimed(first) == 0
    clock.now = T + LEASE_MS // 2
    fillers = [new_source(clock=clock) for _ in range(3)]
    assert sorted(claimed(f) for f in fillers) == [1, 2, 3]
    # Only the first lease has expired: say its process stalled for longer than a lease.
    clock.now = T + LEASE_MS + 1
    second = new_source(clock=clock)
    assert claimed(second) == 0
    freed = fillers[1].worker_id
    fillers[1].release()
    # The first process notices at its renewal that worker ID 0 is no longer its own.
    snowflake = first.next_id()
    assert first.worker_id == freed != second.worker_id
    assert FOUR_WORKERS.decompose(snowflake)[1] == freed
    assert lease_row(0).holder == second._holder


def test_release_frees_the_worker_id(new_source, clock):
    first = new_source(clock=clock)
    worker = claimed(first)
    first.release()
    assert lease_row(worker).holder is None
    assert first.worker_id is None
    assert claimed(new_source(clock=clock)) == worker


def test_a_released_worker_id_continues_after_its_last_id(new_source, clock):
    first = new_source(clock=clock)
    issued = [first.next_id() for _ in range(5)]
    first.release()
    successor = new_source(clock=clock)     # same worker ID, same millisecond
    assert successor.next_id() > max(issued)


def test_no_free_worker_id_means_no_id(new_source, clock):
    holders = [new_source(clock=clock) for _ in range(FOUR_WORKERS.max_workers)]
    assert sorted(claimed(h) for h in holders) == [0, 1, 2, 3]
    with pytest.raises(IdUnavailable) as refused:
        new_source(clock=clock).next_id()
    assert refused.value.error_code == "NO_WORKER_ID"


def add_id_route(app):
    """A route that needs an ID, as Start Service will."""
    runtime = app.extensions["context_services"]

    @app.post("/test-only/id")
    def issue_id():
        return {"id": runtime.ids.layout.export(runtime.ids.next_id())}, 201


def test_a_route_needing_an_id_answers_503_without_a_worker_id(app, new_source):
    add_id_route(app)
    client = app.test_client()
    others = [new_source(layout=DEFAULT) for _ in range(DEFAULT.max_workers)]
    for other in others:
        claimed(other)
    response = client.post("/test-only/id")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    error = response.get_json()["error"]
    assert (error["error_code"], error["http_code"], error["uri"]) == ("NO_WORKER_ID", 503, "/test-only/id")
    freed = others[17].worker_id
    others[17].release()
    response = client.post("/test-only/id")
    assert response.status_code == 201
    assert DEFAULT.decompose(response.get_json()["id"])[1] == freed


def test_a_route_needing_an_id_answers_503_when_the_clock_steps_back(app, clock):
    runtime = app.extensions["context_services"]
    runtime.ids = LeasedIdSource(WorkerLease, DEFAULT, lease_seconds=LEASE_S, clock=clock, sleep=clock.sleep)
    add_id_route(app)
    client = app.test_client()
    try:
        before = client.post("/test-only/id").get_json()["id"]
        clock.advance(-100)
        response = client.post("/test-only/id")
        assert response.status_code == 503
        assert response.get_json()["error"]["error_code"] == "CLOCK_MOVED_BACKWARDS"
        clock.advance(101)
        assert client.post("/test-only/id").get_json()["id"] > before
    finally:
        runtime.ids.release()


CLAIM_AND_DIE = """
import os, sys
from app import create_app
from app.config import build_settings
app = create_app(build_settings({"database": {"url": sys.argv[1]}}))
ids = app.extensions["context_services"].ids
ids.next_id()
print(ids.worker_id, flush=True)
os._exit(0)   # dies holding the lease: no atexit, no gunicorn worker_exit hook
"""


def test_the_lease_of_a_dead_process_is_claimable_after_expiry(app, new_source, database_url):
    before_ms = time.time_ns() // 1_000_000
    dead = subprocess.run([sys.executable, "-c", CLAIM_AND_DIE, database_url], cwd=REPO,
                          capture_output=True, text=True, check=True)
    dead_worker = int(dead.stdout.split()[-1])
    after_ms = time.time_ns() // 1_000_000
    row = lease_row(dead_worker)
    assert row.holder is not None and before_ms + LEASE_MS <= row.expires_ms <= after_ms + LEASE_MS
    # Every other worker ID is held, for longer than the dead process's lease.
    clock = ScriptedClock(after_ms + LEASE_MS // 2)
    for _ in range(DEFAULT.max_workers - 1):
        claimed(new_source(clock=clock, layout=DEFAULT))
    waiting = new_source(clock=ScriptedClock(row.expires_ms), layout=DEFAULT)
    with pytest.raises(IdUnavailable):
        waiting.next_id()
    after_expiry = new_source(clock=ScriptedClock(row.expires_ms + 1), layout=DEFAULT)
    assert claimed(after_expiry) == dead_worker
