"""Query parameters: one marshmallow schema per query string, loaded in one place.

A view declares its schema with `@takes(Schema)` and receives the loaded parameters as the
keyword argument `query`. The OpenAPI document is generated from the same schema, which it
finds on the view (`view.query_schema`), so what is parsed and what is documented cannot
drift. Unknown parameters pass by, as the 8.1 server lets them. A malformed value is a 400
INVALID_PARAMETER naming every faulty parameter.
"""
import functools

import marshmallow as ma
from flask import request

from app.api import runtime, summarise
from app.errors import BadRequest
from app.services.presenters import Nesting
from schemas.fields import INT32, FlexibleInteger
from schemas.timestamps import Timestamp

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


class Flag(ma.fields.Field):
    """true or false, also 1/0 and yes/no in any case; an empty value is false."""
    default_error_messages = {"invalid": "Must be true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        word = value.strip().lower() if isinstance(value, str) else None
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise self.make_error("invalid")


class NameList(ma.fields.Field):
    """Comma-separated names, spaces around them and empty items dropped."""

    def _deserialize(self, value, attr, data, **kwargs):
        return [item.strip() for item in str(value).split(",") if item.strip()]


def _flag(description):
    return Flag(load_default=False, metadata={"description": description})


class _Params(ma.Schema):
    """A query string's schema: `load` reads its fields alone, so other parameters pass by."""


# One field per parameter name: the document describes each name once, for every route taking it.
_ACTIVE_STATES = _flag("Add `active_states`: the service's states not completed. true or false (also 1/0, "
                       "yes/no, any case; empty is false); anything else gives 400.")
_COMPLETED_STATES = _flag("Add `completed_states`. true or false.")
_ACTIVE_TASKS = _flag("Add `active_tasks`. true or false.")
_COMPLETED_TASKS = _flag("Add `completed_tasks`. true or false.")
_EXTENSIONS = NameList(load_default=list, metadata={
    "description": "Comma-separated extension names: each one's value is added as a top-level key, in the order "
                   "asked (a name with no value stored is left out). Unknown names give 400 `UNKNOWN_EXTENSION`."})


class TaskRead(_Params):
    extensions = _EXTENSIONS


class StateRead(_Params):
    active_tasks = _ACTIVE_TASKS
    completed_tasks = _COMPLETED_TASKS
    extensions = _EXTENSIONS


class ServiceRead(_Params):
    active_states = _ACTIVE_STATES
    completed_states = _COMPLETED_STATES
    active_tasks = _ACTIVE_TASKS
    completed_tasks = _COMPLETED_TASKS
    extensions = _EXTENSIONS


class ServiceList(ServiceRead):
    """A read's parameters and the list window; started_from inclusive, started_to exclusive."""
    started_from = Timestamp(metadata={"description": "Only services started at or after this time "
                                                      "(inclusive); ISO 8601 as in bodies."})
    started_to = Timestamp(metadata={"description": "Only services started before this time (exclusive)."})
    limit = FlexibleInteger(minimum=0, maximum=INT32[1], metadata={
        "description": "At most this many items: 0 to `[api] max_list` (default and maximum 1000); more is 400."})
    offset = FlexibleInteger(minimum=0, maximum=INT32[1], load_default=0,
                             metadata={"description": "Skip this many items first (default 0)."})


class StateList(StateRead):
    state_types = NameList(load_default=list, metadata={
        "description": "Comma-separated state types (DB IDs, or value names where a business attribute backs "
                       "`State.type`); only states of these types. An unknown one gives 400."})


class TaskList(TaskRead):
    state_id = FlexibleInteger(minimum=1, maximum=INT32[1],
                               metadata={"description": "Only the tasks started in this state."})
    task_types = NameList(load_default=list, metadata={
        "description": "Comma-separated task types (DB IDs or names); only tasks of these types."})


class AttributeQuery(_Params):
    field_key = ma.fields.String(data_key="cv-attribute", metadata={
        "example": "Service.type",
        "description": "`Resource.field` (e.g. `Service.type`, case-insensitive): answer with the one attribute "
                       "backing that field instead of the list; 404 when none does."})


class BoundedNameList(NameList):
    """A NameList of at most max_items distinct items of at most max_length characters each."""
    default_error_messages = {"too_many": "At most {count} items.",
                              "too_long": "{item!r} is longer than {length} characters."}

    def __init__(self, *, max_items, max_length, **kwargs):
        super().__init__(**kwargs)
        self.max_items = max_items
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        items = list(dict.fromkeys(super()._deserialize(value, attr, data, **kwargs)))
        if len(items) > self.max_items:
            raise self.make_error("too_many", count=self.max_items)
        for item in items:
            if len(item) > self.max_length:
                raise self.make_error("too_long", item=item[:80], length=self.max_length)
        return items


class Erasure(_Params):
    # The limits are in the words, not in maxItems/maxLength: a list at those limits, percent-
    # encoded, exceeds the request line gunicorn and nginx take (8 KiB), which refuse it first.
    contact_keys = BoundedNameList(max_items=100, max_length=64, load_default=list, metadata={
        "description": "Comma-separated contact keys (at most 100, each at most 64 characters; send `+` as "
                       "`%2B`): their anonymous services are removed too."})


PURGE_MAX = 100_000


class Purge(_Params):
    dry_run = _flag("true: count what is due and change nothing.")
    max = FlexibleInteger(minimum=1, maximum=PURGE_MAX, load_default=10_000, metadata={
        "description": f"At most this many services (records, for values of deleted schemas) in this call: 1 to "
                       f"{PURGE_MAX}, default 10000. Call again while a `still_due` is not 0."})


def takes(schema_class):
    """Decorate a view: load the query string with schema_class and pass it as `query=`."""
    plan = _plan(schema_class())

    def decorate(view):
        @functools.wraps(view)
        def with_query(*args, **kwargs):
            return view(*args, query=load(plan, request.args), **kwargs)
        with_query.query_schema = schema_class
        return with_query
    return decorate


def _plan(schema):
    """(attribute, parameter name, field, default) of each field: what load walks per request."""
    return tuple((name, field.data_key or name, field, field.load_default)
                 for name, field in schema.load_fields.items())


def load(plan, args):
    """The parameters of a plan read from args (a MultiDict: the first of repeated values).

    The schema's own fields deserialize and validate each parameter; walking them directly
    rather than through Schema.load costs a fraction as much per request, which every read
    pays. Raises BadRequest INVALID_PARAMETER with every fault by parameter name.
    """
    loaded, errors = {}, {}
    for name, key, field, default in plan:
        if key in args:
            try:
                loaded[name] = field.deserialize(args[key], key, args)
            except ma.ValidationError as error:
                errors[key] = error.messages
        elif default is not ma.missing:
            loaded[name] = default() if callable(default) else default
    if errors:
        raise BadRequest(summarise(errors), error_code="INVALID_PARAMETER", fields=errors)
    return loaded


def nesting(kind, query):
    """What a read of the kind nests and adds; UNKNOWN_EXTENSION (400) for a name not registered."""
    flags = {name: query.get(name, False)
             for name in ("active_states", "completed_states", "active_tasks", "completed_tasks")}
    return Nesting(**flags, extensions=runtime().registry.resolve_names(kind, query["extensions"]))


def type_ids(query, name, field_key):
    """DB IDs of a `state_types` / `task_types` filter given as names or IDs (SPEC §7); 400 for unknown ones."""
    resolve = runtime().business_attributes.resolver(field_key)
    ids, problems = [], []
    for item in query[name]:
        try:
            ids.append(resolve(item))
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise BadRequest(f"query parameter {name}: {problems[0]}", error_code="INVALID_PARAMETER",
                         fields={name: problems})
    return ids
