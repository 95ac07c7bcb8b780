"""PUT extension values of a service, state or task: whole value, by unique, delete by unique (SPEC §3.6)."""
from flask import Blueprint, jsonify

from app.api import number_in_range, refuse_in_maintenance, runtime
from app.api.body import json_body, json_value
from app.api.services import service_id_in_range
from app.services import owners
from app.services.children import STATES, TASKS
from app.services.services import SERVICES

blueprint = Blueprint("extension_values", __name__)
blueprint.before_request(refuse_in_maintenance)

# One set of views for the three owners: the service's own routes fix kind and number.
SERVICE = "/services/<id:service_id>"
OWNED = f"{SERVICE}/<any(states, tasks):kind>/<id:number>"
SERVICE_DEFAULTS = {"kind": "services", "number": None}
OWNER_KINDS = {kind.name: kind for kind in (SERVICES, STATES.owners, TASKS.owners)}


def _owner_and_extension(service_id, kind, number, name):
    service_id_in_range(service_id)
    if kind != "services":
        number_in_range(kind, number)
    return owners.Owner(OWNER_KINDS[kind], service_id, number), runtime().registry.value_extension(kind, name)


@blueprint.put(f"{SERVICE}/extensions/<name>", defaults=SERVICE_DEFAULTS)
@blueprint.put(f"{OWNED}/extensions/<name>")
def replace_value(service_id, kind, number, name):
    owner, extension = _owner_and_extension(service_id, kind, number, name)
    loaded = runtime().registry.load_value(extension, json_value())
    return jsonify(owners.replace_value(owner, extension, loaded))


@blueprint.put(f"{SERVICE}/extensions/<name>/by/unique", defaults=SERVICE_DEFAULTS)
@blueprint.put(f"{OWNED}/extensions/<name>/by/unique")
def update_record(service_id, kind, number, name):
    owner, extension = _owner_and_extension(service_id, kind, number, name)
    selector = runtime().registry.load_selector(extension, json_body(), unique_only=False)
    owners.update_record(owner, extension, selector)
    return "", 204


@blueprint.put(f"{SERVICE}/extensions/<name>/delete/by/unique", defaults=SERVICE_DEFAULTS)
@blueprint.put(f"{OWNED}/extensions/<name>/delete/by/unique")
def delete_record(service_id, kind, number, name):
    owner, extension = _owner_and_extension(service_id, kind, number, name)
    selector = runtime().registry.load_selector(extension, json_body(), unique_only=True)
    owners.delete_record(owner, extension, selector)
    return "", 204
