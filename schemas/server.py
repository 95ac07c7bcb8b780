"""Bodies of the server routes (SPEC §9)."""
import marshmallow as ma


class ServerModeSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(("production", "maintenance")))
