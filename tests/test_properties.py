"""Property tests (hypothesis) of the pure parts: timestamps, business attributes, ID layouts, value schemas."""
import datetime as dt
import decimal
import json
import re

import marshmallow as ma
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from app.config import AttributeValue
from app.ids import EPOCH_MS, LAYOUTS
from app.services.business_attributes import BusinessAttributes
from schemas.extension_definitions import ExtensionDefinitionSchema
from schemas.fields import INT32, INT64
from schemas.timestamps import format_ms, parse_timestamp
from schemas.values import ATTRIBUTE_TYPES, build_record_schema

# Pure functions: no database, so many examples cost little; no deadline, because a loaded
# CI machine must not turn a slow example into a failure.
settings.register_profile("properties", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROPERTIES = settings.get_profile("properties")

UTC = dt.timezone.utc
MIN_MOMENT = dt.datetime(1970, 1, 1, tzinfo=UTC)

# Any JSON value, as a body could carry it (no NaN/Infinity: the body parser refuses those).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


# --- timestamps ----------------------------------------------------------------------

offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))


@st.composite
def iso_texts(draw):
    """(text, UTC moment) for a moment in range, written the ways SPEC §2 accepts."""
    moment = draw(st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(9999, 12, 30),
                               timezones=st.just(UTC)))
    zone = draw(st.one_of(st.just(None), st.just("Z"), offsets))
    local = moment if zone in (None, "Z") else moment.astimezone(zone)
    digits = draw(st.sampled_from([0, 1, 2, 3, 6, 9]))
    fraction = ""
    if digits:
        fraction = draw(st.sampled_from(".,")) + f"{local.microsecond:06d}000"[:digits]
    text = local.strftime("%Y-%m-%d") + draw(st.sampled_from("Tt ")) + local.strftime("%H:%M:%S") + fraction
    if zone == "Z":
        text += draw(st.sampled_from("Zz"))
    elif zone is not None:
        minutes = int(zone.utcoffset(None).total_seconds() // 60)
        sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
        text += f"{sign}{minutes // 60:02d}{draw(st.sampled_from([':', '']))}{minutes % 60:02d}"
    # what the text means, truncated to the milliseconds it can express
    kept_us = int((f"{local.microsecond:06d}000"[:digits] or "0").ljust(6, "0")[:6])
    meant = moment.replace(microsecond=kept_us - kept_us % 1000)
    return text, meant


def utc_ms(moment):
    """Milliseconds since the Unix epoch; aware subtraction never overflows, unlike astimezone."""
    return (moment - MIN_MOMENT) // dt.timedelta(milliseconds=1)


@PROPERTIES
@given(iso_texts())
def test_a_written_moment_parses_to_its_utc_milliseconds_and_formats_back(case):
    text, meant = case
    ms = parse_timestamp(text)
    assert ms == utc_ms(meant)
    formatted = format_ms(ms)
    assert formatted == meant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{meant.microsecond // 1000:03d}Z"
    assert parse_timestamp(formatted) == ms


@PROPERTIES
@given(st.integers(min_value=0, max_value=253402300799999))
def test_format_then_parse_is_the_identity_on_milliseconds(ms):
    text = format_ms(ms)
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z", text)
    assert parse_timestamp(text) == ms


@PROPERTIES
@given(st.one_of(st.text(), st.text(alphabet="0123456789-:TZ+.,tz \u0660\u0661\uff11"), json_values,
                 st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?([+-][0-9]{2}:?[0-9]{2})?",
                               fullmatch=True)))
def test_parse_raises_nothing_but_value_error_and_keeps_to_its_range(value):
    try:
        ms = parse_timestamp(value)
    except ValueError:
        return
    assert 0 <= ms <= 253402300799999
    assert isinstance(value, str) and value.strip().isascii()


@PROPERTIES
@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59), timezones=offsets))
def test_moments_outside_1970_to_9999_utc_are_refused_with_value_error(moment):
    expected = utc_ms(moment)
    try:
        ms = parse_timestamp(moment.isoformat())
    except ValueError:
        assert not 0 <= expected <= 253402300799999
        return
    assert ms == expected


# --- business attributes -------------------------------------------------------------

value_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True)


@st.composite
def attribute_values(draw):
    names = draw(st.lists(value_names, min_size=1, max_size=8, unique_by=str.lower))
    ids = draw(st.lists(st.integers(*INT32), min_size=len(names), max_size=len(names), unique=True))
    return [AttributeValue(name, db_id, name.upper()) for name, db_id in zip(names, ids)]


def recase(draw, name):
    return "".join(c.upper() if draw(st.booleans()) else c.lower() for c in name)


@PROPERTIES
@given(attribute_values(), st.data())
def test_a_mapped_field_resolves_every_spelling_of_its_values_to_the_db_id(values, data):
    attributes = BusinessAttributes({"Kind": values}, {"Service.type": "Kind"}, map_names=True)
    resolve = attributes.resolver("Service.type")
    output = attributes.output("Service.type")
    value = data.draw(st.sampled_from(values))
    spellings = [value.id, str(value.id), f" {value.id} ", value.name, recase(data.draw, value.name),
                 f" {value.name}\t", float(value.id)]
    for spelling in spellings:
        assert resolve(spelling) == value.id, spelling
    assert output(value.id) == value.name


@PROPERTIES
@given(attribute_values(), json_values)
def test_a_mapped_field_refuses_anything_else_with_value_error_listing_the_names(values, sent):
    resolve = BusinessAttributes({"Kind": values}, {"Service.type": "Kind"}).resolver("Service.type")
    names = {value.name.lower() for value in values}
    ids = {value.id for value in values}
    try:
        db_id = resolve(sent)
    except ValueError as error:
        assert all(value.name in str(error) for value in values)
        return
    assert db_id in ids
    assert not isinstance(sent, bool)
    assert (isinstance(sent, str) and (sent.strip().lower() in names or int(sent) in ids)) or sent == db_id


@PROPERTIES
@given(json_values | st.integers() | st.integers().map(str) | st.floats(allow_nan=False, allow_infinity=False))
def test_an_unmapped_field_takes_any_64_bit_integer_and_refuses_the_rest(sent):
    resolve = BusinessAttributes({}, {}).resolver("Service.type")
    try:
        number = resolve(sent)
    except ValueError:
        as_int = _integer_or_none(sent)
        assert as_int is None or not INT64[0] <= as_int <= INT64[1]
        return
    assert _integer_or_none(sent) == number and INT64[0] <= number <= INT64[1]


def _integer_or_none(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,20}\s*", value):
        return int(value)
    return None


# --- ID layouts ----------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_compose_and_decompose_are_inverse(layout):
    @PROPERTIES
    @given(st.integers(0, (1 << layout.timestamp_bits) - 1), st.integers(0, layout.max_workers - 1),
           st.integers(0, layout.max_sequence))
    def check(elapsed, worker, sequence):
        snowflake = layout.compose(EPOCH_MS + elapsed, worker, sequence)
        assert 0 <= snowflake <= layout.max_id
        assert layout.decompose(snowflake) == (EPOCH_MS + elapsed, worker, sequence)
        if not layout.as_string:
            assert snowflake < 2**53
        assert layout.export(snowflake) == (str(snowflake) if layout.as_string else snowflake)

    check()


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_ids_order_as_their_time_worker_and_sequence_do(layout):
    part = st.tuples(st.integers(0, (1 << layout.timestamp_bits) - 1), st.integers(0, layout.max_workers - 1),
                     st.integers(0, layout.max_sequence))

    @PROPERTIES
    @given(part, part)
    def check(a, b):
        first = layout.compose(EPOCH_MS + a[0], a[1], a[2])
        second = layout.compose(EPOCH_MS + b[0], b[1], b[2])
        assert (first < second) == (a < b) and (first == second) == (a == b)

    check()


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_compose_refuses_parts_out_of_range_with_value_error(layout):
    @PROPERTIES
    @given(st.integers(-2**70, 2**70), st.integers(-2**20, 2**20), st.integers(-2**20, 2**20))
    def check(timestamp, worker, sequence):
        in_range = (0 <= timestamp - EPOCH_MS < 1 << layout.timestamp_bits
                    and 0 <= worker < layout.max_workers and 0 <= sequence <= layout.max_sequence)
        try:
            layout.compose(timestamp, worker, sequence)
        except ValueError:
            assert not in_range
            return
        assert in_range

    check()


# --- extension value schemas ---------------------------------------------------------

attribute_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,25}", fullmatch=True)


def valid_values(attribute):
    """A strategy of (sent, stored) pairs that the attribute must accept."""
    kind, length = attribute["type"], attribute.get("length") or 255
    if kind == "boolean":
        return st.booleans().flatmap(lambda b: st.sampled_from([(b, b), (str(b).lower(), b), (str(b).upper(), b)]))
    if kind == "string":
        return st.text(max_size=min(length, 40)).map(lambda s: (s, s))
    if kind in ("integer", "long"):
        low, high = INT32 if kind == "integer" else INT64
        return st.integers(low, high).flatmap(lambda n: st.sampled_from([(n, n), (str(n), n)]))
    if kind == "double":
        return st.floats(allow_nan=False, allow_infinity=False).map(lambda f: (f, f)) | st.integers(
            -2**53, 2**53).map(lambda n: (n, float(n)))
    if kind == "date":
        return st.dates(min_value=dt.date(1, 1, 1)).map(lambda d: (d.isoformat(), d.isoformat()))
    if kind == "datetime":
        return iso_texts().map(lambda case: (case[0], format_ms(utc_ms(case[1]))))
    if kind == "currency":
        return st.decimals(min_value=-(10**13) + 1, max_value=10**13 - 1, places=2, allow_nan=False,
                           allow_infinity=False).map(lambda d: (str(d), _stored_currency(d)))
    raise AssertionError(kind)


def _stored_currency(amount):
    return int(amount) if amount == amount.to_integral_value() else float(amount)


raw_attributes = st.fixed_dictionaries(
    {"name": attribute_names, "type": st.sampled_from(ATTRIBUTE_TYPES).map(
        lambda t: t.upper() if len(t) % 2 else t)},
    optional={"length": st.integers(1, 65535) | st.integers(1, 500).map(str), "mandatory": st.booleans(),
              "encrypt": st.sampled_from([True, False, "true", "false"])})


@st.composite
def definitions(draw):
    attributes = draw(st.lists(raw_attributes, min_size=1, max_size=6, unique_by=lambda a: a["name"].lower()))
    multi = draw(st.booleans())
    body = {"name": draw(attribute_names), "type": "multi-valued" if multi else "single-valued",
            "attributes": attributes}
    if multi and draw(st.booleans()):
        body["unique"] = [draw(st.sampled_from(attributes))["name"]]
    return ExtensionDefinitionSchema().load(body)


@PROPERTIES
@given(definitions(), st.data())
def test_valid_values_load_to_their_stored_form(definition, data):
    schema = build_record_schema(definition["name"], definition)
    record, expected = {}, {}
    for attribute in definition["attributes"]:
        if attribute["mandatory"] or data.draw(st.booleans()):
            sent, stored = data.draw(valid_values(attribute))
            record[attribute["name"]] = sent
            expected[attribute["name"]] = stored
    loaded = schema.load(record)
    assert loaded == expected
    # what is stored is plain JSON that loads again to itself
    assert schema.load(json.loads(json.dumps(loaded))) == loaded


@PROPERTIES
@given(definitions(), st.dictionaries(attribute_names | st.text(max_size=5), json_values, max_size=6))
def test_any_record_either_loads_or_raises_validation_error(definition, record):
    schema = build_record_schema(definition["name"], definition)
    try:
        loaded = schema.load(record)
    except ma.ValidationError as error:
        assert isinstance(error.messages, dict)
        return
    declared = {attribute["name"] for attribute in definition["attributes"]}
    assert set(record) <= declared and set(loaded) <= declared
    json.dumps(loaded, allow_nan=False)


@PROPERTIES
@given(st.dictionaries(st.sampled_from(["name", "type", "attributes", "unique", "x"]), json_values)
       | st.fixed_dictionaries({"name": attribute_names, "type": st.sampled_from(["single-valued", "multi-valued"]),
                                "attributes": st.lists(st.dictionaries(
                                    st.sampled_from(["name", "type", "length", "default", "mandatory", "encrypt",
                                                     "unique"]), json_values | st.sampled_from(ATTRIBUTE_TYPES)),
                                    max_size=4)}))
def test_any_definition_either_loads_or_raises_validation_error(body):
    try:
        definition = ExtensionDefinitionSchema().load(body)
    except ma.ValidationError:
        return
    schema = build_record_schema(definition["name"], definition)
    # a definition that loads gives a schema whose defaults are valid values
    defaults = {a["name"]: a["default"] for a in definition["attributes"] if "default" in a}
    try:
        loaded = schema.load({})
    except ma.ValidationError as error:
        assert set(error.messages) <= {a["name"] for a in definition["attributes"] if a["mandatory"]}
        return
    assert loaded == defaults
    json.dumps(loaded, allow_nan=False)


@PROPERTIES
@given(st.text(max_size=12) | json_values | st.dates().map(lambda d: d.strftime("%Y%m%d") + "xx"))
@example("20240101xx")
@example("2024-W01-1")
@example("2024W011  ")
def test_dates_are_exactly_yyyy_mm_dd(value):
    schema = build_record_schema("d", {"attributes": [{"name": "d", "type": "date", "length": 255,
                                                       "mandatory": True, "encrypt": False}], "unique": []})
    try:
        loaded = schema.load({"d": value})["d"]
    except ma.ValidationError:
        return
    assert isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
    assert loaded == value


@PROPERTIES
@given(st.decimals(allow_nan=True, allow_infinity=True) | st.text(max_size=30) | json_values)
def test_currency_takes_amounts_of_two_decimals_below_ten_to_the_13(value):
    schema = build_record_schema("c", {"attributes": [{"name": "c", "type": "currency", "length": 255,
                                                       "mandatory": True, "encrypt": False}], "unique": []})
    sent = str(value) if isinstance(value, decimal.Decimal) else value
    try:
        loaded = schema.load({"c": sent})["c"]
    except ma.ValidationError:
        return
    amount = decimal.Decimal(str(loaded))
    assert amount.is_finite() and abs(amount) < 10**13
    assert amount == decimal.Decimal(str(sent).strip())
