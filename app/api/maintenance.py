"""POST /maintenance/purge: one bounded maintenance run, or 8.5's purge operations (SPEC §13).

Not refused in maintenance mode: clearing data out is what that mode is for.
"""
from flask import Blueprint, jsonify

from app.access import default_roles
from app.api import load, params, runtime
from app.api.body import json_body
from app.errors import Conflict
from app.services import maintenance
from app.services.run_lock import RunLock, RunLockBusy
from models import now_ms
from schemas.maintenance import PurgeBody
from schemas.timestamps import format_ms

blueprint = default_roles(Blueprint("maintenance", __name__), read="reader", write="admin")
_body_schema = PurgeBody()


@blueprint.post("/maintenance/purge")
@params.takes(params.Purge)
def purge(query):
    settings = runtime().settings
    body = json_body(required=False)
    answer = {"dry_run": query["dry_run"]}
    if body:
        order = load(_body_schema, body)
        jobs = [maintenance.operation_job(order["operation"], order["limit"])]
        answer.update(operation=order["operation"], limit=format_ms(order["limit"]))
    else:
        jobs = maintenance.configured_jobs(maintenance.Policy.from_settings(settings))
    try:
        with RunLock():
            outcome = maintenance.run(jobs, now_ms(), max_services=query["max"], dry_run=query["dry_run"],
                                      pause_ratio=settings["lifecycle"]["maintenance_pause_ratio"])
    except RunLockBusy:
        raise Conflict("another maintenance run is working; try again when it has finished",
                       error_code="MAINTENANCE_RUNNING") from None
    for name, done in outcome.done.items():
        answer[name] = {"done": done, "still_due": outcome.still_due[name]}
    return jsonify(answer)
