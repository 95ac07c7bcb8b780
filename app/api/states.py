"""States under /services/<service_id> (SPEC §4)."""
from flask import Blueprint, jsonify, request, url_for

from app.access import default_roles
from app.api import load_event, name_list, number_in_range, refuse_in_maintenance, runtime
from app.api.body import json_body
from app.api.services import STATUS_PATH, nesting_from, service_id_in_range
from app.errors import BadRequest
from app.services import states

blueprint = default_roles(Blueprint("states", __name__), read="reader", write="writer")
blueprint.before_request(refuse_in_maintenance)
SERVICE = "/services/<id:service_id>"


def _created(service_id, state_id):
    response = jsonify({"state_id": state_id})
    response.status_code = 201
    response.headers["Location"] = url_for(".read_state", service_id=service_id, state_id=state_id)
    return response


@blueprint.post(f"{SERVICE}/states/start")
def start_state(service_id):
    service_id_in_range(service_id)
    event, extensions = load_event(runtime().events.state_start, "states", json_body())
    return _created(service_id, states.start_state(service_id, event, extensions))


@blueprint.post(f"{SERVICE}/states/transition")
def transition(service_id):
    service_id_in_range(service_id)
    event, extensions = load_event(runtime().events.state_transition, "states", json_body())
    return _created(service_id, states.transition(service_id, event, extensions))


@blueprint.post(f"{SERVICE}/states/<id:state_id>/end")
def end_state(service_id, state_id):
    state = runtime()
    service_id_in_range(service_id)
    number_in_range("states", state_id)
    nesting = nesting_from(request.args, kind="states")
    event, extensions = load_event(state.events.state_end, "states", json_body(required=False) or {})
    row = states.end_state(service_id, state_id, event, extensions)
    return jsonify(states.present_states([row], state.presenter, nesting)[0])


@blueprint.get(f"{SERVICE}/states", defaults={"status": "all"})
@blueprint.get(f"{SERVICE}/states/{STATUS_PATH}")
def list_states(service_id, status):
    state = runtime()
    service_id_in_range(service_id)
    nesting = nesting_from(request.args, kind="states")
    state_types = type_ids(request.args, "state_types", "State.type")
    rows = states.list_states(service_id, status=status, state_types=state_types)
    return jsonify(states.present_states(rows, state.presenter, nesting))


@blueprint.get(f"{SERVICE}/states/<id:state_id>")
def read_state(service_id, state_id):
    state = runtime()
    service_id_in_range(service_id)
    number_in_range("states", state_id)
    nesting = nesting_from(request.args, kind="states")
    row = states.get_state(service_id, state_id)
    return jsonify(states.present_states([row], state.presenter, nesting)[0])


def type_ids(args, name, field_key):
    """DB IDs of a `state_types` / `task_types` filter given as names or IDs (SPEC §7)."""
    resolve = runtime().business_attributes.resolver(field_key)
    ids, problems = [], []
    for item in name_list(args, name):
        try:
            ids.append(resolve(item))
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise BadRequest(f"query parameter {name}: {problems[0]}", error_code="INVALID_PARAMETER",
                         fields={name: problems})
    return ids
