"""Schemathesis against the server's own /openapi.json, every operation, through gunicorn.

Generated requests, valid and invalid, must never get a 5xx (the database is up and the
mode is production), and every answer must carry a documented status code, the documented
content type and a body that fits the documented schema (for errors, the SPEC §2 shape).

Schemathesis runs as its command-line tool: its pytest integration does not work with
pytest 9. Three passes: random path parameters; the IDs of a real service, state and task,
so that generated bodies reach the lifecycle logic; and POST /server/mode on its own, last,
because a generated {"mode": "maintenance"} turns every other answer into a documented 503.
The CI run is small; `make stress` runs the same passes with many more examples.
"""
import json
import subprocess
import sys

import pytest

from tests.load import request
from tests.support import running_gunicorn
from tests.vendor import EXTENSION_SCHEMAS

# Not negative_data_rejection: it found the flags documented narrower than the server reads
# them (fixed), but it also reports ?extensions= as invalid, when an empty value is how an
# empty form-style array is sent; in long runs that false alarm comes up sooner or later.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
RUN_TIMEOUT_S = 1800


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, path parameters of a real journey) of a gunicorn server on SQLite."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    with running_gunicorn({}, workers=2, tmp_path=tmp_path) as base_url:
        for kind in ("services", "states", "tasks"):
            for schema in EXTENSION_SCHEMAS:
                assert request(base_url, "POST", f"/metadata/{kind}/extensions", schema)[0] == 201
        body = {"customer_id": "c1", "contact_key": "k1", "service_type": 1,
                "relatedOffers": [{"offer_name": "a", "type": 1}]}
        status, started = request(base_url, "POST", "/services/start", body)
        assert status == 201
        service = started["service_id"]
        assert request(base_url, "POST", f"/services/{service}/states/start", {"state_type": 1})[0] == 201
        assert request(base_url, "POST", f"/services/{service}/tasks/start", {"task_type": 1})[0] == 201
        yield base_url, {"service_id": service, "state_id": 1, "task_id": 1, "customer_id": "c1",
                         "contact_key": "k1", "name": "relatedOffers", "kind": "services"}


def schemathesis_run(base_url, tmp_path, *, examples, phases, options=(), parameters=None, checks=CHECKS):
    """Run `st run` against the server; the JSON report. Fails with schemathesis's output."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "schemathesis.toml"
    lines = ["[parameters]"] + [f'"path.{name}" = {json.dumps(value)}' for name, value in (parameters or {}).items()]
    config.write_text("\n".join(lines) + "\n")
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
               f"{base_url}/openapi.json", "--checks", checks, "--max-examples", str(examples),
               # One worker: with two threads, hypothesis's per-test changes of the (process-wide)
               # recursion limit race with the other thread's ast.parse of a lambda's source, and
               # CPython 3.11.7 fails with "SystemError: AST constructor recursion depth mismatch"
               # (seen in 2 of 3 runs with two workers, 0 of 3 with one): schemathesis's crash,
               # not an answer of ours.
               "--phases", phases, "--no-color", "--generation-database", "none", "--workers", "1",
               "--request-timeout", "60", "--report", "json", "--report-json-path", str(report),
               "--report-dir", str(tmp_path), *options]
    finished = subprocess.run(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=RUN_TIMEOUT_S)
    output = finished.stdout.decode(errors="replace")
    assert finished.returncode == 0, output[-20000:]
    result = json.loads(report.read_text())
    operations = result["operations"]
    assert operations["tested"] == operations["selected"] > 0 and not operations["errored"], output[-5000:]
    assert not result["failures"] and not result["errors"], output[-20000:]
    return result


def fuzz_every_operation(served, tmp_path, *, examples, phases):
    base_url, journey = served
    not_mode = ("--exclude-path", "/server/mode")
    random_ids = schemathesis_run(base_url, tmp_path / "random", examples=examples, phases=phases, options=not_mode)
    real_ids = schemathesis_run(base_url, tmp_path / "real", examples=examples, phases=phases, options=not_mode,
                                parameters=journey)
    mode = schemathesis_run(base_url, tmp_path / "mode", examples=examples, phases=phases,
                            options=("--include-path", "/server/mode"))
    assert request(base_url, "POST", "/server/mode", {"mode": "production"})[0] == 200
    # every documented operation was fuzzed: all but one in the first two passes, that one last
    tested = random_ids["operations"]["tested"] + mode["operations"]["tested"]
    assert tested == random_ids["operations"]["total"], (tested, random_ids["operations"])
    return sum(run["test_cases"]["generated"] for run in (random_ids, real_ids, mode))


def test_every_operation_answers_as_documented(served, tmp_path):
    cases = fuzz_every_operation(served, tmp_path, examples=10, phases="examples,coverage,fuzzing")
    print(f"\nschemathesis: {cases} generated requests, no failure")


@pytest.mark.stress
def test_every_operation_answers_as_documented_long(served, tmp_path):
    cases = fuzz_every_operation(served, tmp_path, examples=300, phases="examples,coverage,fuzzing,stateful")
    print(f"\nschemathesis: {cases} generated requests, no failure")


def test_with_credentials_every_operation_answers_as_documented(tmp_path):
    """[auth] mode = basic: the same checks with an admin's credentials, plus schemathesis's
    ignored_auth, which sends each operation that declares basicAuth without valid credentials
    and fails unless it is refused. One small pass: the other passes cover the routes' logic."""
    from app.passwords import hash_password
    password = "fuzz-admin-password"
    settings = {"auth": {"mode": "basic", "max_failures_per_minute": 100_000},
                "user:fuzz": {"password": hash_password(password), "roles": "admin"}}
    with running_gunicorn(settings, workers=2, tmp_path=tmp_path) as base_url:
        result = schemathesis_run(base_url, tmp_path / "auth", examples=5, phases="examples,fuzzing",
                                  options=("--exclude-path", "/server/mode", "--auth", f"fuzz:{password}"),
                                  checks=CHECKS + ",ignored_auth")
    print(f"\nschemathesis with credentials: {result['test_cases']['generated']} generated requests, no failure")
