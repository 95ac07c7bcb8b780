"""SPEC §14 through real gunicorn with 4 workers: host-wide counts, the access log, request IDs."""
import os
import re
import time

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support import running_gunicorn

N = 40
START = {"contact_key": "k", "service_type": 1}
LOG_WAIT_S = 30          # bounds a wait for gunicorn to flush its log; asserts nothing about speed


def metric(base_url, name, **labels):
    text = requests.get(base_url + "/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


def status(base_url):
    return requests.get(base_url + "/server/status", timeout=10).json()


def test_metrics_and_status_count_every_request_whichever_worker_answers(tmp_path, make_app, database_url):
    make_app()          # empties the test's database (on MySQL, what earlier tests left)
    with running_gunicorn({"database": {"url": database_url}}, workers=4, tmp_path=tmp_path) as base_url:
        before = status(base_url)["request_today"]
        for _ in range(N):
            assert requests.post(base_url + "/services/start", json=START, timeout=10).status_code == 201
        assert metric(base_url, "cs_http_requests_total", route="/services/start", method="POST",
                      status="201") == N
        assert metric(base_url, "cs_ids_issued_total") == N
        assert 1 <= metric(base_url, "cs_worker_leases_held") <= 4
        answered_by = set()
        for asked in range(8):
            now = status(base_url)
            answered_by.add(now["worker"]["pid"])
            # the first status, N starts, two /metrics reads per check above, the earlier statuses
            assert now["request_today"] == before + 1 + N + 3 + asked
        assert metric(base_url, "cs_http_requests_total", route="/server/status") == 9


def test_the_access_log_has_duration_request_id_and_user_and_5xx_lines_carry_it(tmp_path):
    with running_gunicorn({}, workers=2, tmp_path=tmp_path) as base_url:
        requests.get(base_url + "/healthz", headers={"X-Request-ID": "trace-ok"}, timeout=10)
        os.remove(tmp_path / "cs.db")          # the database file is gone: the next write is a 503
        refused = requests.post(base_url + "/services/start", json=START, headers={"X-Request-ID": "trace-503"},
                                timeout=10)
        assert refused.status_code == 503 and refused.headers["X-Request-ID"] == "trace-503"
        log = wait_for_log(tmp_path, "request_id=trace-503")
    line = re.compile(r'127\.0\.0\.1 \[[^]]+\] "GET /healthz HTTP/1\.1" 200 \d+ \d+ms request_id=trace-ok user=-')
    assert line.search(log), log
    assert re.search(r'"POST /services/start HTTP/1\.1" 503 \d+ \d+ms request_id=trace-503 user=-', log), log
    assert re.search(r"database unavailable \(request trace-503\)", log), log
    assert re.search(r"context-services \S+: config \S+cs\.ini, database sqlite \S+cs\.db, base path /", log), log


def test_a_hostile_request_id_is_not_written_to_the_log(tmp_path):
    with running_gunicorn({}, workers=1, tmp_path=tmp_path) as base_url:
        long, too_long = "y" * 8000, "z" * 10240
        response = requests.get(base_url + "/healthz", headers={"X-Request-ID": long}, timeout=10)
        made = response.headers["X-Request-ID"]
        assert made != long and len(made) == 32
        # Past gunicorn's header limit: refused before the app, and not echoed either.
        refused = requests.get(base_url + "/healthz", headers={"X-Request-ID": too_long}, timeout=10)
        assert refused.status_code in (400, 431) and too_long not in refused.text
        log = wait_for_log(tmp_path, f"request_id={made}")
    assert long not in log and too_long not in log


def wait_for_log(tmp_path, text):
    (path,) = tmp_path.glob("gunicorn-*.log")
    deadline = time.monotonic() + LOG_WAIT_S
    while text not in path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.read_text()
