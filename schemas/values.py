"""Extension value schemas built at run time from registered definitions (SPEC §6).

Loaded values are already in their stored JSON form (dates and times as text, currency as
a number with at most two fraction digits), so storing is one json.dumps and reading one
json.loads.
"""
import datetime as dt
import decimal
import json
import re
from dataclasses import dataclass

import marshmallow as ma

from schemas.fields import FlexibleBoolean, FlexibleInteger, INT32, INT64
from schemas.timestamps import format_ms, parse_timestamp


# fromisoformat alone also takes ISO week dates (2024-W01-1) and ignores junk after a basic
# date (20240101xx).
_YYYY_MM_DD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Date(ma.fields.Field):
    default_error_messages = {"invalid": "Not a valid date: use YYYY-MM-DD."}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            if not isinstance(value, str) or not _YYYY_MM_DD.fullmatch(value):
                raise ValueError(value)
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise self.make_error("invalid") from None


class _DateTime(ma.fields.Field):
    default_error_messages = {"invalid": "Not a valid date and time: use ISO 8601, e.g. 2009-05-12T12:05:12.145Z."}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return format_ms(parse_timestamp(value))
        except (ValueError, OverflowError):
            raise self.make_error("invalid") from None


class _Double(ma.fields.Field):
    default_error_messages = {"invalid": "Not a valid number."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise self.make_error("invalid")
        return number


class _Currency(ma.fields.Field):
    """A decimal amount with at most 2 fraction digits and 15 significant digits, exact in JSON."""
    default_error_messages = {"invalid": "Not a valid amount: a number with at most 2 decimals (15 digits)."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.make_error("invalid")
        try:
            amount = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise self.make_error("invalid") from None
        # adjusted() reads the exponent: abs() would round in the default context and raise
        # decimal.Overflow for 1e999999999.
        if not amount.is_finite() or amount.as_tuple().exponent < -2 or (amount and amount.adjusted() >= 13):
            raise self.make_error("invalid")
        return int(amount) if amount == amount.to_integral_value() else float(amount)


class _String(ma.fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):     # marshmallow's String would refuse, but say so plainly
            raise self.make_error("invalid")
        return value


# The whitelist: attribute type -> field factory. Never getattr(fields, user_string).
_FIELD_FACTORIES = {
    "boolean": lambda a, kw: FlexibleBoolean(**kw),
    "string": lambda a, kw: _String(validate=ma.validate.Length(max=a["length"]), **kw),
    "integer": lambda a, kw: FlexibleInteger(minimum=INT32[0], maximum=INT32[1], **kw),
    "long": lambda a, kw: FlexibleInteger(minimum=INT64[0], maximum=INT64[1], **kw),
    "double": lambda a, kw: _Double(**kw),
    "date": lambda a, kw: _Date(**kw),
    "datetime": lambda a, kw: _DateTime(**kw),
    "currency": lambda a, kw: _Currency(**kw),
}
ATTRIBUTE_TYPES = tuple(_FIELD_FACTORIES)


def attribute_field(definition, /, **kwargs):
    """The marshmallow field for one attribute definition (type already lower-cased)."""
    return _FIELD_FACTORIES[definition["type"]](definition, kwargs)


class ExtensionRecordSchema(ma.Schema):
    """Core of every extension value schema: unknown attributes are refused."""

    class Meta:
        unknown = ma.RAISE


def build_record_schema(name, definition):
    """A schema instance that loads one record of the extension `name`.

    Loaded and refused the same whatever the attribute names: each field sits under a
    Python name of its own and reads and writes its attribute's name through data_key and
    attribute, because from_dict makes every key a class attribute and one named `Meta`
    would replace the class Meta (unknown = RAISE with it).
    """
    fields = {}
    for number, attribute in enumerate(definition["attributes"]):
        name_kwargs = {"data_key": attribute["name"], "attribute": attribute["name"]}
        if attribute["mandatory"]:
            field = attribute_field(attribute, required=True, **name_kwargs)
        elif "default" in attribute:
            field = attribute_field(attribute, load_default=attribute["default"], **name_kwargs)
        else:
            field = attribute_field(attribute, **name_kwargs)
        fields[f"attribute_{number}"] = field
    return ExtensionRecordSchema.from_dict(fields, name=f"Extension_{name}")()


def field_of(record_schema, name):
    """The field of a schema from build_record_schema that loads the attribute `name`."""
    return next(field for field in record_schema.fields.values() if field.data_key == name)


def dump_json(value):
    """A value as stored: compact JSON, non-ASCII characters kept as they are."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def stored_bytes(value):
    """The bytes `value` takes as stored (UTF-8 of dump_json)."""
    return len(dump_json(value).encode("utf-8"))


@dataclass(frozen=True)
class ExtensionLimits:
    """What one extension schema and one extension value may hold ([extensions] options)."""
    max_schemas: int = 200
    max_attributes: int = 64
    max_string_length: int = 65535
    max_records: int = 1000
    max_value_bytes: int = 65536

    @classmethod
    def from_options(cls, options):
        """The limits from the [extensions] section of the settings."""
        return cls(**{name: options[name] for name in cls.__dataclass_fields__})


class LimitExceeded(Exception):
    """A value over one of the ExtensionLimits; `error_code` says which, the message names the option."""

    def __init__(self, message, *, error_code):
        super().__init__(message)
        self.message = message
        self.error_code = error_code


class ValueBudget:
    """Counts the stored bytes of one value record by record, so that a value made large by
    its defaults is refused at the first record past the limit, before the rest is built."""

    def __init__(self, name, limits):
        self.name = name
        self.limit = limits.max_value_bytes
        self.used = 0

    def add(self, value):
        """Count one record (or a whole schema-less value); LimitExceeded once over the limit."""
        self.add_bytes(stored_bytes(value))

    def add_bytes(self, size):
        self.used += size
        if self.used > self.limit:
            raise LimitExceeded(f"the value of extension {self.name} is larger than {self.limit} bytes as "
                                f"stored (defaults filled in included); the limit is [extensions] "
                                f"max_value_bytes = {self.limit}", error_code="VALUE_TOO_LARGE")


def refuse_too_many_records(name, count, limits):
    """LimitExceeded when a multi-valued value has more records than max_records."""
    if count > limits.max_records:
        raise LimitExceeded(f"the value of extension {name} has {count} records; the limit is [extensions] "
                            f"max_records = {limits.max_records}", error_code="TOO_MANY_RECORDS")
