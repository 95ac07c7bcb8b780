"""Faults while gunicorn serves a load of starts: 503 JSON, nothing half-written, recovery in place.

The database really goes away (a private MariaDB is killed, the SQLite files are made
immutable), and a worker really dies (SIGKILL). After each, every 201 must be stored
whole, every stored service must be whole, and the same gunicorn must serve again.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from app.db import open_database
from app.ids import LAYOUTS
from tests.load import (StartLoad, assert_answers_match_storage, gunicorn_processes, register_extensions,
                        request, stored_services)
from tests.private_mariadb import empty_private_mariadb, private_mariadb  # noqa: F401 - fixtures
from tests.support import running_gunicorn

CONNECTIONS = 8
# Bounds on waiting for a state to be reached; they assert nothing about speed.
STATE_TIMEOUT_S = 120
PASSWORD = "Pa55-not-for-logs"


def server_log(tmp_path, base_url):
    return (Path(tmp_path) / f"gunicorn-{urlparse(base_url).port}.log").read_text(errors="replace")


def assert_unavailable_answers_are_json(load):
    refused = [answer for answer in load.answers if answer.status == 503]
    codes = {answer.error_code for answer in refused}
    # WRITE_OUTCOME_UNKNOWN: the connection broke after a write went out (MySQL only).
    assert refused and "DATABASE_UNAVAILABLE" in codes <= {"DATABASE_UNAVAILABLE", "WRITE_OUTCOME_UNKNOWN"}, codes
    others = {answer.status for answer in load.answers} - {201, 503}
    assert not others, f"answers other than 201 and 503: {others}"


def assert_unavailable_means_not_stored(answers, url):
    """A 503 DATABASE_UNAVAILABLE stored nothing: only WRITE_OUTCOME_UNKNOWN (or no answer) may have."""
    stored, _ = stored_services(url)
    stored_anyway = [answer for answer in answers
                     if answer.error_code == "DATABASE_UNAVAILABLE" and answer.contact_key in stored]
    assert not stored_anyway, f"answered DATABASE_UNAVAILABLE but stored: {stored_anyway[:5]}"


def summary(what, answers, stored, stored_in_doubt):
    """One line of figures for the README; shown with pytest -s (make stress passes it)."""
    counts = {}
    for answer in answers:
        label = {201: "201", 503: f"503 {answer.error_code}", None: "no answer"}.get(answer.status, answer.status)
        counts[label] = counts.get(label, 0) + 1
    print(f"\n{what}: answers {counts}; stored {stored}, of which {stored_in_doubt} answered 503 or not at all")


def run_through_fault(base_url, *, break_it, repair_it, tag, cycles=1):
    """Load; `cycles` times: break the database, wait for 503s, repair it, wait for 201s. The load."""
    created = lambda answer: answer.status == 201          # noqa: E731
    refused = lambda answer: answer.status == 503          # noqa: E731
    with StartLoad(base_url, connections=CONNECTIONS, tag=tag) as load:
        load.wait_until(created, at_least=200, timeout_s=STATE_TIMEOUT_S, what="are 201 before the fault")
        for _ in range(cycles):
            break_it()
            load.wait_until(refused, at_least=load.count(refused) + 50, timeout_s=STATE_TIMEOUT_S, what="are 503")
            before_repair = load.count(created)
            repair_it()
            load.wait_until(created, at_least=before_repair + 200, timeout_s=STATE_TIMEOUT_S,
                            what="are 201 after the repair")
    return load


# One outage in every run; ten in a row under make stress.
CYCLES = [1, pytest.param(10, marks=pytest.mark.stress)]


# --- MariaDB stopped during load -----------------------------------------------------

@pytest.mark.parametrize("cycles", CYCLES)
@pytest.mark.parametrize("how", ["killed", "shut down"])
def test_mariadb_stopped_during_load_gives_503_loses_nothing_and_recovers_in_place(
        empty_private_mariadb, tmp_path, how, cycles):
    server = empty_private_mariadb
    # With --skip-grant-tables any password is accepted: this one is only there to be
    # looked for in the log.
    url = server.url.replace("root@", f"root:{PASSWORD}@")
    config = {"database": {"url": url, "connect_timeout_s": 2}}
    with running_gunicorn(config, workers=4, tmp_path=tmp_path) as base_url:
        master, workers = gunicorn_processes(base_url, workers=4)
        register_extensions(base_url)
        load = run_through_fault(base_url, tag=how.replace(" ", "-"), cycles=cycles,
                                 break_it=lambda: server.stop(kill=how == "killed"), repair_it=server.start)
        # the same master and workers: recovered without a restart
        assert master.is_running()
        assert {worker.pid for worker in master.children()} == {worker.pid for worker in workers}
        assert request(base_url, "GET", "/healthz")[0] == 200
    assert_unavailable_answers_are_json(load)
    created, stored, stored_in_doubt = assert_answers_match_storage(load.answers, url)
    assert created >= 400 and stored == created + stored_in_doubt
    assert_unavailable_means_not_stored(load.answers, url)
    summary(f"MariaDB {how} {cycles}x under load", load.answers, stored, stored_in_doubt)
    log = server_log(tmp_path, base_url)
    assert PASSWORD not in log
    assert "database unavailable" in log


# --- SQLite made unwritable during load ----------------------------------------------

def _chattr(flag, paths):
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


def _immutable_supported(directory):
    probe = Path(directory) / "chattr-probe"
    probe.write_bytes(b"")
    try:
        _chattr("+i", [probe])
    except (OSError, subprocess.CalledProcessError):
        return False
    _chattr("-i", [probe])
    return True


@pytest.fixture
def sqlite_dir(tmp_path):
    if shutil.which("chattr") is None or os.geteuid() != 0 or not _immutable_supported(tmp_path):
        pytest.skip("needs root and a file system with chattr +i (immutable files)")
    directory = tmp_path / "db"
    directory.mkdir()
    yield directory
    # never leave an immutable file behind: pytest could not remove its tmp_path
    _chattr("-i", [path for path in directory.iterdir()] + [directory])


@pytest.mark.parametrize("cycles", CYCLES)
def test_sqlite_made_unwritable_during_load_gives_503_loses_nothing_and_recovers_in_place(sqlite_dir, tmp_path,
                                                                                           cycles):
    """Root ignores file modes, so the files are made immutable (chattr +i) instead.

    The database file and its WAL refuse writes; the -shm file is left alone, because it is
    memory-mapped and a write to an immutable mapping kills the process with SIGBUS, which
    is no model of a disk that refuses writes.
    """
    url = f"sqlite:///{sqlite_dir}/cs.db"
    files = [sqlite_dir / "cs.db", sqlite_dir / "cs.db-wal"]
    with running_gunicorn({"database": {"url": url}}, workers=4, tmp_path=tmp_path) as base_url:
        master, workers = gunicorn_processes(base_url, workers=4)
        register_extensions(base_url)
        load = run_through_fault(base_url, tag="immutable", cycles=cycles,
                                 break_it=lambda: _chattr("+i", files + [sqlite_dir]),
                                 repair_it=lambda: _chattr("-i", files + [sqlite_dir]))
        assert master.is_running()
        assert {worker.pid for worker in master.children()} == {worker.pid for worker in workers}
    assert_unavailable_answers_are_json(load)
    created, stored, stored_in_doubt = assert_answers_match_storage(load.answers, url)
    assert created >= 400 and stored == created + stored_in_doubt
    summary(f"SQLite files immutable {cycles}x under load", load.answers, stored, stored_in_doubt)
    assert "Traceback" not in server_log(tmp_path, base_url)


# --- a worker killed mid-load --------------------------------------------------------

def _sql(url, sql, params=()):
    db = open_database(url)
    with db.connection_context():
        with db.atomic():
            return db.execute_sql(sql.replace("?", db.param), params).fetchall()


def _worker_id_held_by(url, pid):
    rows = _sql(url, "SELECT worker_id FROM worker_lease WHERE holder LIKE ?", (f"%:{pid}:%",))
    return rows[0][0] if rows else None


def _worker_ids_of_live_workers(url, master):
    """The worker IDs the master's workers hold, once each has served a start and so leased one."""
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while None in (held := {_worker_id_held_by(url, worker.pid) for worker in master.children()}):
        assert time.monotonic() < deadline, "a worker never leased a worker ID"
        time.sleep(0.05)
    return held


def _wait_for_replacement(master, pid, workers):
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while True:
        pids = {worker.pid for worker in master.children()}
        if pid not in pids and len(pids) == workers:
            return
        assert time.monotonic() < deadline, "gunicorn did not replace a killed worker"
        time.sleep(0.05)


def test_a_worker_killed_mid_load_leaves_every_answered_start_whole_and_its_lease_is_reused(
        make_app, database_url, tmp_path):
    make_app()          # empties the test database
    lease_seconds = 5   # the smallest the config allows: expiry is what this test waits for
    config = {"database": {"url": database_url}, "ids": {"lease_seconds": lease_seconds}}
    layout = LAYOUTS["default"]
    created = lambda answer: answer.status == 201          # noqa: E731
    with running_gunicorn(config, workers=2, tmp_path=tmp_path) as base_url:
        master, _ = gunicorn_processes(base_url, workers=2)
        register_extensions(base_url)
        with StartLoad(base_url, connections=CONNECTIONS, tag="sigkill") as load:
            load.wait_until(created, at_least=300, timeout_s=STATE_TIMEOUT_S, what="are 201 before a kill")
            for _ in range(3):
                victim = master.children()[0]
                victim.send_signal(signal.SIGKILL)
                _wait_for_replacement(master, victim.pid, 2)
                done = load.count(created)
                load.wait_until(created, at_least=done + 100, timeout_s=STATE_TIMEOUT_S, what="are 201 after a kill")

            # Now every worker ID but the live workers' is taken by a holder that never
            # expires: the next victim's ID is the only one its replacement can get, once
            # the victim's lease has expired.
            live = _worker_ids_of_live_workers(database_url, master)
            marks = ", ".join("?" * len(live))
            _sql(database_url, f"UPDATE worker_lease SET holder = 'test-blocker', expires_ms = ?"
                               f" WHERE worker_id < ? AND worker_id NOT IN ({marks})",
                 (2**62, layout.max_workers, *live))
            victim = master.children()[0]
            victim_id = _worker_id_held_by(database_url, victim.pid)
            issued_before = load.count(lambda a: a.status == 201 and layout.decompose(a.service_id)[1] == victim_id)
            victim.send_signal(signal.SIGKILL)
            _wait_for_replacement(master, victim.pid, 2)
            load.wait_until(lambda a: a.status == 201 and layout.decompose(a.service_id)[1] == victim_id,
                            at_least=issued_before + 100, timeout_s=STATE_TIMEOUT_S,
                            what=f"carry the killed worker's ID {victim_id}, leased again")

    statuses = {(answer.status, answer.error_code) for answer in load.answers}
    # None: the connection to a killed worker broke; NO_WORKER_ID: the replacement waited for the lease
    assert statuses <= {(201, None), (None, None), (503, "NO_WORKER_ID")}, statuses
    created_count, stored, stored_in_doubt = assert_answers_match_storage(load.answers, database_url)
    assert stored == created_count + stored_in_doubt
    summary("4 workers SIGKILLed under load", load.answers, stored, stored_in_doubt)
    # the reused worker ID went on with IDs after the killed worker's
    with_victim_id = [a for a in load.answers if a.status == 201 and layout.decompose(a.service_id)[1] == victim_id]
    assert len(with_victim_id) == len({a.service_id for a in with_victim_id})
    assert "Traceback" not in server_log(tmp_path, base_url)
