"""deploy/nginx.conf run by the real nginx: every answer it makes itself is JSON in the SPEC §2 shape.

Needs Debian's nginx (.ci/run installs it); without it these tests are skipped and say so.
"""
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from tests.hostile import ERROR_KEYS
from tests.support import READY_TIMEOUT_S, REPO, STOP_TIMEOUT_S, free_port, running_gunicorn

NGINX = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")

# Short, so that the 504 test waits one second instead of the production 35.
TEST_READ_TIMEOUT = "1s"


def _site(upstream_port, listen_port, *, read_timeout=None):
    """deploy/nginx.conf with this test's ports (and, if given, a shorter upstream read timeout)."""
    text = (REPO / "deploy" / "nginx.conf").read_text()
    text = text.replace("server 127.0.0.1:8080", f"server 127.0.0.1:{upstream_port}")
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{listen_port};", text)
    if read_timeout:
        text = re.sub(r"proxy_read_timeout \w+;", f"proxy_read_timeout {read_timeout};", text)
    return text


@contextlib.contextmanager
def running_nginx(tmp_path, upstream_port, *, read_timeout=None):
    """nginx in the foreground with deploy/nginx.conf in its http block; yields (host, port)."""
    port = free_port()
    (tmp_path / "site.conf").write_text(_site(upstream_port, port, read_timeout=read_timeout))
    user = "user root;\n" if os.geteuid() == 0 else ""   # as root, workers would run as nobody
    (tmp_path / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{ worker_connections 1024; }}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n")
    process = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                                "-g", "daemon off;"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_listening(process, port, tmp_path)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=STOP_TIMEOUT_S)


def _wait_listening(process, port, tmp_path):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {process.stdout.read().decode()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError("nginx did not listen")


def exchange(address, raw):
    with socket.create_connection(address, timeout=30) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    return status, headers, body


def assert_json_error(answer, status, error_code):
    got_status, headers, body = answer
    assert got_status == status, answer
    assert headers[b"Content-Type"] == b"application/json", headers
    error = json.loads(body)["error"]
    assert set(error) == ERROR_KEYS, error
    assert (error["http_code"], error["error_code"]) == (status, error_code), error
    return error


def request(method, path, *, headers=b"", body=b""):
    length = f"Content-Length: {len(body)}\r\n".encode() if body else b""
    return (f"{method} ".encode() + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + length
            + b"\r\n" + body)


@pytest.fixture
def behind_nginx(tmp_path):
    """nginx in front of a real gunicorn on a SQLite database."""
    (tmp_path / "app").mkdir()
    (tmp_path / "nginx").mkdir()
    with running_gunicorn({}, workers=1, tmp_path=tmp_path / "app") as base_url:
        with running_nginx(tmp_path / "nginx", int(base_url.rsplit(":", 1)[1])) as address:
            yield address


def test_nginx_passes_the_apps_own_answers_through(behind_nginx):
    status, headers, body = exchange(behind_nginx, request("GET", b"/healthz"))
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert_json_error(exchange(behind_nginx, request("GET", b"/no/such/route")), 404, "NOT_FOUND")


def test_nginx_answers_malformed_and_oversized_requests_with_json(behind_nginx):
    assert_json_error(exchange(behind_nginx, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"), 400, "BAD_REQUEST")
    error = assert_json_error(exchange(behind_nginx, request("POST", b"/services/start", body=b"x" * (1024 ** 2 + 1))),
                              413, "PAYLOAD_TOO_LARGE")
    assert (error["http_method"], error["uri"]) == ("POST", "/services/start")
    assert_json_error(exchange(behind_nginx, request("GET", b"/" + b"a" * 9000)), 414, "URI_TOO_LONG")
    assert_json_error(exchange(behind_nginx, request("GET", b"/healthz", headers=b"X-Big: " + b"b" * 9000 + b"\r\n")),
                      431, "HEADERS_TOO_LARGE")


def test_nginx_error_bodies_stay_json_whatever_the_path(behind_nginx):
    for path in (b'/"quoted"/\\', b"/%22%5C%0A", "/ünï".encode(), b"/<script>"):
        error = assert_json_error(exchange(behind_nginx, request("POST", path, body=b"x" * (1024 ** 2 + 1))),
                                  413, "PAYLOAD_TOO_LARGE")
        assert error["uri"] in ("", path.decode("utf-8")), error


def test_nginx_answers_an_unreachable_app_with_json_502(tmp_path):
    with running_nginx(tmp_path, free_port()) as address:      # nothing listens upstream
        error = assert_json_error(exchange(address, request("GET", b"/healthz")), 502, "BAD_GATEWAY")
        assert (error["http_method"], error["uri"]) == ("GET", "/healthz")


def test_nginx_answers_an_app_that_does_not_answer_in_time_with_json_504(tmp_path):
    with socket.socket() as silent:         # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        with running_nginx(tmp_path, silent.getsockname()[1], read_timeout=TEST_READ_TIMEOUT) as address:
            assert_json_error(exchange(address, request("GET", b"/healthz")), 504, "GATEWAY_TIMEOUT")
