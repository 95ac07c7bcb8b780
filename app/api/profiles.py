"""Customer profiles and Identify Customer: the /profiles routes (SPEC §10.2, §10.5)."""
import marshmallow as ma
from flask import Blueprint, jsonify, request

from app.access import default_roles
from app.api import created, load_with_extensions, params, refuse_in_maintenance, runtime
from app.api.body import json_body
from app.api.lists import bounded_answer, bounded_list
from app.api.services import path_text
from app.errors import BadRequest, ValidationFailed
from app.services import identification, profiles
from schemas.profiles import CUSTOMER_ID_LENGTH, customer_id_field

blueprint = default_roles(Blueprint("profiles", __name__), read="reader", write="writer")
blueprint.before_request(refuse_in_maintenance)
PROFILE = "/profiles/<customer_id>"
_customer_id_schema = ma.Schema.from_dict({"customer_id": customer_id_field()}, name="CustomerId")()
# What Identify reads as options; every other parameter is an attribute to identify by.
IDENTIFY_OPTIONS = frozenset(field.data_key or name for name, field in params.Identify().fields.items())


def load_profile_body(body):
    """(customer_id or None, core attributes, [(extension, value)]) of a profile body; one 400 names
    every fault."""
    core = runtime().core
    (customer_id, attributes), extensions = load_with_extensions(
        "profiles", body, is_core=lambda key: key == "customer_id" or core.is_core(key),
        load_core=lambda raw: _load_core(core, raw))
    return customer_id, attributes, extensions


def _load_core(core, raw):
    """(customer_id or None, core attributes); ma.ValidationError naming every fault of both."""
    errors, customer_id, attributes = {}, None, None
    if "customer_id" in raw:
        try:
            customer_id = _customer_id_schema.load({"customer_id": raw.pop("customer_id")})["customer_id"]
        except ma.ValidationError as error:
            errors.update(error.messages)
    try:
        attributes = core.load(raw)
    except ma.ValidationError as error:
        errors.update(error.messages)
    if errors:
        raise ma.ValidationError(errors)
    return customer_id, attributes


def _customer(customer_id):
    return path_text("customer_id", customer_id, CUSTOMER_ID_LENGTH)


def _present(rows, extensions, *, with_core=True):
    return profiles.present_profiles(rows, runtime().core, extensions, with_core=with_core)


@blueprint.post("/profiles")
def create_profile():
    state = runtime()
    customer_id, core, extensions = load_profile_body(json_body())
    customer_id = profiles.create_profile(state.ids, state.keys, state.core, customer_id, core, extensions)
    return created({"customer_id": customer_id}, ".read_profile", customer_id=customer_id)


@blueprint.get("/profiles")
@params.takes(params.Identify)
def identify_customer(query):
    state = runtime()
    extensions = state.registry.resolve_names("profiles", query["extensions"])
    attributes = {name: request.args.getlist(name) for name in request.args if name not in IDENTIFY_OPTIONS}
    if not attributes and query.get("id_key") is None:
        raise BadRequest("give at least one attribute to identify by, e.g. ?PhoneNumber=...",
                         error_code="NO_IDENTIFICATION_KEY")
    given = identification.given_attributes(attributes, state.core, state.registry)
    key, depth = identification.choose_key(state.keys.all(), given, query.get("id_key"))
    values = identification.key_values(key, depth, given, identification.value_loader(state.core))
    rows = identification.find_profiles(key, values, limit=state.settings["api"]["max_list"],
                                        with_core=query["include_profile"])
    if query["include_extensions"] == "unique" and len(rows) != 1:
        extensions = []
    return bounded_list(rows, lambda chunk: _present(chunk, extensions, with_core=query["include_profile"]),
                        extensions=extensions)


@blueprint.get(PROFILE)
@params.takes(params.ProfileRead)
def read_profile(customer_id, query):
    extensions = runtime().registry.resolve_names("profiles", query["extensions"])
    row = profiles.get_profile(_customer(customer_id))
    return bounded_answer(_present([row], extensions)[0])


@blueprint.put(PROFILE)
def replace_profile(customer_id):
    state = runtime()
    customer_id = _customer(customer_id)
    body_customer, core, extensions = load_profile_body(json_body())
    if body_customer is not None and body_customer != customer_id:
        raise ValidationFailed("customer_id in the body differs from the path",
                               fields={"customer_id": ["Must equal the customer_id of the path."]})
    row = profiles.replace_profile(state.keys, state.core, customer_id, core, extensions)
    return jsonify(_present([row], [extension for extension, _ in extensions])[0])


@blueprint.delete(PROFILE)
def delete_profile(customer_id):
    profiles.delete_profile(_customer(customer_id))
    return "", 204


@blueprint.post(f"{PROFILE}/extensions")
def replace_extensions(customer_id):
    state = runtime()
    customer_id = _customer(customer_id)
    extensions = state.registry.load_values("profiles", json_body())
    profiles.replace_extensions(state.keys, state.core, customer_id, extensions)
    return jsonify({extension.name: value for extension, value in extensions})


@blueprint.put(f"{PROFILE}/extensions/<name>/by/unique")
def update_record(customer_id, name):
    _edit_record(customer_id, name, profiles.update_record, unique_only=False)
    return "", 204


@blueprint.put(f"{PROFILE}/extensions/<name>/delete/by/unique")
def delete_record(customer_id, name):
    _edit_record(customer_id, name, profiles.delete_record, unique_only=True)
    return "", 204


def _edit_record(customer_id, name, edit, *, unique_only):
    state = runtime()
    body = json_body()      # a malformed body is refused before the path is looked at, as everywhere
    extension = state.registry.require("profiles", name)
    selector = state.registry.load_selector(extension, body, unique_only=unique_only)
    edit(state.keys, state.core, _customer(customer_id), extension, selector)
