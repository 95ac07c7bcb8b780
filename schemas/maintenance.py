"""Data lifecycle (SPEC §13): the purge body and parameters, the erasure parameters, their answers."""
import marshmallow as ma

from schemas.fields import FlexibleBoolean, FlexibleInteger
from schemas.resources import Resource, StrictInteger, UtcTimestamp
from schemas.timestamps import Timestamp

OPERATIONS = ("purge.service.all", "purge.service.started", "purge.service.started.anonymous",
              "purge.service.completed", "purge.service.completed.anonymous")
DEFAULT_MAX = 10_000
MAX_MAX = 100_000
MAX_CONTACT_KEYS = 100


class PurgeBody(ma.Schema):
    """8.5's Purge Service body: remove services started before `limit`, of the kind `operation` names."""

    class Meta:
        unknown = ma.RAISE

    limit = Timestamp(required=True, metadata={"description": "Services started before this time are purged."})
    operation = ma.fields.String(required=True, validate=ma.validate.OneOf(OPERATIONS), metadata={
        "description": "all: every service; started: not completed; completed: completed; "
                       ".anonymous: only those without a customer."})


class PurgeQuery(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    dry_run = FlexibleBoolean(load_default=False)
    max = FlexibleInteger(minimum=1, maximum=MAX_MAX, load_default=DEFAULT_MAX)


class CommaSeparated(ma.fields.Field):
    """a,b,c -> ["a", "b", "c"] (blanks dropped, duplicates once), each item and the count bounded."""
    default_error_messages = {"too_many": "At most {count} items.", "too_long": "{item!r} is longer than {length}."}

    def __init__(self, *, max_items, max_length, **kwargs):
        super().__init__(**kwargs)
        self.max_items = max_items
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        items = list(dict.fromkeys(item.strip() for item in str(value).split(",") if item.strip()))
        if len(items) > self.max_items:
            raise self.make_error("too_many", count=self.max_items)
        for item in items:
            if len(item) > self.max_length:
                raise self.make_error("too_long", item=item[:80], length=self.max_length)
        return items


class ErasureQuery(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    contact_keys = CommaSeparated(max_items=MAX_CONTACT_KEYS, max_length=64, load_default=list)


class JobCounts(Resource):
    done = StrictInteger(required=True, metadata={"description": "Done by this call (0 in a dry run)."})
    still_due = StrictInteger(required=True, metadata={"description": "Due now and left for another call."})


class PurgeOutcome(Resource):
    dry_run = ma.fields.Boolean(required=True)
    operation = ma.fields.String(metadata={"description": "With a body: the 8.5 operation run."})
    limit = UtcTimestamp(metadata={"description": "With a body: its limit."})
    auto_completed = ma.fields.Nested(JobCounts, metadata={
        "description": "Idle active services completed (`[lifecycle] auto_complete_after_s` set)."})
    purged = ma.fields.Nested(JobCounts, metadata={"description": "Services removed with their states, "
                                                                  "tasks and values."})
    deleted_schema_values = ma.fields.Nested(JobCounts, metadata={
        "description": "Records of extension values whose schema was deleted (records, not services)."})


class ErasureOutcome(Resource):
    customer_id = ma.fields.String(required=True)
    contact_keys = ma.fields.List(ma.fields.String(), required=True)
    services = StrictInteger(required=True, metadata={"description": "Services of the customer removed."})
    anonymous_services = StrictInteger(required=True, metadata={
        "description": "Services without a customer under one of the contact keys, removed."})
