"""Extension value schemas built at run time from registered definitions (SPEC §6).

Loaded values are already in their stored JSON form (dates and times as text, currency as
a number with at most two fraction digits), so storing is one json.dumps and reading one
json.loads.
"""
import datetime as dt
import decimal

import marshmallow as ma

from schemas.fields import FlexibleBoolean, FlexibleInteger, INT32, INT64
from schemas.timestamps import format_ms, parse_timestamp


class _Date(ma.fields.Field):
    default_error_messages = {"invalid": "Not a valid date: use YYYY-MM-DD."}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            if not isinstance(value, str) or len(value) != 10:
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
        if not amount.is_finite() or amount.as_tuple().exponent < -2 or abs(amount) >= 10**13:
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


def attribute_field(attribute, **kwargs):
    """The marshmallow field for one attribute definition (type already lower-cased)."""
    return _FIELD_FACTORIES[attribute["type"]](attribute, kwargs)


class ExtensionRecordSchema(ma.Schema):
    """Core of every extension value schema: unknown attributes are refused."""

    class Meta:
        unknown = ma.RAISE


def build_record_schema(name, definition):
    """A schema instance that loads one record of the extension `name`."""
    fields = {}
    for attribute in definition["attributes"]:
        if attribute["mandatory"]:
            fields[attribute["name"]] = attribute_field(attribute, required=True)
        elif "default" in attribute:
            fields[attribute["name"]] = attribute_field(attribute, load_default=attribute["default"])
        else:
            fields[attribute["name"]] = attribute_field(attribute)
    return ExtensionRecordSchema.from_dict(fields, name=f"Extension_{name}")()
