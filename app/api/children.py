"""The views of states and tasks: start, end, list and read a numbered child of a service.

One blueprint per kind, built by blueprint_for; endpoints and path variables carry the
kind's names (states.read_state, <id:task_id>), which url_for and the OpenAPI document use.
"""
from functools import partial

from flask import Blueprint, jsonify

from app.api import created, load_event, number_in_range, params, refuse_in_maintenance, runtime
from app.api.body import json_body
from app.api.lists import bounded_answer, bounded_list
from app.api.services import STATUS_PATH, service_id_in_range
from app.services import children
from app.services.presenters import present_children

SERVICE = "/services/<id:service_id>"
# (query of a read or end, query of a list) by kind
_PARAMS = {"states": (params.StateRead, params.StateList), "tasks": (params.TaskRead, params.TaskList)}


def blueprint_for(kind, *, transitions=False):
    """The blueprint of one kind: POST start (and transition) and end, GET list (all or by status) and read."""
    blueprint = Blueprint(kind.name, __name__)
    blueprint.before_request(refuse_in_maintenance)
    base, number = f"{SERVICE}/{kind.name}", f"<id:{kind.label}_id>"
    read_query, list_query = _PARAMS[kind.name]
    listed = _view(kind, list_of, f"list_{kind.name}", list_query)
    blueprint.add_url_rule(f"{base}/start", view_func=_view(kind, start, f"start_{kind.label}"), methods=["POST"])
    if transitions:
        blueprint.add_url_rule(f"{base}/transition", view_func=_view(kind, transition, "transition"),
                               methods=["POST"])
    blueprint.add_url_rule(f"{base}/{number}/end", view_func=_view(kind, end, f"end_{kind.label}", read_query),
                           methods=["POST"])
    blueprint.add_url_rule(base, view_func=listed, methods=["GET"], defaults={"status": "all"})
    blueprint.add_url_rule(f"{base}/{STATUS_PATH}", view_func=listed, methods=["GET"])
    blueprint.add_url_rule(f"{base}/{number}", view_func=_view(kind, read, f"read_{kind.label}", read_query),
                           methods=["GET"])
    return blueprint


def _view(kind, view, endpoint, query_schema=None):
    """view with the kind bound, named endpoint (Flask names the endpoint after the function),
    taking its query string through query_schema when it reads one."""
    def bound(service_id, **values):
        return view(kind, service_id, **values)
    bound.__name__ = endpoint
    return params.takes(query_schema)(bound) if query_schema else bound


def start(kind, service_id, *, event_name="start", begin=None):
    """201 with the new child's number and Location.

    The body is loaded with the kind's `<label>_<event_name>` event schema; begin(service_id,
    event, extensions) stores the child (default: start_child of the kind).
    """
    service_id_in_range(service_id)
    schema = getattr(runtime().events, f"{kind.label}_{event_name}")
    event, extensions = load_event(schema, kind.name, json_body())
    number = (begin or partial(children.start_child, kind))(service_id, event, extensions)
    return created({f"{kind.label}_id": number}, f".read_{kind.label}",
                   service_id=service_id, **{f"{kind.label}_id": number})


def transition(kind, service_id):
    """201 for the state a transition started."""
    return start(kind, service_id, event_name="transition", begin=children.transition)


def end(kind, service_id, query, **path):
    """The completed child, nested as the query string asks."""
    app_runtime = runtime()
    service_id_in_range(service_id)
    number = number_in_range(kind.name, path[f"{kind.label}_id"])
    nesting = params.nesting(kind.name, query)
    schema = getattr(app_runtime.events, f"{kind.label}_end")
    event, extensions = load_event(schema, kind.name, json_body(required=False) or {})
    row = children.end_child(kind, service_id, number, event, extensions)
    return jsonify(present_children(kind, [row], app_runtime.presenter, nesting)[0])


def read(kind, service_id, query, **path):
    app_runtime = runtime()
    service_id_in_range(service_id)
    number = number_in_range(kind.name, path[f"{kind.label}_id"])
    nesting = params.nesting(kind.name, query)
    row = children.get_child(kind, service_id, number)
    return bounded_answer(present_children(kind, [row], app_runtime.presenter, nesting)[0])


def list_of(kind, service_id, status, query):
    """The service's children of a status, filtered by `<label>_types` and (tasks) `state_id`."""
    app_runtime = runtime()
    service_id_in_range(service_id)
    nesting = params.nesting(kind.name, query)
    types = params.type_ids(query, f"{kind.label}_types", f"{kind.label.capitalize()}.type")
    state_id = query.get("state_id")
    rows = children.list_children(kind, service_id, status=status, types=types, state_id=state_id)
    return bounded_list(rows, lambda chunk: present_children(kind, chunk, app_runtime.presenter, nesting),
                        extensions=nesting.extensions)
