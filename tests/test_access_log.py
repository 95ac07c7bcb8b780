"""The access logger of deploy/gunicorn.conf.py prints what gunicorn's own logger prints, from fewer atoms."""
import base64
import datetime as dt
import runpy
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger, SafeAtoms

GUNICORN_CONF = runpy.run_path(str(Path(__file__).parent.parent / "deploy" / "gunicorn.conf.py"))
AccessLogger = GUNICORN_CONF["logger_class"]
DEPLOY_FORMAT = GUNICORN_CONF["access_log_format"]


class _Response:
    status = "201 CREATED"
    sent = 17
    headers = [("Content-Type", "application/json"), ("X-Request-ID", "abc123"), ("Location", "/profiles/7")]


class _Request:
    headers = [("HOST", "example.org"), ("USER-AGENT", 'curl "quoted"'), ("X-REQUEST-ID", "abc123"),
               ("AUTHORIZATION", "Basic " + base64.b64encode(b"ivr:secret").decode())]


ENVIRON = {"REMOTE_ADDR": "10.0.0.9", "REQUEST_METHOD": "POST", "RAW_URI": "/profiles?x=1",
           "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/profiles", "QUERY_STRING": "x=1",
           "HTTP_USER_AGENT": 'curl "quoted"', "HTTP_REFERER": "http://example.org/",
           "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"ivr:secret").decode(),
           "context_services.user": "ivr", "wsgi.url_scheme": "http"}


def line(logger_class, access_format):
    config = Config()
    config.set("access_log_format", access_format)
    logger = logger_class(config)
    logger.now = lambda: "[30/Nov/2026:03:00:00 +0000]"
    atoms = logger.atoms(_Response(), _Request(), dict(ENVIRON), dt.timedelta(seconds=1, microseconds=2345))
    return access_format % SafeAtoms(atoms)


@pytest.mark.parametrize("access_format", [
    DEPLOY_FORMAT,
    Config().access_log_format,         # gunicorn's default, with %(u)s, %(f)s and %(a)s
    '%(h)s %(u)s %({user-agent}i)s %({X-Request-Id}i)s %({location}o)s %({wsgi.url_scheme}e)s %({nothing}i)s',
    '%(r)s %(s)s %(b)s %(B)s %(T)s %(D)s %(M)s %(L)s %(m)s %(U)s %(q)s %(H)s',
])
def test_each_format_prints_what_gunicorns_logger_prints(access_format):
    assert line(AccessLogger, access_format) == line(Logger, access_format)


def test_the_deployed_line_names_the_user_and_the_request():
    printed = line(AccessLogger, DEPLOY_FORMAT)
    assert printed.endswith("request_id=abc123 user=ivr")
    assert '"POST /profiles?x=1 HTTP/1.1" 201 17 1002ms' in printed
