"""TLS to MySQL/MariaDB: [database] ssl = off | required | verify, against a private MariaDB given a
certificate made here by a CA made here."""
import subprocess
from urllib.parse import urlparse

import pymysql
import pytest

from app.config import ConfigError
from models import database
from tests.calls import start_service
from tests.conftest import MYSQL_URL
from tests.private_mariadb import PrivateMariaDB, binaries


def _openssl(*arguments, cwd):
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, capture_output=True)


def _make_ca(directory, name):
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem",
             "-days", "2", "-subj", f"/CN={name}", cwd=directory)
    return directory / f"{name}.pem"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """{'ca', 'other_ca', 'cert', 'key'}: a server certificate for 127.0.0.1 signed by 'ca'."""
    directory = tmp_path_factory.mktemp("tls")
    ca, other_ca = _make_ca(directory, "ca"), _make_ca(directory, "other-ca")
    (directory / "server.ext").write_text("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n"
                                          "extendedKeyUsage = serverAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=directory)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=directory)
    return {"ca": ca, "other_ca": other_ca, "cert": directory / "server.pem", "key": directory / "server.key"}


@pytest.fixture(scope="module")
def tls_mariadb(tmp_path_factory, certificates):
    """A private MariaDB that offers TLS with the certificate of `certificates`."""
    if binaries() is None:
        pytest.skip("MariaDB's server (mariadb-install-db, mariadbd) is not installed")
    server = PrivateMariaDB(tmp_path_factory.mktemp("mariadb-tls"), options=[
        f"--ssl-ca={certificates['ca']}", f"--ssl-cert={certificates['cert']}",
        f"--ssl-key={certificates['key']}"]).install().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def app_with(standalone_app):
    """app_with(**database_options) -> an app built as wsgi.py builds it; torn down at the end."""
    return lambda url, **options: standalone_app(url, database=options)


def _cipher_of_the_connection(app):
    """The TLS cipher of the worker's connection as the server sees it; '' when unencrypted."""
    assert app.test_client().get("/healthz").status_code == 200
    return database.execute_sql("SHOW SESSION STATUS LIKE 'Ssl_cipher'").fetchone()[1]


def test_verify_against_the_ca_that_signed_the_server_connects_encrypted(tls_mariadb, certificates, app_with):
    app = app_with(url=tls_mariadb.url, ssl="verify", ssl_ca=str(certificates["ca"]))
    assert _cipher_of_the_connection(app)
    service_id = start_service(app.test_client(), customer_id="tls")
    assert app.test_client().get(f"/services/{service_id}").status_code == 200


def test_verify_against_a_wrong_ca_refuses_at_start_up_naming_the_fault(tls_mariadb, certificates, app_with):
    with pytest.raises(ConfigError) as refused:
        app_with(url=tls_mariadb.url, ssl="verify", ssl_ca=str(certificates["other_ca"]))
    message = str(refused.value)
    assert "[database] ssl = verify" in message
    assert "CERTIFICATE_VERIFY_FAILED" in message or "certificate verify failed" in message


def test_verify_with_the_system_cas_refuses_a_private_ca(tls_mariadb, app_with):
    with pytest.raises(ConfigError, match="ssl = verify"):
        app_with(url=tls_mariadb.url, ssl="verify")


def test_required_encrypts_without_checking_the_certificate(tls_mariadb, app_with):
    app = app_with(url=tls_mariadb.url, ssl="required")
    assert _cipher_of_the_connection(app)


def test_off_keeps_the_plain_link(tls_mariadb, app_with):
    app = app_with(url=tls_mariadb.url)
    assert _cipher_of_the_connection(app) == ""


def test_a_missing_ca_file_is_a_configuration_error(tls_mariadb, tmp_path, app_with):
    with pytest.raises(ConfigError, match="cannot load ssl_ca"):
        app_with(url=tls_mariadb.url, ssl="verify", ssl_ca=str(tmp_path / "absent.pem"))


@pytest.mark.skipif(not MYSQL_URL, reason="MySQL half: CS_TEST_MYSQL_URL is not set")
def test_required_refuses_a_server_without_tls(app_with):
    # The connect fails before any table of the shared server's database is touched.
    if _offers_tls(MYSQL_URL):
        pytest.skip("the shared MariaDB offers TLS")
    with pytest.raises(ConfigError, match="ssl = required"):
        app_with(url=MYSQL_URL, ssl="required")


def _offers_tls(url):
    parsed = urlparse(url)
    connection = pymysql.connect(host=parsed.hostname, port=parsed.port or 3306, user=parsed.username or "root",
                                 password=parsed.password or "", ssl_disabled=True)
    with connection:
        cursor = connection.cursor()
        cursor.execute("SHOW VARIABLES LIKE 'have_ssl'")
        return cursor.fetchone()[1] == "YES"
