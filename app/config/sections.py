"""The named sections of the INI file: [attribute:Name], [user:name], [profile], [retention:Type].

Each has its own shape instead of SCHEMA's fixed options; build_settings hands every such
section to its loader here, which fills Settings.
"""
import re
from dataclasses import dataclass

from app.config.values import ConfigError, _coerce


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


def _load_retention_override(settings, section, options, where, option):
    """One [retention:<ServiceType>] section; option is [retention] completed_days, whose parser it shares."""
    name = section[len(RETENTION_SECTION_PREFIX):].strip()
    service_type = _attribute_value_id(settings, "Service.type", name, where)
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
