"""The blueprints, one module per resource family, mounted under [api] base_path."""
import marshmallow as ma
from flask import current_app

from app.errors import Unavailable, ValidationFailed


def runtime():
    return current_app.extensions["context_services"]


def load(schema, data, *, message="the request is invalid; see fields"):
    """schema.load(data), with marshmallow's errors turned into a SPEC §2 400."""
    try:
        return schema.load(data)
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise ValidationFailed(message, fields=messages) from None


def refuse_in_maintenance():
    """before_request of the service, state and task blueprints (SPEC §9)."""
    if runtime().mode.current() == "maintenance":
        raise Unavailable("the server is in maintenance mode", error_code="MAINTENANCE",
                          headers={"Retry-After": "60"})


def register_blueprints(app, base_path):
    from app.api import server
    app.register_blueprint(server.blueprint, url_prefix=base_path or None)
