"""Timestamps of SPEC §2: ISO 8601 in, UTC with milliseconds and Z out, integer ms inside."""
import datetime as dt
import re
import time

import marshmallow as ma

# [0-9], not \d: \d also matches Arabic-Indic and other digits, which int() then accepts.
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?"
    r"(?:([Zz])|([+-])([0-9]{2}):?([0-9]{2}))?"
)
_MIN_MS = 0                                    # 1970-01-01T00:00:00Z
_MAX_MS = 253402300799999                      # 9999-12-31T23:59:59.999Z


def parse_timestamp(text):
    """Milliseconds since the Unix epoch; ValueError for anything but ISO 8601 date and time.

    No offset means UTC; fractions beyond milliseconds are truncated.
    """
    if not isinstance(text, str):
        raise ValueError("not a string")
    match = _ISO.fullmatch(text.strip())
    if match is None:
        raise ValueError("not an ISO 8601 date and time")
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m = match.groups()
    offset = dt.timedelta(0)
    if sign:
        if int(off_h) > 23 or int(off_m) > 59:
            raise ValueError("offset out of range")
        offset = dt.timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    moment = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                         tzinfo=dt.timezone(offset))
    ms = int(moment.timestamp()) * 1000 + int((fraction or "0")[:3].ljust(3, "0"))
    if not _MIN_MS <= ms <= _MAX_MS:
        raise ValueError("outside 1970-01-01 to 9999-12-31")
    return ms


def format_ms(ms):
    """2009-05-12T12:05:12.145Z"""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%03dZ" % millis


class Timestamp(ma.fields.Field):
    """A date/time field that loads to integer milliseconds and dumps in the SPEC §2 form."""
    default_error_messages = {
        "invalid": "Not a valid timestamp: use ISO 8601, e.g. 2009-05-12T12:05:12.145Z or +02:00 offset.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_timestamp(value)
        except (ValueError, OverflowError) as error:
            raise self.make_error("invalid") from error

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_ms(value)
