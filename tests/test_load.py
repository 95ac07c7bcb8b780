"""Many starts from many connections over several gunicorn workers: every answer stored, nothing else.

The 50,000-start runs are marked `stress` (`make stress`); the default suite runs 5,000.
"""
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.load import StartLoad, assert_answers_match_storage, register_extensions
from tests.support import running_gunicorn

# What SQLite and MySQL/InnoDB say when a writer gives up on a lock, or is chosen as a
# deadlock victim.
LOCK_ERRORS = ("database is locked", "database table is locked", "Lock wait timeout", "Deadlock found")


def run_load(make_app, database_url, tmp_path, *, starts, connections=16, workers=4):
    make_app()          # empties the test database
    with running_gunicorn({"database": {"url": database_url}}, workers=workers, tmp_path=tmp_path) as base_url:
        register_extensions(base_url)
        began = time.monotonic()
        with StartLoad(base_url, connections=connections, total=starts, tag="load") as load:
            load.join()
        seconds = time.monotonic() - began
    log = (Path(tmp_path) / f"gunicorn-{urlparse(base_url).port}.log").read_text(errors="replace")
    statuses = {answer.status for answer in load.answers}
    assert len(load.answers) == starts
    assert statuses == {201}, {status: sum(a.status == status for a in load.answers) for status in statuses}
    created, stored, _ = assert_answers_match_storage(load.answers, database_url)
    assert created == stored == starts
    assert not [error for error in LOCK_ERRORS if error in log], log[-3000:]
    assert "Traceback" not in log
    return seconds


def report(backend, starts, seconds):
    # A figure for the README, not an assertion: timing depends on the machine.
    print(f"\n{backend}: {starts} starts (16 connections, 4 workers) in {seconds:.1f} s, "
          f"{starts / seconds:.0f} starts/s")


def test_5000_starts_from_16_connections_over_4_workers_are_all_stored(make_app, database_url, backend, tmp_path):
    report(backend, 5000, run_load(make_app, database_url, tmp_path, starts=5000))


@pytest.mark.stress
def test_50000_starts_from_16_connections_over_4_workers_are_all_stored(make_app, database_url, backend, tmp_path):
    report(backend, 50000, run_load(make_app, database_url, tmp_path, starts=50000))
