"""The values of INI options: their parsers, database URLs, and hiding passwords in messages."""
import ipaddress
import math
import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import unquote, urlparse

from playhouse import db_url


class ConfigError(Exception):
    """The configuration cannot be used; the message names file, section and option."""


@dataclass(frozen=True)
class Option:
    default: Any
    parse: Callable[[str], Any]
    help: str


def _boolean(text):
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _integer(minimum=None, maximum=None):
    def parse(text):
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError("expected an integer") from None
        if minimum is not None and value < minimum:
            raise ValueError(f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum}")
        return value
    parse.kind = "integer"
    return parse


def _number(minimum=0.0):
    def parse(text):
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError("expected a number") from None
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        return value
    parse.kind = "number"
    return parse


def _choice(*choices):
    def parse(text):
        value = text.strip().lower()
        if value not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return value
    parse.kind = "one of " + "|".join(choices)
    return parse


def database_url_parts(url):
    """(scheme, connect keywords) of a [database] url, parsed by playhouse.db_url.

    The scheme is "sqlite" or "mysql" ("mariadb" is read as mysql); the keywords hold
    `database` (the file or the schema; unquoted) and for MySQL host, port, user and
    `passwd` when given. Raises ValueError for a URL
    this server cannot use; it is called both when the file is read (so that the error
    names the file) and when the database is opened.
    """
    parsed = urlparse(url)
    scheme = "mysql" if parsed.scheme == "mariadb" else parsed.scheme
    if scheme not in ("sqlite", "mysql"):
        raise ValueError("the scheme must be sqlite or mysql")
    try:
        parts = db_url.parseresult_to_dict(parsed._replace(scheme=scheme), unquote_password=True,
                                           unquote_user=True)
    except ValueError:
        raise ValueError("the port is not a number") from None
    parts["database"] = unquote(parts["database"])
    if scheme == "sqlite" and (parsed.netloc or parts["database"] in ("", ":memory:")):
        raise ValueError("expected sqlite:///relative/path or sqlite:////absolute/path")
    if scheme == "mysql" and not (parts.get("host") and parts["database"]):
        raise ValueError("expected mysql://user:password@host:port/database")
    return scheme, parts


def _database_url(text):
    value = text.strip()
    database_url_parts(value)
    return value


def _text(max_length):
    def parse(text):
        value = text.strip()
        if len(value) > max_length:
            raise ValueError(f"longer than {max_length} characters")
        return value
    parse.kind = "text"
    return parse


def _base_path(text):
    value = text.strip().rstrip("/")
    if value and not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", value):
        raise ValueError("expected a path such as /genesys/1/cs")
    return value


def _path(text):
    return text.strip()


def _address_list(text):
    """'127.0.0.1, ::1' -> ('127.0.0.1', '::1'); each must be an IP address."""
    addresses = tuple(item.strip() for item in text.split(",") if item.strip())
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ValueError(f"{address!r} is not an IP address") from None
    return addresses


_boolean.kind = "boolean"
_path.kind = "path"
_address_list.kind = "addresses"
_database_url.kind = "URL"
_base_path.kind = "path"

# scheme://user:PASSWORD@host...: up to the last @, because a password typed without
# percent-encoding may hold / ? # or @, and urlparse then finds no password (or a wrong one)
# in a URL that the error message about it would show whole.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:)(.*)(@[^@]*)", re.DOTALL)


def redact(text):
    """The text with the password of a URL in it replaced by ***, for messages and logs."""
    return _URL_PASSWORD.sub(r"\1***\3", text, count=1)


def _coerce(option, value):
    """Accept already-typed values from a dict (tests, tooling), checked by the same parser."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return option.parse(str(value).lower() if isinstance(value, bool) else str(value))
    return option.parse(str(value))
