"""Data lifecycle (SPEC §13): 8.5's purge body, and what purge and erasure answer."""
import marshmallow as ma

from schemas.resources import Resource, StrictInteger, UtcTimestamp
from schemas.timestamps import Timestamp

OPERATIONS = ("purge.service.all", "purge.service.started", "purge.service.started.anonymous",
              "purge.service.completed", "purge.service.completed.anonymous")


class PurgeBody(ma.Schema):
    """8.5's Purge Service body: remove services started before `limit`, of the kind `operation` names."""

    class Meta:
        unknown = ma.RAISE

    limit = Timestamp(required=True, metadata={"description": "Services started before this time are purged."})
    operation = ma.fields.String(required=True, validate=ma.validate.OneOf(OPERATIONS), metadata={
        "description": "all: every service; started: not completed; completed: completed; "
                       ".anonymous: only those without a customer."})


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
