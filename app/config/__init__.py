"""The one declared schema of the INI file, and the loader that enforces it.

values.py parses option values; sections.py loads the named sections ([attribute:...],
[user:...], [profile], [retention:...]). What other modules use is imported from here.
"""
import configparser
from dataclasses import dataclass, field

from app.config.sections import (ATTRIBUTE_SECTION_PREFIX, DEFAULT_PROFILE, MAPPABLE_FIELDS, PROFILE_SECTION,
                                 PROFILE_TYPES, RESERVED_PROFILE_NAMES, RETENTION_SECTION_PREFIX, ROLES,
                                 USER_SECTION_PREFIX, AttributeValue, ProfileAttribute, User, _attribute_value_id,
                                 _load_attribute, _load_profile, _load_retention_override, _load_user, _map_fields)
from app.config.values import (ConfigError, Option, _address_list, _base_path, _boolean, _choice, _coerce,
                               _database_url, _integer, _number, _path, _text, database_url_parts, redact)

__all__ = ["ATTRIBUTE_SECTION_PREFIX", "DEFAULT_PROFILE", "MAPPABLE_FIELDS", "PROFILE_TYPES", "RESERVED_PROFILE_NAMES",
           "ROLES", "SCHEMA", "AttributeValue", "ConfigError", "Option", "ProfileAttribute", "Settings", "User",
           "build_settings", "database_url_parts", "load", "read_sections", "redact", "render_example", "render_value"]


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
        _load_retention_override(settings, section, options, f"{source}: [{section}]",
                                 SCHEMA["retention"]["completed_days"])
    disposition = settings["lifecycle"]["auto_complete_disposition"]
    if disposition:
        where = f"{source}: [lifecycle] auto_complete_disposition = {disposition!r}"
        settings.auto_complete_disposition = _attribute_value_id(settings, "Service.disposition", disposition, where)


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
