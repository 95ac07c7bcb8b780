"""Tasks under /services/<service_id> (SPEC §5)."""
import re

from flask import Blueprint, jsonify, request, url_for

from app.access import default_roles
from app.api import load_event, name_list, number_in_range, refuse_in_maintenance, runtime
from app.api.body import json_body
from app.api.services import STATUS_PATH, service_id_in_range
from app.api.states import type_ids
from app.errors import BadRequest
from app.services import tasks

blueprint = default_roles(Blueprint("tasks", __name__), read="reader", write="writer")
blueprint.before_request(refuse_in_maintenance)
SERVICE = "/services/<id:service_id>"


def _extensions(args):
    return runtime().registry.resolve_names("tasks", name_list(args, "extensions"))


@blueprint.post(f"{SERVICE}/tasks/start")
def start_task(service_id):
    service_id_in_range(service_id)
    event, extensions = load_event(runtime().events.task_start, "tasks", json_body())
    task_id = tasks.start_task(service_id, event, extensions)
    response = jsonify({"task_id": task_id})
    response.status_code = 201
    response.headers["Location"] = url_for(".read_task", service_id=service_id, task_id=task_id)
    return response


@blueprint.post(f"{SERVICE}/tasks/<id:task_id>/end")
def end_task(service_id, task_id):
    state = runtime()
    service_id_in_range(service_id)
    number_in_range("tasks", task_id)
    extensions_read = _extensions(request.args)
    event, extensions = load_event(state.events.task_end, "tasks", json_body(required=False) or {})
    row = tasks.end_task(service_id, task_id, event, extensions)
    return jsonify(tasks.present_tasks([row], state.presenter, extensions_read)[0])


@blueprint.get(f"{SERVICE}/tasks", defaults={"status": "all"})
@blueprint.get(f"{SERVICE}/tasks/{STATUS_PATH}")
def list_tasks(service_id, status):
    state = runtime()
    service_id_in_range(service_id)
    extensions = _extensions(request.args)
    state_id = _state_id(request.args)
    task_types = type_ids(request.args, "task_types", "Task.type")
    rows = tasks.list_tasks(service_id, status=status, state_id=state_id, task_types=task_types)
    return jsonify(tasks.present_tasks(rows, state.presenter, extensions))


@blueprint.get(f"{SERVICE}/tasks/<id:task_id>")
def read_task(service_id, task_id):
    state = runtime()
    service_id_in_range(service_id)
    number_in_range("tasks", task_id)
    extensions = _extensions(request.args)
    return jsonify(tasks.present_tasks([tasks.get_task(service_id, task_id)], state.presenter, extensions)[0])


def _state_id(args):
    text = args.get("state_id")
    if text is None:
        return None
    if not re.fullmatch(r"\s*[0-9]{1,10}\s*", text) or not 0 < int(text) < 2**31:
        raise BadRequest("query parameter state_id must be a state ID (a positive 32-bit integer)",
                         error_code="INVALID_PARAMETER", fields={"state_id": ["Not a valid state ID."]})
    return int(text)
