"""The Lua scripts under real wrk, against the baseline under gunicorn: they count what they send."""
import json
import shutil

import pytest

from bench.cases import start_body
from bench.server import Gunicorn
from bench.wrk import run_wrk

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make bench installs it)")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    server = Gunicorn("bench.baseline:app", log_path=tmp_path_factory.mktemp("log") / "baseline.log",
                      env={"WEB_CONCURRENCY": "2"})
    server.start()
    yield server
    server.stop()


def test_post_script_sends_the_body_and_every_request_is_answered(baseline, tmp_path):
    body_file = tmp_path / "body.json"
    body_file.write_text(json.dumps(start_body(with_extensions=True)))
    load = run_wrk(shutil.which("wrk"), baseline.url, "post.lua", seconds=1, connections=2,
                   env={"BENCH_PATH": "/services/start", "BENCH_BODY_FILE": str(body_file)})
    assert load.ok > 0
    assert (load.errors, load.lost) == (0, 0)
    assert load.kinds == {"write": load.ok}


def test_get_script_cycles_through_its_paths(baseline, tmp_path):
    paths_file = tmp_path / "paths"
    paths_file.write_text("/services/1\n/customers/c1/services\n")
    load = run_wrk(shutil.which("wrk"), baseline.url, "get.lua", seconds=1, connections=2,
                   env={"BENCH_PATHS_FILE": str(paths_file)})
    assert load.ok > 0
    assert (load.errors, load.lost) == (0, 0)


def test_journey_script_follows_the_service_id_through_all_nine_steps(baseline):
    load = run_wrk(shutil.which("wrk"), baseline.url, "journey.lua", seconds=1, connections=2)
    assert load.journeys > 0
    assert (load.errors, load.lost, load.bad_body) == (0, 0, 0)
    # Per journey: 1 service, 2 states (start, transition), 3 task starts, 3 ends.
    assert load.kinds["service"] >= load.journeys
    assert load.kinds["state"] >= 2 * load.journeys
    assert load.kinds["task"] >= 3 * load.journeys
    assert load.ok == sum(load.kinds.values())
