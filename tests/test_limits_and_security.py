"""Deployment limits that must agree, and what the server must never show: HTML, secrets, a public bind."""
import json
import logging
import os
import re
import runpy
import socket
import subprocess
import sys
import time
from urllib.parse import quote

import psutil
import pytest
import requests

from app import create_app
from app.config import SCHEMA, build_settings
from models import database
from tests.support import GUNICORN_CONF, READY_TIMEOUT_S, REPO, free_port, render_ini, running_gunicorn
from tests.hostile import ERROR_KEYS

NGINX_CONF = REPO / "deploy" / "nginx.conf"
PASSWORD = "Pa55-not-for-logs"


def nginx_directive(name):
    """The value of the one `name value;` directive in deploy/nginx.conf."""
    values = re.findall(rf"^\s*{name}\s+([^;]+);", NGINX_CONF.read_text(), flags=re.M)
    assert len(values) == 1, f"{name}: {values}"
    return values[0].strip()


def nginx_size(text):
    units = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    number, unit = re.fullmatch(r"([0-9]+)([kKmMgG]?)", text).groups()
    return int(number) * units[unit.lower()]


def nginx_seconds(text):
    units = {"ms": 0.001, "": 1, "s": 1, "m": 60, "h": 3600}
    number, unit = re.fullmatch(r"([0-9]+)(ms|s|m|h|)", text).groups()
    return int(number) * units[unit]


def gunicorn_settings(**env):
    """deploy/gunicorn.conf.py as gunicorn reads it, under exactly the given environment."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return runpy.run_path(str(GUNICORN_CONF))
    finally:
        os.environ.clear()
        os.environ.update(saved)


# --- nginx and the app agree ---------------------------------------------------------

def test_nginx_body_limit_is_the_apps_default_body_limit():
    assert nginx_size(nginx_directive("client_max_body_size")) == SCHEMA["api"]["max_body_bytes"].default


def test_nginx_waits_longer_for_an_answer_than_gunicorn_lets_a_request_run():
    timeout = gunicorn_settings()["timeout"]
    assert nginx_seconds(nginx_directive("proxy_read_timeout")) > timeout
    assert nginx_seconds(nginx_directive("proxy_send_timeout")) > timeout


def test_nginx_forwards_to_where_gunicorn_listens_by_default():
    upstream = re.search(r"upstream\s+\w+\s*{\s*server\s+([0-9.]+:[0-9]+)", NGINX_CONF.read_text()).group(1)
    assert upstream == gunicorn_settings()["bind"]


def test_nginx_own_answers_have_the_spec_error_shape():
    answers = re.findall(r"return (\d+) '([^']+)';", NGINX_CONF.read_text())
    assert sorted(int(status) for status, _ in answers) == [400, 413, 414, 431, 502, 504]
    for status, body in answers:
        body = body.removesuffix("\\n")    # nginx turns the \n that ends each into a newline
        error = json.loads(body.replace("$cs_error_method", "POST").replace("$cs_error_uri", "/services/start"))
        assert set(error["error"]) == ERROR_KEYS and error["error"]["http_code"] == int(status)


# --- binding -------------------------------------------------------------------------

def test_gunicorn_config_binds_to_loopback_unless_told_otherwise():
    assert gunicorn_settings()["bind"] == "127.0.0.1:8080"
    assert gunicorn_settings(PORT="9000")["bind"] == "127.0.0.1:9000"
    assert gunicorn_settings(BIND="0.0.0.0:80")["bind"] == "0.0.0.0:80"


def test_a_server_started_with_the_production_config_listens_on_loopback_only(tmp_path):
    config = tmp_path / "cs.ini"
    config.write_text(render_ini({"database": {"url": f"sqlite:///{tmp_path}/cs.db"}}))
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("BIND", "WEB_CONCURRENCY")}
    env.update(PORT=str(port), WEB_CONCURRENCY="1", CS_CONFIG=str(config), XDG_RUNTIME_DIR=str(tmp_path))
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "wsgi:application"],
                              cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.1)
        listening = {connection.laddr for connection in psutil.Process(server.pid).net_connections(kind="inet")
                     if connection.status == psutil.CONN_LISTEN}
        assert listening == {("127.0.0.1", port)}
    finally:
        server.terminate()
        server.wait(timeout=READY_TIMEOUT_S)
        log.close()


# --- no HTML that carries a client's text --------------------------------------------

HOSTILE_SEGMENT = "<script>alert(1)</script>"


def _hostile_urls(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<[^>]+>", quote(HOSTILE_SEGMENT, safe=""), rule.rule)
        yield path + "?q=" + quote(HOSTILE_SEGMENT), sorted(rule.methods)


def test_no_route_echoes_input_into_html(client, app):
    checked = 0
    for url, methods in _hostile_urls(app):
        for method in methods:
            response = client.open(url, method=method, data=json.dumps({"x": HOSTILE_SEGMENT}),
                                   headers={"Accept": "text/html"})
            checked += 1
            assert response.status_code != 500, (method, url)
            if response.status_code == 204 or method == "HEAD":
                continue
            if response.mimetype == "text/html":
                assert HOSTILE_SEGMENT not in response.get_data(as_text=True), (method, url)
            else:
                assert response.mimetype == "application/json", (method, url, response.mimetype)
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert checked > 10


# --- secrets never logged ------------------------------------------------------------

def _closed_port():
    return free_port()      # nothing listens there: connecting is refused


def test_a_database_password_is_not_logged_at_start_up_or_when_unreachable(caplog):
    url = f"mysql://cs:{PASSWORD}@127.0.0.1:{_closed_port()}/cs"
    with caplog.at_level(logging.DEBUG):
        app = create_app(build_settings({"database": {"url": url, "connect_timeout_s": 1}}))
        client = app.test_client()
        assert client.get("/healthz").status_code == 503
        start = client.post("/services/start", json={"contact_key": "k", "service_type": 1})
        assert start.status_code == 503
        status = client.get("/server/status").get_data(as_text=True)
    if not database.is_closed():
        database.close()
    logged = caplog.text
    assert "not ready at start-up" in logged and "cs:***@127.0.0.1" in logged
    assert PASSWORD not in logged and PASSWORD not in status and PASSWORD not in start.get_data(as_text=True)


def test_a_database_password_is_not_in_gunicorns_output_when_unreachable(tmp_path):
    config = tmp_path / "cs.ini"
    url = f"mysql://cs:{PASSWORD}@127.0.0.1:{_closed_port()}/cs"
    config.write_text(render_ini({"database": {"url": url, "connect_timeout_s": 1}}))
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("BIND", "PORT", "WEB_CONCURRENCY")}
    env.update(CS_CONFIG=str(config), XDG_RUNTIME_DIR=str(tmp_path))
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind",
                                   f"127.0.0.1:{port}", "--workers", "2", "--log-level", "debug",
                                   "wsgi:application"],
                                  cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        answers = set()
        while len(answers) < 1 or 503 not in answers:
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            try:
                answers.add(requests.post(f"http://127.0.0.1:{port}/services/start",
                                          json={"contact_key": "k", "service_type": 1}, timeout=10).status_code)
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=READY_TIMEOUT_S)
    output = log_path.read_text()
    assert answers == {503}
    assert "not ready at start-up" in output and "cs:***@127.0.0.1" in output
    assert PASSWORD not in output


@pytest.mark.parametrize("url", [
    f"mysql://cs:{PASSWORD}@db.example:3306/cs",
    f"mysql://cs:{PASSWORD}@db.example:port/cs",
    f"mysql://:{PASSWORD}@db.example/cs",
    f"mysql://cs:{quote(PASSWORD + '@/', safe='')}@db.example/cs",
    # typed without percent-encoding: urlparse finds no password, or the wrong one
    f"mysql://cs:{PASSWORD}/x@db.example/cs",
    f"mysql://cs:{PASSWORD}?x@db.example/cs",
    f"mysql://cs:{PASSWORD}#x@db.example/cs",
    f"mysql://cs:{PASSWORD}@x@db.example/cs",
    f"mysql://cs:x:{PASSWORD}@db.example/cs",
])
def test_config_errors_about_a_database_url_do_not_show_its_password(url):
    from app.config import ConfigError, redact
    assert PASSWORD not in redact(url) and ":***@db.example" in redact(url)
    try:
        build_settings({"database": {"url": url}, "api": {"max_list": "not a number"}})
    except ConfigError as error:
        assert PASSWORD not in str(error)
    try:
        build_settings({"database": {"url": url.replace("mysql:", "postgres:")}})
    except ConfigError as error:
        assert PASSWORD not in str(error)


def test_http_that_never_reaches_the_app_is_refused_without_echoing_it_unescaped(tmp_path):
    """Request lines and headers gunicorn cannot parse get gunicorn's own error page (the app
    never sees them; behind nginx, nginx refuses most first): HTML, but with the input escaped."""
    with running_gunicorn({}, workers=1, tmp_path=tmp_path) as base_url:
        host, port = base_url.rsplit("/", 1)[1].split(":")
        for raw in (b"GET /" + HOSTILE_SEGMENT.encode() + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\n" + HOSTILE_SEGMENT.encode() + b": 1\r\n\r\n",
                    HOSTILE_SEGMENT.encode() + b" / HTTP/1.1\r\n\r\n",
                    b"GET /" + HOSTILE_SEGMENT.encode() + b" HTTP/9.9\r\n\r\n"):
            with socket.create_connection((host, int(port)), timeout=30) as connection:
                connection.sendall(raw)
                answer = b""
                while chunk := connection.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.split(b" ")[1] in (b"400", b"414", b"431"), head
            assert HOSTILE_SEGMENT.encode() not in body


MALFORMED_CHUNKED_BODIES = [
    b"zz\r\n{}\r\n0\r\n\r\n",               # chunk size not hexadecimal
    b"2\r\n{}XX0\r\n\r\n",                  # chunk without its CRLF terminator
    b"2;" + b"x" * 9000 + b"\r\n{}\r\n0\r\n\r\n",   # chunk extension beyond any sane length
    b"-2\r\n{}\r\n0\r\n\r\n",               # negative size
]


def _raw_exchange(host, port, raw):
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(raw)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_malformed_chunked_bodies_sent_straight_to_gunicorn_get_a_json_400(tmp_path):
    with running_gunicorn({}, workers=1, tmp_path=tmp_path) as base_url:
        host, port = base_url.rsplit("/", 1)[1].split(":")
        for path in ("/services/start", "/metadata/services/extensions"):
            for body in MALFORMED_CHUNKED_BODIES:
                answer = _raw_exchange(host, port, b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                                       b"Transfer-Encoding: chunked\r\n\r\n" + body)
                head, _, payload = answer.partition(b"\r\n\r\n")
                assert head.split(b" ")[1] == b"400", (body[:20], answer[:300])
                error = json.loads(payload)["error"]
                assert ERROR_KEYS <= set(error) and error["http_code"] == 400, error
