"""Field types shared by the event and extension schemas."""
import numbers
import re

import marshmallow as ma

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,25}\Z"
INT32 = (-2**31, 2**31 - 1)
INT64 = (-2**63, 2**63 - 1)
_DECIMAL_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,20}\s*")


class FlexibleBoolean(ma.fields.Field):
    """true/false, or the strings "true"/"false" that the vendor's own examples send."""
    default_error_messages = {"invalid": "Not a valid boolean: use true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise self.make_error("invalid")

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class FlexibleInteger(ma.fields.Field):
    """A whole number sent as a JSON number or a decimal string, within [minimum, maximum].

    Unlike marshmallow's Integer it never truncates: 2.5 and true are refused.
    """
    default_error_messages = {
        "invalid": "Not a valid integer.",
        "range": "Must be between {minimum} and {maximum}.",
    }

    def __init__(self, *, minimum=INT64[0], maximum=INT64[1], **kwargs):
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, numbers.Integral):
            number = int(value)
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _DECIMAL_INTEGER.fullmatch(value):
            number = int(value)
        else:
            raise self.make_error("invalid")
        if not self.minimum <= number <= self.maximum:
            raise self.make_error("range", minimum=self.minimum, maximum=self.maximum)
        return number

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class BusinessAttribute(ma.fields.Field):
    """A "long or string" field (SPEC §7): a DB ID or a value name, resolved to the DB ID.

    `resolve(value)` returns the integer or raises ValueError with the message to show.
    """

    def __init__(self, resolve, **kwargs):
        super().__init__(**kwargs)
        self.resolve = resolve

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return self.resolve(value)
        except ValueError as error:
            raise ma.ValidationError(str(error)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return value


def text(max_length, *, min_length=0, **kwargs):
    return ma.fields.String(validate=ma.validate.Length(min=min_length, max=max_length), **kwargs)
