"""Test helpers: real gunicorn servers on free ports, INI files, a scripted clock, a TCP proxy."""
import configparser
import contextlib
import io
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"

# Generous, because a loaded CI machine starts workers slowly; these bound waits, they
# assert nothing about speed.
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


def render_ini(sections):
    """{section: {option: value}} -> INI text; booleans are written as true/false."""
    out = io.StringIO()
    for section, options in sections.items():
        out.write(f"[{section}]\n")
        for key, value in options.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            out.write(f"{key} = {text}\n")
        out.write("\n")
    return out.getvalue()


def parse_ini(text):
    """INI text -> {section: {option: text}}, read the way app.config reads it."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00none")
    parser.optionxform = str
    parser.read_string(text)
    return {section: dict(parser.items(section)) for section in parser.sections()}


def basic_auth(user, password):
    """The Authorization header of HTTP Basic credentials."""
    import base64
    token = base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def free_port():
    """A port nothing listens on right now (another process could take it before we do)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_environment(config_path, extra_env):
    env = {key: value for key, value in os.environ.items()
           if key not in ("PORT", "BIND", "WEB_CONCURRENCY", "CS_CONFIG", "ACCESS_LOG",
                          "PROMETHEUS_MULTIPROC_DIR")}
    env["CS_CONFIG"] = str(config_path)
    # gunicorn >= 25.1 opens a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl (else in
    # $HOME): one per server, so that servers started side by side do not take each other's.
    env["XDG_RUNTIME_DIR"] = str(Path(config_path).parent)
    env.update(extra_env or {})
    return env


def _gunicorn_command(port, workers):
    # The command line overrides deploy/gunicorn.conf.py, which stays the production set-up.
    return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "wsgi:application"]


def _write_config(config_text_or_dict, tmp_path):
    """Write the INI file; a config without [database] url gets a SQLite file in tmp_path,
    so that no test ever writes to the default var/context-services.db of the checkout."""
    sections = (parse_ini(config_text_or_dict) if isinstance(config_text_or_dict, str)
                else {name: dict(options) for name, options in config_text_or_dict.items()})
    sections.setdefault("database", {}).setdefault("url", f"sqlite:///{tmp_path}/cs.db")
    path = Path(tmp_path) / "cs.ini"
    path.write_text(render_ini(sections))
    return path


def _stop(process):
    if process.poll() is not None:
        return
    # SIGTERM is gunicorn's graceful stop: workers finish and give their worker-ID leases back.
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_gunicorn(config_text_or_dict, *, workers=4, tmp_path, env=None):
    """Run `gunicorn wsgi:application` from this checkout with the given config; yield its base URL.

    The config is INI text or {section: {option: value}}; CS_CONFIG points at it, as in
    production. Yields once GET /healthz answers 200; raises RuntimeError with gunicorn's log
    when the server exits or does not get ready. Stops the server (gracefully) on exit.
    """
    process, base_url, log_path = _spawn_gunicorn(config_text_or_dict, tmp_path, workers=workers, env=env)
    try:
        _wait_ready(process, base_url, log_path)
        yield base_url
    finally:
        _stop(process)


@contextlib.contextmanager
def running_gunicorns(configs, *, workers=4, tmp_path, env=None):
    """Several gunicorn servers started at one moment, as hosts that boot together; yield their
    base URLs once every one answers /healthz. Each gets its own directory under tmp_path
    (config, log); all are stopped on exit."""
    started = []
    try:
        for number, config in enumerate(configs, start=1):
            directory = Path(tmp_path) / f"host{number}"
            directory.mkdir(exist_ok=True)
            started.append(_spawn_gunicorn(config, directory, workers=workers, env=env))
        for process, base_url, log_path in started:
            _wait_ready(process, base_url, log_path)
        yield [base_url for _, base_url, _ in started]
    finally:
        for process, _, _ in started:
            _stop(process)


def _spawn_gunicorn(config_text_or_dict, directory, *, workers, env):
    """Start gunicorn with its config and log in directory; (process, base URL, log path)."""
    config_path = _write_config(config_text_or_dict, directory)
    port = free_port()
    log_path = Path(directory) / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(_gunicorn_command(port, workers), cwd=REPO,
                                   env=_server_environment(config_path, env),
                                   stdout=log, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}", log_path


def _wait_ready(process, base_url, log_path):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if requests.get(base_url + "/healthz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # Timeout: the connection waits in the listen backlog while every worker is
            # still booting (creating tables on a new database takes a while).
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /healthz within {READY_TIMEOUT_S} s:\n{log_path.read_text()}")


def gunicorn_start_failure(config_text, *, tmp_path, workers=2, env=None):
    """Start gunicorn with this exact config text, expecting it to give up; return (exit code, output).

    Raises RuntimeError if it is still running after READY_TIMEOUT_S.
    """
    config_path = Path(tmp_path) / "cs.ini"
    config_path.write_text(config_text)
    try:
        finished = subprocess.run(_gunicorn_command(free_port(), workers), cwd=REPO,
                                  env=_server_environment(config_path, env),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=READY_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"gunicorn kept running:\n{error.output}") from None
    return finished.returncode, finished.stdout.decode("utf-8", "replace")


class ScriptedClock:
    """A millisecond clock that moves only when a test moves it, or when code sleeps on it.

    Use the instance as `clock` and `clock.sleep` as `sleep`: a sleep advances the clock by
    the time slept (rounded up to whole ms) and is recorded in `sleeps`.
    """

    def __init__(self, now_ms):
        self.now = now_ms
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += max(1, math.ceil(seconds * 1000))

    def advance(self, ms):
        self.now += ms


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target: stop() is a network outage, start() its end.

    Stopping cuts every forwarded connection and refuses new ones; starting again listens on
    the same port, as a database host that comes back would.
    """

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener = None
        self._open = set()
        self._lock = threading.Lock()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self):
        listener, self._listener = self._listener, None
        if listener is not None:
            _shut(listener)     # wakes the accept() of the listening thread on Linux
        self.cut()

    def cut(self):
        """Cut every forwarded connection and go on listening: a break, not an outage."""
        with self._lock:
            cut, self._open = self._open, set()
        for connection in cut:
            _shut(connection)

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return          # stopped
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _shut(client)
                continue
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass            # the other side or stop() closed it
        with self._lock:
            self._open -= {source, sink}
        _shut(source)
        _shut(sink)


def _shut(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass                # not connected, or already shut
    sock.close()
