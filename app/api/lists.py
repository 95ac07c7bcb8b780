"""Answers whose size grows with what is stored, held to `[api] max_response_bytes` (SPEC §12).

A list is presented a few rows at a time and each resource serialised as soon as it is
made, so what the worker holds is the text so far (at most the limit) plus one chunk of
resources; the first resource past the limit ends the work with 400 RESPONSE_TOO_LARGE.
A single resource (a service with its nested states and tasks, a profile with its extension
values) is serialised whole, then measured the same way.
"""
from flask import current_app

from app.api import runtime
from app.errors import BadRequest

# Extension values are read per chunk; each value may be max_value_bytes, so a chunk holds
# about this many values whatever the number of extensions asked for.
VALUES_PER_CHUNK = 16


def bounded_list(rows, present, *, extensions=()):
    """The 200 JSON array of present(chunk) over rows in chunks; BadRequest when it would pass
    `[api] max_response_bytes`. present(chunk) returns the chunk's resources, in order."""
    limit = runtime().settings["api"]["max_response_bytes"]
    chunk_size = max(1, VALUES_PER_CHUNK // max(1, len(extensions)))
    pieces, size = [], len(b"[]\n")
    for start in range(0, len(rows), chunk_size):
        for body in present(rows[start:start + chunk_size]):
            piece = current_app.json.dumps(body)
            size += len(piece.encode("utf-8")) + (1 if pieces else 0)
            if size > limit:
                raise _too_large(limit, len(pieces))
            pieces.append(piece)
    return current_app.response_class("[" + ",".join(pieces) + "]\n", mimetype="application/json")


def bounded_answer(body):
    """The 200 JSON answer of one resource, as jsonify makes it; BadRequest past the limit."""
    limit = runtime().settings["api"]["max_response_bytes"]
    text = current_app.json.dumps(body) + "\n"
    if len(text.encode("utf-8")) > limit:
        raise BadRequest(f"the answer would be larger than [api] max_response_bytes = {limit} bytes; ask for "
                         "fewer extensions or nested lists", error_code="RESPONSE_TOO_LARGE")
    return current_app.response_class(text, mimetype="application/json")


def _too_large(limit, fitted):
    return BadRequest(f"the answer would be larger than [api] max_response_bytes = {limit} bytes after "
                      f"{fitted} items; ask for fewer with limit (and offset), or fewer extensions or nested "
                      "lists", error_code="RESPONSE_TOO_LARGE")
