"""The one declared schema of the INI file, and the loader that enforces it."""
import configparser
import math
import re
from dataclasses import dataclass, field
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
    import ipaddress
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

SCHEMA = {
    "database": {
        "url": Option("sqlite:///var/context-services.db", _database_url,
                      "sqlite:///relative/path or sqlite:////absolute/path, or mysql://user:password@host:port/database"),
        "sqlite_synchronous": Option("normal", _choice("off", "normal", "full", "extra"),
                                     "SQLite PRAGMA synchronous; normal in WAL mode survives a process crash, "
                                     "full also survives a power cut"),
        "busy_timeout_ms": Option(10000, _integer(0),
                                  "how long a SQLite writer waits for the write lock before giving up"),
        "connect_timeout_s": Option(5, _integer(1),
                                    "seconds to wait for a MySQL connection; reads and writes wait max(this, 30)"),
        "ssl": Option("off", _choice("off", "required", "verify"),
                      "TLS to MySQL: off (plain, for loopback), required (encrypted, certificate not checked), "
                      "verify (encrypted, certificate checked against ssl_ca and the host name)"),
        "ssl_ca": Option("", _path, "PEM file of the CA that signed the MySQL server's certificate (ssl = verify)"),
        "ssl_cert": Option("", _path, "PEM client certificate, when the MySQL user requires one (X509)"),
        "ssl_key": Option("", _path, "PEM private key of ssl_cert"),
    },
    "api": {
        "base_path": Option("", _base_path, "prefix of every route, e.g. /genesys/1/cs; empty serves them at /"),
        "max_body_bytes": Option(1048576, _integer(1024), "largest request body accepted; larger gets 413"),
        "max_list": Option(1000, _integer(1), "default and maximum number of items a list returns"),
        "max_response_bytes": Option(16777216, _integer(1024),
                                     "largest answer a list or a read may give, in bytes; a larger one is 400 "
                                     "RESPONSE_TOO_LARGE (ask for fewer with limit)"),
    },
    "ids": {
        "layout": Option("default", _choice("default", "wide"),
                         "default: 41/6/6 bits, below 2^53, sent as numbers; wide: 41/10/12 bits, sent as strings"),
        "max_clock_skew_ms": Option(5, _integer(0),
                                    "a clock step back up to this is waited out; a larger one refuses IDs (503)"),
        "lease_seconds": Option(60, _integer(5), "lifetime of a worker-ID lease; renewed after a third of it"),
    },
    "extensions": {
        "mode": Option("strict", _choice("strict", "free"),
                       "strict: extension keys need a registered schema (8.1); free: unknown keys are stored as is"),
        "refresh_seconds": Option(0.5, _number(0.0),
                                  "how often a worker looks for schemas registered or deleted by another"),
        "max_schemas": Option(200, _integer(1), "most extension schemas of one kind (services, states or tasks)"),
        "max_attributes": Option(64, _integer(1), "most attributes in one extension schema"),
        "max_string_length": Option(65535, _integer(255), "largest `length` a string attribute may declare"),
        "max_records": Option(1000, _integer(1), "most records in one value of a multi-valued extension"),
        "max_value_bytes": Option(65536, _integer(64),
                                  "largest extension value of one owner, in bytes of JSON as stored (defaults "
                                  "filled in included); the defaults of a schema must fit it too"),
    },
    "metrics": {
        "enabled": Option(True, _boolean, "count requests, latency, IDs and leases for GET /metrics; "
                                          "false leaves them out (GET /server/status still counts)"),
    },
    "auth": {
        "mode": Option("none", _choice("none", "basic"),
                       "none: every caller may do everything (logged as a WARNING at start-up); basic: HTTP "
                       "Basic credentials of a [user:NAME] section on every route but /healthz"),
        "open_docs": Option(True, _boolean, "with basic: /openapi.json and /docs answer without credentials"),
        "cache_seconds": Option(300, _integer(0, 86400),
                                "a verified credential is remembered by the worker this long (0: verify "
                                "every request)"),
        "max_failures_per_minute": Option(30, _integer(1),
                                          "failed credentials per client address and minute before 429"),
        "trusted_proxies": Option(("127.0.0.1", "::1"), _address_list,
                                  "peers whose X-Forwarded-For names the client (nginx); keep in step with "
                                  "gunicorn's forwarded_allow_ips"),
    },
    "retention": {
        "completed_days": Option(0, _number(0.0),
                                 "completed services are purged this many days after completion; 0 keeps them "
                                 "forever. [retention:<ServiceType name or DB ID>] sections override it per type"),
    },
    "lifecycle": {
        "auto_complete_after_s": Option(0, _integer(0),
                                        "an active service with no write for this many seconds is completed by "
                                        "the maintenance run, with disposition_desc auto-completed; 0 is off"),
        "auto_complete_disposition": Option("", _text(64),
                                            "disposition of auto-completed services: a DB ID or a value name of "
                                            "the attribute mapped to Service.disposition; empty sets none"),
        "maintenance_pause_ratio": Option(1.0, _number(0.0),
                                          "after each batch a maintenance run rests this many times as long as "
                                          "the batch took, leaving the database and the CPU to clients between "
                                          "batches; 0 runs flat out (for a quiet maintenance window)"),
    },
    "logging": {
        "level": Option("info", _choice("debug", "info", "warning", "error"), "log level of the application"),
    },
    # Last, so that config.example.ini can follow it with the field mappings of this section.
    "business-attributes": {
        "map_names": Option(False, _boolean, "reads return business-attribute value names instead of DB IDs"),
    },
}

# Business-attribute mappings: "<Resource>.<field> = <AttributeName>" in [business-attributes].
MAPPABLE_FIELDS = {
    "Service": ("type", "media_type", "application_type", "resource_type", "disposition"),
    "State": ("type", "application_type", "resource_type", "media_type", "disposition"),
    "Task": ("type", "application_type", "resource_type", "media_type", "disposition"),
}
ATTRIBUTE_SECTION_PREFIX = "attribute:"
USER_SECTION_PREFIX = "user:"
ROLES = ("reader", "writer", "admin")       # each includes the rights of the ones before it
PROFILE_SECTION = "profile"
RETENTION_SECTION_PREFIX = "retention:"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# SPEC §6 naming rule, which core profile attributes follow too.
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,25}")
PROFILE_TYPES = ("string", "date", "datetime", "integer", "boolean")
# Names a core attribute may not take: the profile's own key and Identify Customer's parameters.
RESERVED_PROFILE_NAMES = ("customer_id", "id_key", "include_profile", "extensions", "include_extensions",
                          "attribute_values")
MAX_STRING_LENGTH = 65535


@dataclass(frozen=True)
class ProfileAttribute:
    """One core attribute of the customer profile: `Name = type[, multi][, length=N]` in [profile]."""
    name: str
    type: str = "string"
    multi: bool = False
    length: int = 255

    def render(self):
        parts = [self.type] + (["multi"] if self.multi else []) + (
            [f"length={self.length}"] if self.type == "string" and self.length != 255 else [])
        return ", ".join(parts)


DEFAULT_PROFILE = (
    ProfileAttribute("FirstName"), ProfileAttribute("LastName"), ProfileAttribute("Title"),
    ProfileAttribute("PhoneNumber", multi=True), ProfileAttribute("EmailAddress", multi=True),
)


@dataclass(frozen=True)
class AttributeValue:
    name: str
    id: int
    display_name: str


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    role: str           # the highest role listed


@dataclass
class Settings:
    """Every option with its parsed value, plus the business attributes."""
    sections: dict
    attributes: dict = field(default_factory=dict)      # attribute name -> [AttributeValue]
    field_attributes: dict = field(default_factory=dict)  # "Service.type" -> attribute name
    users: dict = field(default_factory=dict)             # user name -> User
    profile: tuple = DEFAULT_PROFILE                     # the core profile schema, in order
    retention_by_type: dict = field(default_factory=dict)  # service_type DB ID -> completed_days
    auto_complete_disposition: int = None                  # the option resolved to a DB ID
    source: str = "<defaults>"

    def __getitem__(self, section):
        return self.sections[section]


# scheme://user:PASSWORD@host...: up to the last @, because a password typed without
# percent-encoding may hold / ? # or @, and urlparse then finds no password (or a wrong one)
# in a URL that the error message about it would show whole.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:)(.*)(@[^@]*)", re.DOTALL)


def redact(text):
    """The text with the password of a URL in it replaced by ***, for messages and logs."""
    return _URL_PASSWORD.sub(r"\1***\3", text, count=1)


def _resolve_field_key(key):
    """"service.TYPE" -> "Service.type"; "*.disposition" -> every resource."""
    resource, _, name = key.partition(".")
    name = name.lower()
    resources = list(MAPPABLE_FIELDS) if resource == "*" else [
        r for r in MAPPABLE_FIELDS if r.lower() == resource.lower()]
    if not resources or any(name not in MAPPABLE_FIELDS[r] for r in resources):
        return None
    return [f"{r}.{name}" for r in resources]


def _parse_attribute_value(text):
    number, _, display = text.partition(",")
    value = int(number.strip())
    if not -2**31 <= value < 2**31:
        raise ValueError("DB ID must be a 32-bit integer")
    return value, display.strip()


def build_settings(raw, *, source="<dict>"):
    """Validate {section: {option: text-or-value}} against SCHEMA; raise ConfigError naming the fault."""
    sections = {name: {key: option.default for key, option in options.items()}
                for name, options in SCHEMA.items()}
    settings = Settings(sections=sections, source=source)
    mappings, retention_sections = {}, {}
    for section, options in raw.items():
        where = f"{source}: [{section}]"
        if section.startswith(ATTRIBUTE_SECTION_PREFIX):
            _load_attribute(settings, section, options, where)
            continue
        if section.startswith(USER_SECTION_PREFIX):
            _load_user(settings, section, options, where)
            continue
        if section == PROFILE_SECTION:
            settings.profile = _load_profile(options, where)
            continue
        if section.startswith(RETENTION_SECTION_PREFIX):
            retention_sections[section] = options
            continue
        if section not in SCHEMA:
            holding = f" (holding {', '.join(options)})" if options else ""
            raise ConfigError(f"{where}: unknown section{holding}; known sections: "
                              + ", ".join(list(SCHEMA) + [PROFILE_SECTION, ATTRIBUTE_SECTION_PREFIX + "<Name>",
                                                       USER_SECTION_PREFIX + "<name>",
                                                       RETENTION_SECTION_PREFIX + "<ServiceType>"]))
        _load_options(sections[section], section, options, where, mappings)
    if sections["auth"]["mode"] == "basic" and not settings.users:
        raise ConfigError(f"{source}: [auth] mode = basic needs at least one [{USER_SECTION_PREFIX}<name>] section")
    _map_fields(settings, mappings)
    _apply_lifecycle(settings, retention_sections, source)
    return settings


def _load_options(parsed, section, options, where, mappings):
    """Parse the options of one SCHEMA section into parsed; business-attribute field mappings
    ("Resource.field = Attribute") are set aside in mappings until every attribute is read."""
    for key, value in options.items():
        if section == "business-attributes" and "." in key:
            mappings[key] = (value, where)
            continue
        option = SCHEMA[section].get(key)
        if option is None:
            raise ConfigError(f"{where} {key}: unknown option; known options: " + ", ".join(SCHEMA[section]))
        try:
            parsed[key] = option.parse(value) if isinstance(value, str) else _coerce(option, value)
        except (ValueError, TypeError) as error:
            raise ConfigError(f"{where} {key} = {redact(str(value))!r}: {error}") from None


def _apply_lifecycle(settings, retention_sections, source):
    """The [retention:<ServiceType>] overrides and the auto-complete disposition, which name
    business-attribute values and so wait until the field mappings are known."""
    for section, options in retention_sections.items():
        _load_retention_override(settings, section, options, f"{source}: [{section}]")
    disposition = settings["lifecycle"]["auto_complete_disposition"]
    if disposition:
        where = f"{source}: [lifecycle] auto_complete_disposition = {disposition!r}"
        settings.auto_complete_disposition = _attribute_value_id(settings, "Service.disposition", disposition, where)


def _map_fields(settings, mappings):
    """Apply the "<Resource>.<field> = <Attribute>" lines, once every [attribute:...] section is read."""
    for key, (attribute, where) in mappings.items():
        fields = _resolve_field_key(key)
        if fields is None:
            raise ConfigError(f"{where} {key}: not a mappable field; use Resource.field with Resource one of "
                              + ", ".join(list(MAPPABLE_FIELDS) + ["*"]))
        attribute = attribute.strip()
        known = {name.lower(): name for name in settings.attributes}
        if attribute.lower() not in known:
            raise ConfigError(f"{where} {key} = {attribute!r}: no [{ATTRIBUTE_SECTION_PREFIX}{attribute}] section")
        for name in fields:
            settings.field_attributes[name] = known[attribute.lower()]


def _attribute_value_id(settings, field_key, text, where):
    """The DB ID that text names for field_key: a decimal ID, or a value name of its attribute."""
    if re.fullmatch(r"[+-]?[0-9]{1,19}", text.strip()):
        value = int(text)
        if not -2**63 <= value < 2**63:
            raise ConfigError(f"{where}: must be a 64-bit integer")
        return value
    attribute = settings.field_attributes.get(field_key)
    values = {value.name.lower(): value.id for value in settings.attributes.get(attribute, ())}
    if text.strip().lower() not in values:
        known = f"; values of {attribute}: {', '.join(sorted(values))}" if attribute else (
            f"; {field_key} has no business attribute, so only DB IDs are understood")
        raise ConfigError(f"{where}: not a DB ID nor a known value name{known}")
    return values[text.strip().lower()]


def _load_retention_override(settings, section, options, where):
    name = section[len(RETENTION_SECTION_PREFIX):].strip()
    service_type = _attribute_value_id(settings, "Service.type", name, where)
    option = SCHEMA["retention"]["completed_days"]
    if "completed_days" not in options:
        raise ConfigError(f"{where}: completed_days is missing; it is the one option of this section")
    for key, value in options.items():
        if key != "completed_days":
            raise ConfigError(f"{where} {key}: unknown option; known options: completed_days")
        try:
            days = option.parse(value) if isinstance(value, str) else _coerce(option, value)
        except (ValueError, TypeError) as error:
            raise ConfigError(f"{where} {key} = {value!r}: {error}") from None
        if service_type in settings.retention_by_type:
            raise ConfigError(f"{where}: service type {service_type} has a [retention:...] section already")
        settings.retention_by_type[service_type] = days


def _coerce(option, value):
    """Accept already-typed values from a dict (tests, tooling), checked by the same parser."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return option.parse(str(value).lower() if isinstance(value, bool) else str(value))
    return option.parse(str(value))


def _load_attribute(settings, section, options, where):
    name = section[len(ATTRIBUTE_SECTION_PREFIX):].strip()
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{where}: attribute name must start with a letter, then letters, digits or _")
    values, seen_names, seen_ids = [], set(), set()
    for value_name, text in options.items():
        if not _NAME.fullmatch(value_name):
            raise ConfigError(f"{where} {value_name}: value name must start with a letter, "
                              "then letters, digits or _")
        try:
            db_id, display = _parse_attribute_value(str(text))
        except ValueError as error:
            raise ConfigError(f"{where} {value_name} = {text!r}: expected '<DB ID>, <display name>' ({error})") from None
        if value_name.lower() in seen_names or db_id in seen_ids:
            raise ConfigError(f"{where} {value_name}: duplicate value name or DB ID")
        seen_names.add(value_name.lower())
        seen_ids.add(db_id)
        values.append(AttributeValue(value_name, db_id, display or value_name))
    settings.attributes[name] = values


_USER_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


def _load_user(settings, section, options, where):
    """[user:NAME] password = <KDF hash>, roles = reader|writer|admin (several: the highest counts)."""
    from app.passwords import hash_problem
    name = section[len(USER_SECTION_PREFIX):].strip()
    if not _USER_NAME.fullmatch(name):
        raise ConfigError(f"{where}: a user name is 1 to 64 letters, digits, '.', '_', '@' or '-'")
    unknown = set(options) - {"password", "roles"}
    if unknown or "password" not in options or "roles" not in options:
        raise ConfigError(f"{where}: needs exactly the options password and roles"
                          + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else ""))
    problem = hash_problem(str(options["password"]).strip())
    if problem:
        # Never echo the value: it may be a password typed in plain text.
        raise ConfigError(f"{where} password: {problem}; make one with `context-services hash-password`")
    roles = [role.strip().lower() for role in re.split(r"[,\s]+", str(options["roles"])) if role.strip()]
    if not roles or any(role not in ROLES for role in roles):
        raise ConfigError(f"{where} roles = {options['roles']!r}: expected one or more of " + ", ".join(ROLES))
    settings.users[name] = User(name, str(options["password"]).strip(), max(roles, key=ROLES.index))
def _load_profile(options, where):
    """The core profile schema of a [profile] section; it replaces the built-in one whole."""
    attributes, seen = [], set()
    for name, text in options.items():
        if not _ATTRIBUTE_NAME.fullmatch(name):
            raise ConfigError(f"{where} {name}: attribute names start with a letter, then letters, digits "
                              "or _, at most 26 characters")
        if name.lower() in RESERVED_PROFILE_NAMES:
            raise ConfigError(f"{where} {name}: reserved (one of {', '.join(RESERVED_PROFILE_NAMES)})")
        if name.lower() in seen:
            raise ConfigError(f"{where} {name}: appears twice (attribute names ignore case)")
        seen.add(name.lower())
        try:
            attributes.append(_parse_profile_attribute(name, str(text)))
        except ValueError as error:
            raise ConfigError(f"{where} {name} = {text!r}: {error}; expected "
                              f"'<type>[, multi][, length=N]' with type one of {', '.join(PROFILE_TYPES)}") from None
    if not attributes:
        raise ConfigError(f"{where}: declares no attribute; leave the section out for the built-in ones")
    return tuple(attributes)


def _parse_profile_attribute(name, text):
    kind, *flags = [part.strip() for part in text.split(",")]
    kind = kind.lower() or "string"
    if kind not in PROFILE_TYPES:
        raise ValueError(f"unknown type {kind!r}")
    multi, length = False, 255
    for flag in flags:
        key, _, value = (part.strip().lower() for part in flag.partition("="))
        if key == "multi" and not value and not multi:
            multi = True
        elif key == "length" and kind == "string" and value.isdigit() and 1 <= int(value) <= MAX_STRING_LENGTH:
            length = int(value)
        else:
            raise ValueError(f"{flag!r} is not multi, nor length=1..{MAX_STRING_LENGTH} on a string")
    return ProfileAttribute(name, kind, multi, length)


def render_example():
    """The option part of config.example.ini: every option commented out at its default, help above.

    A line that starts with '#' and no space is a setting or a [section]; '# ' starts help.
    """
    lines = []
    for section, options in SCHEMA.items():
        lines.append(f"#[{section}]")
        for key, option in options.items():
            default = render_value(option.default)
            lines += ["", f"# {option.help}", f"#{key} = {default}".rstrip()]
        lines.append("")
        if section == "logging":
            lines += _render_profile()
    return "\n".join(lines)


def render_value(value):
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)
def _render_profile():
    return [f"#[{PROFILE_SECTION}]", "",
            "# The core attributes of a customer profile: Name = type[, multi][, length=N], type one of",
            "# " + ", ".join(PROFILE_TYPES) + "; multi holds several values (a JSON array, the first the",
            "# primary one); length bounds a string (default 255). The section replaces these defaults whole.",
            *(f"#{attribute.name} = {attribute.render()}" for attribute in DEFAULT_PROFILE), ""]


def load(path=None):
    """Read the INI file at path (None: built-in defaults) into Settings; ConfigError names what is wrong."""
    if path is None:
        return build_settings({}, source="<defaults>")
    return build_settings(read_sections(path), source=str(path))


def read_sections(path):
    """{section: {option: text}} of the INI file at path, unchecked; ConfigError when it cannot be read."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=None,
                                       comment_prefixes=("#", ";"), empty_lines_in_values=False,
                                       default_section="\x00no-default-section")
    parser.optionxform = str
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle, source=str(path))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
    except configparser.Error as error:
        raise ConfigError(f"{path}: {_describe_syntax_error(error)}") from None
    return {section: dict(parser.items(section)) for section in parser.sections()}


def _describe_syntax_error(error):
    """configparser's messages span lines and repeat the file name; one line is enough."""
    if isinstance(error, configparser.MissingSectionHeaderError):
        return f"line {error.lineno}: an option before any [section]"
    if isinstance(error, configparser.DuplicateOptionError):
        return f"line {error.lineno}: [{error.section}] {error.option} appears twice"
    if isinstance(error, configparser.DuplicateSectionError):
        return f"line {error.lineno}: [{error.section}] appears twice"
    if isinstance(error, configparser.ParsingError):
        return "; ".join(f"line {lineno}: neither [section] nor option = value" for lineno, _ in error.errors)
    return str(error).splitlines()[0]
