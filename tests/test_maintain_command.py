"""`context-services maintain` as operators run it: a real process on a real database (SPEC §13)."""
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.services.run_lock import RunLock
from models import ExtensionRecord, Service, State, Task, database, now_ms
from tests.calls import ok, start_service
from tests.support import render_ini

COMMAND = str(Path(sys.executable).parent / "context-services")
OLD_MS = now_ms() - 400 * 86_400_000
WAIT_S = 120        # bounds waits on a loaded machine; asserts nothing about speed


@pytest.fixture
def config(database_url, tmp_path):
    """The INI file of a server keeping completed services one day (and the test app on its database)."""
    path = tmp_path / "maintain.ini"
    path.write_text(render_ini({"database": {"url": database_url}, "retention": {"completed_days": 1},
                                "lifecycle": {"auto_complete_after_s": 3600}}))
    return path


def maintain(config, *args, **popen):
    return subprocess.Popen([COMMAND, "maintain", "--config", str(config), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def finished(process):
    out, err = process.communicate(timeout=WAIT_S)
    return process.returncode, out, err


def fill_old_completed(count, *, children=False):
    """count services completed 400 days ago, straight into the tables (as the bench fill does)."""
    rows = [{"id": number, "customer_id": f"c{number % 50}", "service_type": 1, "started_ms": OLD_MS,
             "completed_ms": OLD_MS + 1, "last_activity_ms": OLD_MS + 1, "start_context": "{}",
             "last_state_id": 1 if children else 0, "last_task_id": 1 if children else 0}
            for number in range(1, count + 1)]
    with database.atomic():
        for first in range(0, count, 500):
            chunk = rows[first:first + 500]
            Service.insert_many(chunk).execute()
            if children:
                ids = [row["id"] for row in chunk]
                common = {"started_ms": OLD_MS, "completed_ms": OLD_MS + 1, "start_context": "{}"}
                State.insert_many([{"service": i, "state_id": 1, "state_type": 1, **common} for i in ids]).execute()
                Task.insert_many([{"service": i, "task_id": 1, "task_type": 1, **common} for i in ids]).execute()
                ExtensionRecord.insert_many([{"schema": None, "name": "note", "name_key": "note", "service_id": i,
                                              "owner_no": 0, "position": 0, "value": "{}"} for i in ids]).execute()


def test_a_dry_run_prints_what_is_due_and_changes_nothing(make_app, config):
    client = make_app().test_client()
    fill_old_completed(3)
    start_service(client)

    code, out, err = finished(maintain(config, "--dry-run"))

    assert code == 0, err
    assert out.strip() == ("maintain (dry run): due now: auto-completed 0, purged 3, "
                           "values of deleted schemas removed 0")
    assert Service.select().count() == 4


def test_a_run_purges_what_is_due_and_prints_one_summary_line(make_app, config):
    client = make_app().test_client()
    fill_old_completed(5)
    kept = start_service(client)

    code, out, err = finished(maintain(config, "--batch-size", "2"))

    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("maintain: auto-completed 0, purged 5, ")
    assert lines[0].endswith("still due 0")
    assert [row.id for row in Service.select()] == [kept]


def test_pause_ratio_is_checked_before_anything_is_removed(make_app, config):
    make_app()
    fill_old_completed(4)

    code, out, err = finished(maintain(config, "--pause-ratio", "-1"))
    assert code == 2 and "--pause-ratio" in err and Service.select().count() == 4

    code, out, err = finished(maintain(config, "--pause-ratio", "0", "--batch-size", "3"))
    assert code == 0, err
    assert "purged 4" in out and Service.select().count() == 0


def test_on_a_terminal_the_run_shows_a_progress_bar(make_app, config):
    make_app()
    fill_old_completed(30)
    controller, terminal = pty.openpty()
    process = subprocess.Popen([COMMAND, "maintain", "--config", str(config), "--batch-size", "1"],
                               stdout=terminal, stderr=terminal, stdin=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:         # the terminal closed: the process has ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert process.wait(WAIT_S) == 0
    text = shown.decode()
    assert "maintain  [" in text and "30/30" in text and "/s" in text
    assert "purged 30" in text


def test_a_run_exits_75_with_a_message_while_another_holds_the_lock_and_waits_with_wait(make_app, config):
    make_app()
    fill_old_completed(2)
    holding, release = threading.Event(), threading.Event()

    def other_run():
        with database.connection_context(), RunLock():
            holding.set()
            release.wait(WAIT_S)

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert holding.wait(WAIT_S)
        code, out, err = finished(maintain(config))
        assert code == 75 and out == ""
        assert "not started: another maintenance run holds" in err
        assert Service.select().count() == 2
        waiting = maintain(config, "--wait", str(WAIT_S))
        time.sleep(1)           # let it start waiting; it passes whether or not it got there yet
    finally:
        release.set()
        thread.join()
    code, out, err = finished(waiting)
    assert code == 0 and "purged 2" in out, err


def test_two_runs_started_together_one_works_the_other_exits(make_app, config):
    make_app()
    fill_old_completed(1000)        # a thousand transactions: the first run is still working when the second starts

    first, second = maintain(config, "--batch-size", "1"), maintain(config, "--batch-size", "1")
    results = sorted([finished(first), finished(second)])

    (worked, out, err), (refused, _, refusal) = results
    assert (worked, refused) == (0, 75), (err, refusal)
    assert "purged 1000" in out and "another maintenance run holds" in refusal
    assert Service.select().count() == 0


def test_sigkill_in_the_middle_of_a_run_leaves_only_whole_services(make_app, config):
    make_app()
    total = 6000
    fill_old_completed(total, children=True)
    process = maintain(config, "--batch-size", "500")
    deadline = time.monotonic() + WAIT_S
    while Service.select().count() == total and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(WAIT_S)

    remaining = Service.select().count()
    assert 0 < remaining < total, "the kill came too late to hit a run in progress"
    for model, column in ((State, State.service), (Task, Task.service),
                          (ExtensionRecord, ExtensionRecord.service_id)):
        assert model.select().count() == remaining
        orphans = model.select().where(column.not_in(Service.select(Service.id))).count()
        assert orphans == 0

    code, out, err = finished(maintain(config))
    assert code == 0, err
    assert f"purged {remaining}" in out
    assert [model.select().count() for model in (Service, State, Task, ExtensionRecord)] == [0, 0, 0, 0]


def test_a_bad_config_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.ini"
    path.write_text("[retention]\ncompleted_days = soon\n")
    code, out, err = finished(subprocess.Popen([COMMAND, "maintain", "--config", str(path)],
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    assert code == 1 and "configuration error" in err and "completed_days" in err
