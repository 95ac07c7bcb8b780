"""Bodies of the server routes (SPEC §9): the mode switch, and what status and health answer."""
import marshmallow as ma

from schemas.resources import Resource, StrictInteger, UtcTimestamp

MODES = ("production", "maintenance")


class ServerModeSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(MODES))


class ServerModeAnswer(Resource):
    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(MODES))


class Health(Resource):
    status = ma.fields.String(required=True, validate=ma.validate.Equal("ok"))


class ServerMemory(Resource):
    rss_bytes = StrictInteger(required=True)
    vms_bytes = StrictInteger(required=True)
    peak_rss_bytes = StrictInteger(required=True)


class ServerDatabase(Resource):
    kind = ma.fields.String(required=True, metadata={"description": "sqlite or mysql"})
    answers = ma.fields.Boolean(required=True)


class ServerWorker(Resource):
    pid = StrictInteger(required=True)
    worker_id = StrictInteger(required=True, allow_none=True,
                              metadata={"description": "the leased worker ID; null while none is held"})
    transaction_retries = ma.fields.Dict(
        keys=ma.fields.String(), values=StrictInteger(), required=True,
        metadata={"description": "requests this worker ran again because the database refused their "
                                 "transaction, by reason: `deadlock`, `lock_wait_timeout`, or "
                                 "`connection_lost` (the connection broke before the commit)"})
    password_checks = StrictInteger(metadata={
        "description": "with [auth] mode = basic: credentials this worker checked with the password KDF"})
    cached_credentials = StrictInteger(metadata={
        "description": "with [auth] mode = basic: requests this worker let through on a credential it "
                       "verified within [auth] cache_seconds, without running the KDF"})


class ServerStatus(Resource):
    """Figures of the worker process that answered: each gunicorn worker counts its own requests."""
    version = ma.fields.String(required=True)
    mode = ma.fields.String(required=True, validate=ma.validate.OneOf((*MODES, "unknown")),
                            metadata={"description": "unknown while the database does not answer"})
    started = UtcTimestamp(required=True, metadata={"description": "when this worker process started"})
    system_time = UtcTimestamp(required=True)
    last_request = UtcTimestamp(metadata={"description": "before this one; absent on the first"})
    request_today = StrictInteger(required=True, metadata={"description": "requests of this worker, UTC day"})
    client_errors_today = StrictInteger(required=True)
    server_errors_today = StrictInteger(required=True)
    memory = ma.fields.Nested(ServerMemory, required=True)
    database = ma.fields.Nested(ServerDatabase, required=True)
    worker = ma.fields.Nested(ServerWorker, required=True)
