"""Identification keys' index rows, and Identify Customer with 8.1's key inference (SPEC §10.4, §10.5).

A key's attributes are a list; a profile gives it one row per combination of its values and
per leading part of that combination, so identifying by the first attributes of a key alone
is an index seek as much as by all of them. Every function here runs inside the caller's
transaction.
"""
import hashlib
import json
from collections import namedtuple
from dataclasses import dataclass

import marshmallow as ma

from app.errors import BadRequest, ValidationFailed
from models import IdentificationValue, Profile
from models.statements import compiled_sql, execute, insert_many
from schemas.values import field_of

# Rows one profile may give one key (values of multi-valued attributes multiply).
MAX_ROWS_PER_KEY = 1000
CORE_SOURCE = "profile"
Match = namedtuple("Match", "id customer_id core")


@dataclass(frozen=True)
class Key:
    """A registered identification key; extension is None for a key on core attributes."""
    id: int
    name: str
    extension: object
    attributes: tuple
    unique: bool

    @property
    def source(self):
        return CORE_SOURCE if self.extension is None else self.extension.name

    @property
    def source_id(self):
        return None if self.extension is None else self.extension.id

    def present(self):
        return {"name": self.name, "source": self.source, "attributes": list(self.attributes),
                "unique": self.unique}


def digest(values):
    """The index form of a combination of values (already in stored form): exact, fixed length."""
    text = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- index rows ----------------------------------------------------------------------------

def value_lists(key, core, stored_core=None, extension_value=None):
    """[[values of each key attribute]] per record of the key's source: one list for the core,
    one per record of a multi-valued extension."""
    if key.extension is None:
        return [[core.values_of(stored_core or {}, name) for name in key.attributes]]
    if extension_value is None:
        return []
    records = extension_value if isinstance(extension_value, list) else [extension_value]
    return [[[] if record.get(name) is None else [record[name]] for name in key.attributes]
            for record in records]


def key_rows(key, profile_id, lists):
    """The IdentificationValue rows of one profile for one key; ValidationFailed past MAX_ROWS_PER_KEY."""
    found = {}
    last = len(key.attributes)
    for per_attribute in lists:
        prefixes = [()]
        for depth, values in enumerate(per_attribute, 1):
            if not values:
                break           # later attributes cannot extend a combination that stops here
            prefixes = [prefix + (value,) for prefix in prefixes for value in dict.fromkeys(values)]
            slot = 0 if key.unique and depth == last else profile_id
            found.update(((digest(prefix), slot), None) for prefix in prefixes)
            if len(found) > MAX_ROWS_PER_KEY:
                raise ValidationFailed(
                    f"the values of this profile give identification key {key.name} more than "
                    f"{MAX_ROWS_PER_KEY} combinations", fields={key.name: ["Too many combinations of values."]})
    return [{"key": key.id, "digest": value_digest, "slot": slot, "profile": profile_id}
            for value_digest, slot in found]


def index_profile(profile_id, keys, core, *, stored_core=None, extension_values=None):
    """Write the rows of the keys whose source was written: the core when stored_core is given,
    and each extension named in extension_values ({extension name lower: value or None})."""
    extension_values = extension_values or {}
    rows, touched = [], []
    for key in keys:
        if key.extension is None and stored_core is not None:
            lists = value_lists(key, core, stored_core=stored_core)
        elif key.extension is not None and key.extension.name.lower() in extension_values:
            lists = value_lists(key, core, extension_value=extension_values[key.extension.name.lower()])
        else:
            continue
        touched.append(key.id)
        rows.extend(key_rows(key, profile_id, lists))
    return touched, rows


def reindex_profile(profile_id, keys, core, **sources):
    """Replace the profile's rows of the keys whose source was written (as index_profile)."""
    touched, rows = index_profile(profile_id, keys, core, **sources)
    if touched:
        (IdentificationValue
         .delete()
         .where((IdentificationValue.profile == profile_id) & IdentificationValue.key.in_(touched))
         .execute())
    insert_many(IdentificationValue, rows)


def conflicting_keys(keys, rows, profile_id):
    """Names of the unique keys whose values another profile holds already (after a refused write)."""
    by_id = {key.id: key for key in keys}
    wanted = [row for row in rows if row["slot"] == 0]
    clashes = set()
    for row in wanted:
        holder = (IdentificationValue
                  .select(IdentificationValue.profile)
                  .where((IdentificationValue.key == row["key"]) & (IdentificationValue.digest == row["digest"])
                         & (IdentificationValue.slot == 0))
                  .scalar())
        if holder is not None and holder != profile_id:
            clashes.add(by_id[row["key"]].name)
    return sorted(clashes)


# --- Identify Customer ---------------------------------------------------------------------

def infer_key(keys, given):
    """(key, depth) as 8.1 chose: in creation order, the first key whose attributes are all given
    wins; else the key with the most leading attributes given, ties to the earliest. depth is the
    number of leading attributes to match; (None, 0) when no key has its first attribute given."""
    best, best_depth = None, 0
    for key in keys:
        depth = leading_given(key, given)
        if depth == len(key.attributes):
            return key, depth
        if depth > best_depth:
            best, best_depth = key, depth
    return best, best_depth


def leading_given(key, given):
    """How many of the key's attributes, from the first, are among `given` ((source_id, name) pairs)."""
    depth = 0
    for name in key.attributes:
        if (key.source_id, name) not in given:
            break
        depth += 1
    return depth


def choose_key(keys, given, id_key=None):
    """The key and depth to identify with; BadRequest NO_IDENTIFICATION_KEY when none applies."""
    if id_key is not None:
        chosen = [key for key in keys if key.name.lower() == id_key.lower()]
        if not chosen:
            raise BadRequest(f"no identification key named {id_key!r}", error_code="NO_IDENTIFICATION_KEY",
                             fields={"id_key": ["No such identification key."]})
        key, depth = chosen[0], leading_given(chosen[0], given)
        if depth == 0:
            raise BadRequest(f"identification key {key.name} starts with {_spelled(key, 0)}, which is not given",
                             error_code="NO_IDENTIFICATION_KEY", fields={"id_key": ["Its first attribute is not given."]})
        return key, depth
    key, depth = infer_key(keys, given)
    if key is None:
        raise BadRequest("no identification key starts with an attribute given; see GET "
                         "/metadata/identification-keys", error_code="NO_IDENTIFICATION_KEY")
    return key, depth


def _spelled(key, index):
    name = key.attributes[index]
    return name if key.extension is None else f"{key.extension.name}.{name}"


def key_values(key, depth, given, load_one):
    """The first `depth` values of the key, loaded by load_one(key, name, text); ValidationFailed naming
    the parameter of each bad one."""
    values, errors = [], {}
    for index, name in enumerate(key.attributes[:depth]):
        try:
            values.append(load_one(key, name, given[(key.source_id, name)]))
        except ma.ValidationError as error:
            errors[_spelled(key, index)] = error.messages
    if errors:
        raise ValidationFailed("invalid identification value(s): " + ", ".join(errors), fields=errors)
    return values


def _identify_query(P, with_core):
    columns = [Profile.id, Profile.customer_id] + ([Profile.core] if with_core else [])
    return (IdentificationValue
            .select(*columns)
            .join(Profile, on=(Profile.id == IdentificationValue.profile))
            .where((IdentificationValue.key == P) & (IdentificationValue.digest == P))
            .order_by(IdentificationValue.slot)
            .limit(P))


def find_profiles(key, values, *, limit, with_core):
    """[Match(id, customer_id, core JSON or None)] of the customers whose values match, oldest first."""
    rows = execute(_identify_query, (key.id, digest(values), limit), with_core).fetchall()
    return [Match(*row) if with_core else Match(*row, None) for row in rows]


def identify_query(key, values, *, limit, with_core):
    """(SQL, parameters) of an identification, for EXPLAIN in tests and tools."""
    return compiled_sql(_identify_query, with_core), (key.id, digest(values), limit)


def given_attributes(params, core, registry):
    """{(source_id, attribute name): text} of Identify's attribute parameters (core names, or
    <extension>.<attribute>), names in any case; ValidationFailed UNKNOWN_ATTRIBUTE naming the
    parameters that are neither, or that are repeated."""
    given, errors = {}, {}
    for param, texts in params.items():
        source_id, name = _attribute_of(param, core, registry)
        if name is None:
            errors[param] = ["Neither a core profile attribute nor <extension>.<attribute>."]
        elif len(texts) > 1 or (source_id, name) in given:
            errors[param] = ["Given more than once."]
        else:
            given[(source_id, name)] = texts[0]
    if errors:
        raise ValidationFailed("unknown or repeated attribute(s): " + ", ".join(errors), error_code="UNKNOWN_ATTRIBUTE",
                               fields=errors)
    return given


def _attribute_of(param, core, registry):
    prefix, dot, rest = param.partition(".")
    if not dot:
        attribute = core.attribute(param)
        return None, None if attribute is None else attribute.name
    extension = registry.get("profiles", prefix)
    if extension is None or not hasattr(extension, "definition"):
        return None, None
    names = {attribute["name"].lower(): attribute["name"] for attribute in extension.definition["attributes"]}
    return extension.id, names.get(rest.lower())


def value_loader(core):
    """load_one(key, name, text) for key_values: the text in the stored form of that attribute."""
    def load_one(key, name, text):
        if key.extension is None:
            return core.load_one(name, text)
        field = field_of(key.extension.record_schema, name)
        attribute = next(a for a in key.extension.definition["attributes"] if a["name"] == name)
        if attribute["type"] == "double":
            try:
                text = float(text)      # a query string is text; the double field takes numbers only
            except ValueError:
                raise ma.ValidationError("Not a valid number.") from None
        return field.deserialize(text)
    return load_one
