"""Query parameters of the list routes (SPEC §3.5)."""
import marshmallow as ma

from schemas.fields import FlexibleInteger, INT32
from schemas.timestamps import Timestamp


class ListWindowSchema(ma.Schema):
    """started_from (inclusive), started_to (exclusive), limit and offset; other parameters pass by."""

    class Meta:
        unknown = ma.EXCLUDE

    started_from = Timestamp()
    started_to = Timestamp()
    limit = FlexibleInteger(minimum=0, maximum=INT32[1])
    offset = FlexibleInteger(minimum=0, maximum=INT32[1], load_default=0)
