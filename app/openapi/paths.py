"""Paths of the document: the app's rules, one literal path per choice of an any(...) segment, and their operations."""
import re

from app.openapi.operations import BODY_CONTENT_TYPES, OPERATIONS, PATH_PARAMETERS
from schemas.errors import ERROR_CODES

_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
_PLACEHOLDER = re.compile(r"\{(kind|one|status_prefix)\}")


def paths_of(url_map, refused_in_maintenance):
    """[(OpenAPI path, {method: operation})], in the order the app's rules were added."""
    paths = {}
    for rule in url_map.iter_rules():
        operation = OPERATIONS.get(rule.endpoint)
        if operation is None:
            continue
        for path, values, parameters in _expand(rule, operation.rename):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                paths.setdefault(path, {})[method.lower()] = _operation(
                    operation, endpoint=rule.endpoint, method=method, path=path, values=values,
                    path_parameters=parameters, maintenance=refused_in_maintenance(rule.endpoint))
    return list(paths.items())


def _expand(rule, rename):
    """[(path, values, [path parameter])] for one rule: one entry per choice of each any() segment."""
    expansions = [("", dict(rule.defaults or {}), [])]
    position = 0
    for match in _VARIABLE.finditer(rule.rule):
        literal = rule.rule[position:match.start()]
        position = match.end()
        name, converter = match["name"], match["converter"] or "default"
        if converter == "any":
            choices = [choice.strip().strip("'\"") for choice in match["args"].split(",")]
            expansions = [(path + literal + choice, {**values, name: choice}, parameters)
                          for path, values, parameters in expansions for choice in choices]
            continue
        grown = []
        for path, values, parameters in expansions:
            shown = _fill(rename.get(name, name), _words(values))
            grown.append((f"{path}{literal}{{{shown}}}", values, [*parameters, (shown, converter, name)]))
        expansions = grown
    return [(path + rule.rule[position:], values, parameters) for path, values, parameters in expansions]


def _fill(text, words):
    """text with {kind}, {one} and {status_prefix} replaced; other braces (JSON in prose) stay."""
    return _PLACEHOLDER.sub(lambda match: words.get(match[1], match[0]), text)


def _words(values):
    """Format values for summaries and renamed parameters: {kind} and its singular {one}."""
    words = {key: value for key, value in values.items() if isinstance(value, str)}
    if "kind" in words:
        words["one"] = words["kind"][:-1]
    status = words.get("status")
    words["status_prefix"] = "" if status in (None, "all") else f"{status} "
    return words


def path_parameter(shown, converter, name, *, help_text=None):
    """The Parameter Object of one path variable."""
    described = PATH_PARAMETERS.get(shown) or PATH_PARAMETERS.get(name) or {}
    if help_text:
        described = {**described, "description": help_text}
    if converter == "id":
        schema = {"type": "integer", "minimum": 1}
    else:
        schema = {"type": "string"}
    return {"name": shown, "in": "path", "required": True, "schema": schema, **described}


def _operation(operation, *, endpoint, method, path, values, path_parameters, maintenance):
    """The Operation Object of one method on one expanded path."""
    words = _words(values)
    summary = _fill(operation.summary, words)
    suffix = "".join(f"_{value}" for value in values.values() if isinstance(value, str))
    rendered = {
        "operationId": endpoint.rsplit(".", 1)[-1] + suffix,
        "tags": [operation.tag],
        "summary": summary,
        "description": _fill(operation.description, words).strip(),
        "parameters": [path_parameter(*parameter, help_text=operation.path_help.get(parameter[0]))
                       for parameter in path_parameters]
                      + list(operation.query),
        "responses": {},
    }
    if operation.body:
        body = _fill(operation.body, words)
        rendered["requestBody"] = {
            "required": operation.body_required,
            "description": ("Parsed as JSON whatever the Content-Type (or none). "
                            + ("Required." if operation.body_required else "Optional: an empty body is "
                               "the same as {}.")),
            "content": {content_type: {"schema": {"$ref": f"#/components/schemas/{body}"}}
                        for content_type in BODY_CONTENT_TYPES},
        }
    for answer in operation.answers:
        rendered["responses"][str(answer.status)] = _answer(answer, words)
    errors = {status: list(codes) for status, codes in operation.errors.items()}

    def add(status, *codes):
        have = errors.setdefault(status, [])
        have.extend(code for code in codes if code not in have)

    if operation.body:
        add(400, "INVALID_JSON", *(("MISSING_BODY",) if operation.body_required else ()), "INVALID_BODY")
        add(413, "PAYLOAD_TOO_LARGE")
    if any(converter == "id" for _, converter, _ in path_parameters):
        add(404, "NOT_FOUND")
    add(405, "METHOD_NOT_ALLOWED")
    if maintenance:
        add(503, "MAINTENANCE")
    add(503, "DATABASE_UNAVAILABLE")
    if method.lower() != "get":
        add(503, "WRITE_OUTCOME_UNKNOWN")
    for status, response in error_responses(errors, method=method, path=path).items():
        answer = rendered["responses"].get(status)
        if answer is None:
            rendered["responses"][status] = response
            continue
        # The same status as a regular answer (GET /healthz 503): either body may come.
        answer["description"] += "\n\n" + response["description"]
        content = answer["content"]["application/json"]
        content["schema"] = {"anyOf": [content["schema"], response["content"]["application/json"]["schema"]]}
        answer.setdefault("headers", {}).update(response.get("headers", {}))
    return rendered


def _answer(answer, words):
    response = {"description": _fill(answer.description, words)}
    if answer.schema is not None:
        schema = {"$ref": f"#/components/schemas/{answer.schema}"} if isinstance(answer.schema, str) \
            else answer.schema
        if answer.many:
            schema = {"type": "array", "items": schema}
        response["content"] = {answer.content_type: {"schema": schema}}
    if answer.headers:
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in answer.headers}
    return response


def error_responses(errors_by_status, *, method, path):
    """{status: Response Object} for the error codes an operation can give."""
    responses = {}
    for status, codes in sorted(errors_by_status.items()):
        lines = [f"- `{code}`: {ERROR_CODES[code][1]}" for code in codes]
        example = {"error": {"http_method": method, "uri": path, "http_code": status,
                             "error_code": codes[0], "message": ERROR_CODES[codes[0]][1]}}
        response = {"description": "Error codes:\n" + "\n".join(lines),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"},
                                                     "example": example}}}
        if status == 405:
            response["headers"] = {"Allow": {"$ref": "#/components/headers/Allow"}}
        elif status == 503:
            response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
        responses[str(status)] = response
    return responses
