"""SPEC §9 server routes: /healthz, /server/status and /server/mode, on both databases."""
import configparser
import datetime as dt
import re
from pathlib import Path

import pytest
from flask import Blueprint

from app.api import refuse_in_maintenance
from app.stats import RequestStats

SETUP_CFG = Path(__file__).resolve().parent.parent / "setup.cfg"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def parse_timestamp(text):
    assert TIMESTAMP.fullmatch(text), text
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_status_reports_the_spec_fields(client, backend):
    client.get("/healthz")
    status = client.get("/server/status").get_json()
    assert {"version", "mode", "started", "system_time", "last_request", "request_today",
            "client_errors_today", "server_errors_today", "memory", "database"} <= set(status)
    setup = configparser.ConfigParser()
    setup.read(SETUP_CFG)
    assert status["version"] == setup["metadata"]["version"]
    assert status["mode"] == "production"
    started, now, last = (parse_timestamp(status[key]) for key in ("started", "system_time", "last_request"))
    assert started <= last <= now
    assert status["memory"]["rss_bytes"] > 0 and status["memory"]["peak_rss_bytes"] > 0
    assert status["database"] == {"kind": backend, "answers": True}


def test_status_before_any_other_request_has_no_last_request(client):
    status = client.get("/server/status").get_json()
    assert "last_request" not in status
    assert (status["request_today"], status["client_errors_today"], status["server_errors_today"]) == (0, 0, 0)


def counts(client):
    status = client.get("/server/status").get_json()
    return status["request_today"], status["client_errors_today"], status["server_errors_today"]


def test_status_counts_requests_and_errors(app):
    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("a bug")

    client = app.test_client()
    assert counts(client) == (0, 0, 0)
    client.get("/healthz")
    assert counts(client) == (2, 0, 0)          # the first status request counts too
    client.get("/no/such/route")
    client.post("/server/mode", data=b"[]")
    assert counts(client) == (5, 2, 0)
    client.get("/test-only/boom")
    assert counts(client) == (7, 2, 1)


def test_counters_start_again_each_utc_day(app):
    clock = [dt.datetime(2026, 3, 1, 23, 59, 59, tzinfo=dt.timezone.utc).timestamp()]
    app.extensions["context_services"].stats = RequestStats(clock=lambda: clock[0])
    client = app.test_client()
    client.get("/no/such/route")
    client.get("/healthz")
    assert counts(client) == (2, 1, 0)
    clock[0] += 2                               # 2026-03-02T00:00:01Z
    status = client.get("/server/status").get_json()
    assert (status["request_today"], status["client_errors_today"]) == (0, 0)
    assert status["system_time"] == "2026-03-02T00:00:01.000Z"
    assert status["last_request"] == "2026-03-01T23:59:59.000Z"


@pytest.mark.parametrize("mode", ["maintenance", "production"])
def test_mode_can_be_set(client, mode):
    response = client.post("/server/mode", json={"mode": mode})
    assert response.status_code == 200
    assert response.get_json() == {"mode": mode}
    assert client.get("/server/status").get_json()["mode"] == mode


@pytest.mark.parametrize("body, field", [
    ({"mode": "party"}, "mode"),
    ({"mode": "MAINTENANCE"}, "mode"),
    ({"mode": None}, "mode"),
    ({"mode": 1}, "mode"),
    ({}, "mode"),
    ({"mode": "production", "until": "tomorrow"}, "until"),
])
def test_an_invalid_mode_is_400_naming_the_field(client, body, field):
    response = client.post("/server/mode", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["error_code"] == "VALIDATION_ERROR"
    assert list(error["fields"]) == [field]
    assert client.get("/server/status").get_json()["mode"] == "production"


def test_mode_is_held_in_the_database(make_app):
    # refresh_seconds = 0: every request reads the mode, so no test waits for a refresh.
    first = make_app(extensions={"refresh_seconds": 0}).test_client()
    assert first.post("/server/mode", json={"mode": "maintenance"}).status_code == 200
    # A second app on the same database stands for another worker or host.
    second = make_app(extensions={"refresh_seconds": 0}).test_client()
    assert second.get("/server/status").get_json()["mode"] == "maintenance"
    assert second.post("/server/mode", json={"mode": "production"}).status_code == 200
    assert first.get("/server/status").get_json()["mode"] == "production"
    assert make_app().test_client().get("/server/status").get_json()["mode"] == "production"


def test_maintenance_refuses_guarded_routes_only(app):
    # Services, states and tasks will guard their blueprints this way.
    guarded = Blueprint("guarded", __name__)
    guarded.before_request(refuse_in_maintenance)
    guarded.add_url_rule("/test-only/guarded", "guarded", lambda: {"ok": True})
    app.register_blueprint(guarded)
    client = app.test_client()
    assert client.get("/test-only/guarded").status_code == 200
    client.post("/server/mode", json={"mode": "maintenance"})
    response = client.get("/test-only/guarded")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["error"]["error_code"] == "MAINTENANCE"
    assert client.get("/healthz").status_code == 200
    assert client.get("/server/status").status_code == 200
    client.post("/server/mode", json={"mode": "production"})
    assert client.get("/test-only/guarded").status_code == 200


def test_routes_hang_off_the_base_path(make_app):
    client = make_app(api={"base_path": "/genesys/1/cs"}).test_client()
    assert client.get("/genesys/1/cs/healthz").status_code == 200
    assert client.post("/genesys/1/cs/server/mode", json={"mode": "production"}).status_code == 200
    assert client.get("/genesys/1/cs/server/status").get_json()["mode"] == "production"
    assert client.get("/server/status").status_code == 404
