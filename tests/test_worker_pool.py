"""The worker-ID pool survives killed workers and killed masters, and gunicorn is set up per instance (SPEC §12)."""
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests

from app.ids import LAYOUTS, parse_holder
from models import WorkerLease, database
from tests.support import GUNICORN_CONF, READY_TIMEOUT_S, REPO, free_port, render_ini, running_gunicorn

DEFAULT = LAYOUTS["default"]
FAR_FUTURE_MS = 2**62
HOST = os.uname().nodename[:30]


@pytest.fixture
def pool_of_two(make_app, database_url):
    """The test's database with every worker ID but two held by live processes of another host."""
    make_app()
    with database.connection_context():
        (WorkerLease
         .update(holder="elsewhere:1:0", expires_ms=FAR_FUTURE_MS)
         .where(WorkerLease.worker_id < DEFAULT.max_workers - 2)
         .execute())
    return database_url


def _our_holders():
    with database.connection_context():
        return [parse_holder(holder)[1] for holder in WorkerLease.holders()
                if parse_holder(holder) and parse_holder(holder)[0] == HOST]


def _starts(base_url, count):
    return [requests.post(f"{base_url}/services/start", json={"contact_key": "k", "service_type": 1},
                          timeout=30).status_code for _ in range(count)]


def _master(base_url):
    port = base_url.rsplit(":", 1)[1]
    return next(child for child in psutil.Process().children()
                if any(f"127.0.0.1:{port}" in part for part in child.cmdline()))


def _wait_for_workers(master, count, *, not_in):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        pids = {child.pid for child in master.children()}
        if len(pids) == count and not pids & not_in:
            return
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not replace workers {not_in}")


def test_killed_workers_give_their_leases_back_so_restarts_never_exhaust_the_pool(pool_of_two, tmp_path):
    answers, killed = [], 0
    with running_gunicorn({"database": {"url": pool_of_two}}, workers=2, tmp_path=tmp_path) as base_url:
        master = _master(base_url)
        for _ in range(4):
            answers += _starts(base_url, 6)
            holders = set(_our_holders())
            for pid in holders:
                os.kill(pid, signal.SIGKILL)
            killed += len(holders)
            _wait_for_workers(master, 2, not_in=holders)
        answers += _starts(base_url, 6)
    assert killed >= 4
    assert set(answers) == {201}, answers


def test_a_restart_after_the_whole_group_was_killed_gives_the_dead_leases_back(pool_of_two, tmp_path):
    answers = []
    for round_no in range(3):
        (tmp_path / str(round_no)).mkdir()
        with running_gunicorn({"database": {"url": pool_of_two}}, workers=2,
                              tmp_path=tmp_path / str(round_no)) as base_url:
            answers += _starts(base_url, 6)
            master = _master(base_url)
            group = [master, *master.children()]
            for process in group:
                process.kill()          # SIGKILL: no worker_exit, no child_exit
            psutil.wait_procs(group, timeout=READY_TIMEOUT_S)
    assert set(answers) == {201}, answers


def test_healthz_answers_503_from_a_worker_whose_lease_claim_failed(make_app):
    app = make_app()
    client = app.test_client()
    with database.connection_context():
        WorkerLease.update(holder="elsewhere:1:0", expires_ms=FAR_FUTURE_MS).execute()
    assert client.get("/healthz").status_code == 200        # has not needed an ID yet
    assert client.post("/services/start", json={"contact_key": "k", "service_type": 1}).status_code == 503
    unhealthy = client.get("/healthz")
    assert unhealthy.status_code == 503
    error = unhealthy.get_json()["error"]
    assert (error["error_code"], error["http_code"], error["uri"]) == ("NO_WORKER_ID", 503, "/healthz")
    with database.connection_context():
        WorkerLease.update(holder=None, expires_ms=0).where(WorkerLease.worker_id == 7).execute()
    assert client.get("/healthz").status_code == 200
    assert app.extensions["context_services"].ids.worker_id == 7


def _gunicorn_exit(tmp_path, env):
    config = tmp_path / "cs.ini"
    config.write_text(render_ini({"database": {"url": f"sqlite:///{tmp_path}/cs.db"}}))
    environment = {key: value for key, value in os.environ.items() if key not in ("BIND", "WEB_CONCURRENCY")}
    environment.update(CS_CONFIG=str(config), XDG_RUNTIME_DIR=str(tmp_path), PORT=str(free_port()), **env)
    finished = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "wsgi:application"],
                              cwd=REPO, env=environment, capture_output=True, text=True, timeout=READY_TIMEOUT_S)
    return finished.returncode, finished.stdout + finished.stderr


def test_more_workers_than_the_layout_has_worker_ids_refuse_to_start(tmp_path):
    code, output = _gunicorn_exit(tmp_path, {"WEB_CONCURRENCY": str(DEFAULT.max_workers + 1)})
    assert code != 0
    assert "65 workers asked for" in output and "64 worker IDs" in output, output
    assert "Booting worker" not in output


def test_each_instance_has_no_shared_control_socket(tmp_path, make_app, database_url):
    make_app()
    with running_gunicorn({"database": {"url": database_url}}, workers=1, tmp_path=tmp_path):
        # tests.support points XDG_RUNTIME_DIR at tmp_path, where gunicorn 27 would put it.
        assert not (tmp_path / "gunicorn.ctl").exists()
    own = tmp_path / "own" / "ctl"
    own.parent.mkdir()
    with running_gunicorn({"database": {"url": database_url}}, workers=1, tmp_path=tmp_path / "own",
                          env={"GUNICORN_CONTROL_SOCKET": str(own)}):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not own.exists() and time.monotonic() < deadline:
            time.sleep(0.05)     # gunicorn opens it once the first workers are spawned
        assert own.exists()
