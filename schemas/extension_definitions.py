"""Extension schema definitions (SPEC §6): the body of POST /metadata/<kind>/extensions."""
import marshmallow as ma

from schemas.fields import FlexibleBoolean, FlexibleInteger, NAME_PATTERN
from schemas.values import ATTRIBUTE_TYPES, ExtensionLimits, attribute_field, stored_bytes

EXTENSION_TYPES = ("single-valued", "multi-valued", "classifier")
DEFAULT_STRING_LENGTH = 255
_name_rule = ma.validate.Regexp(
    NAME_PATTERN, error="Must start with a letter, then letters, digits or _, at most 26 characters.")


class AttributeDefinitionSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=_name_rule)
    type = ma.fields.String(required=True)
    # The upper bound is [extensions] max_string_length, checked by ExtensionDefinitionSchema.
    length = FlexibleInteger(load_default=None, allow_none=True, validate=ma.validate.Range(min=1))
    default = ma.fields.Raw(load_default=None, allow_none=True)
    mandatory = FlexibleBoolean(load_default=False)
    encrypt = FlexibleBoolean(load_default=False)
    # Accepted so that an attribute read back from GET can be posted again unchanged.
    unique = FlexibleBoolean(load_default=False)

    @ma.validates("type")
    def _known_type(self, value, **kwargs):
        if value.lower() not in ATTRIBUTE_TYPES:
            raise ma.ValidationError("Must be one of: " + ", ".join(ATTRIBUTE_TYPES) + ".")

    @ma.post_load
    def _normalise(self, data, **kwargs):
        data["type"] = data["type"].lower()
        # Every attribute carries a length, as the vendor's did; only strings are held to it.
        data["length"] = data["length"] or DEFAULT_STRING_LENGTH
        if data["default"] is None:
            del data["default"]
        else:
            try:
                data["default"] = attribute_field(data).deserialize(data["default"])
            except ma.ValidationError as error:
                raise ma.ValidationError({"default": error.messages}) from None
        return data


class ExtensionDefinitionSchema(ma.Schema):
    """Loads to {"name", "multi_valued", "attributes": [...], "unique": [[name, ...], ...]}.

    Holds the definition to `limits`: at most max_attributes attributes, string lengths up
    to max_string_length, and defaults that together fit max_value_bytes (a record of
    defaults alone must be a value that can be stored).
    """

    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=_name_rule)
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(EXTENSION_TYPES), metadata={
        "description": "`classifier` (profile extensions only): a tag with no attributes, its value `{}`"})
    # Required, but for a classifier (checked below, where the type is known).
    attributes = ma.fields.List(ma.fields.Nested(AttributeDefinitionSchema), load_default=None)
    unique = ma.fields.List(ma.fields.Raw(), load_default=list)

    def __init__(self, *, limits=ExtensionLimits(), **kwargs):
        super().__init__(**kwargs)
        self.limits = limits

    @ma.pre_load
    def _not_too_many_attributes(self, data, **kwargs):
        # Before the attributes are loaded one by one: a 1 MiB body holds ~35,000 of them.
        attributes = data.get("attributes") if isinstance(data, dict) else None
        if isinstance(attributes, list) and len(attributes) > self.limits.max_attributes:
            raise ma.ValidationError(f"{len(attributes)} attributes; at most {self.limits.max_attributes} "
                                     "([extensions] max_attributes).", "attributes")
        return data

    @ma.validates_schema
    def _within_limits(self, data, **kwargs):
        attributes = data.get("attributes") or []     # None: a classifier
        too_long = {number: {"length": [f"At most {self.limits.max_string_length} "
                                        "([extensions] max_string_length)."]}
                    for number, attribute in enumerate(attributes)
                    if attribute["type"] == "string" and attribute["length"] > self.limits.max_string_length}
        if too_long:
            raise ma.ValidationError(too_long, "attributes")
        defaults = {attribute["name"]: attribute["default"] for attribute in attributes if "default" in attribute}
        size = stored_bytes(defaults)
        if size > self.limits.max_value_bytes:
            raise ma.ValidationError(f"The defaults alone make a record of {size} bytes; a value may hold at "
                                     f"most {self.limits.max_value_bytes} ([extensions] max_value_bytes).",
                                     "attributes")

    @ma.validates_schema
    def _attributes_fit_the_type(self, data, **kwargs):
        if data.get("type") == "classifier":
            if data.get("attributes") or data.get("unique"):
                raise ma.ValidationError("A classifier has no attributes and no unique keys.", "attributes")
        elif data.get("attributes") is None:
            raise ma.ValidationError("Missing data for required field.", "attributes")

    @ma.validates_schema
    def _consistent(self, data, **kwargs):
        names = [attribute["name"].lower() for attribute in data.get("attributes") or []]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ma.ValidationError(f"Attribute names repeat (case-insensitive): {', '.join(duplicates)}.",
                                     "attributes")
        for item in data.get("unique", []):
            keys = item if isinstance(item, list) else [item]
            if not keys or not all(isinstance(key, str) for key in keys):
                raise ma.ValidationError("Each item is an attribute name or a list of attribute names.", "unique")
            missing = [key for key in keys if key.lower() not in names]
            if missing:
                raise ma.ValidationError(f"Not declared attributes: {', '.join(missing)}.", "unique")

    @ma.post_load
    def _normalise(self, data, **kwargs):
        data["attributes"] = data["attributes"] or []
        spelled = {attribute["name"].lower(): attribute["name"] for attribute in data["attributes"]}
        constraints = []
        for item in data["unique"]:
            keys = tuple(spelled[key.lower()] for key in (item if isinstance(item, list) else [item]))
            if keys not in constraints:
                constraints.append(keys)
        for attribute in data["attributes"]:
            if attribute.pop("unique") and (attribute["name"],) not in constraints:
                constraints.append((attribute["name"],))
        definition = {
            "name": data["name"],
            "multi_valued": data["type"] == "multi-valued",
            "attributes": data["attributes"],
            "unique": [list(keys) for keys in constraints],
        }
        if data["type"] == "classifier":
            definition["classifier"] = True
        return definition


class AttributeOutputSchema(ma.Schema):
    name = ma.fields.String()
    type = ma.fields.String()
    length = ma.fields.Integer()
    default = ma.fields.Raw()
    mandatory = ma.fields.Boolean()
    encrypt = ma.fields.Boolean()
    unique = ma.fields.Boolean()


class ExtensionOutputSchema(ma.Schema):
    """An extension schema as GET returns it."""
    name = ma.fields.String()
    type = ma.fields.String()
    attributes = ma.fields.List(ma.fields.Nested(AttributeOutputSchema))
    unique = ma.fields.List(ma.fields.Raw(), metadata={"description": "attribute names; a list is a composite key"})


def present_definition(name, definition):
    """The output form of a stored definition: every attribute carries its full set of fields."""
    in_unique = {key for keys in definition["unique"] for key in keys}
    attributes = []
    for attribute in definition["attributes"]:
        shown = {"name": attribute["name"], "type": attribute["type"], "length": attribute["length"]}
        if "default" in attribute:
            shown["default"] = attribute["default"]
        shown.update(mandatory=attribute["mandatory"], encrypt=attribute["encrypt"],
                     unique=attribute["name"] in in_unique)
        attributes.append(shown)
    return {
        "name": name,
        "type": ("classifier" if definition.get("classifier") else
                 "multi-valued" if definition["multi_valued"] else "single-valued"),
        "attributes": attributes,
        "unique": [keys[0] if len(keys) == 1 else keys for keys in definition["unique"]],
    }
