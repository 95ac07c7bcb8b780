"""Paths of the document: the app's rules, one literal path per choice of an any(...) segment, and their operations."""
import re

from app.access import PUBLIC
from app.openapi.operations import BODY_CONTENT_TYPES, OPERATIONS as _CORE_OPERATIONS, PATH_PARAMETERS
from app.openapi.profiles import PROFILE_OPERATIONS

OPERATIONS = {**_CORE_OPERATIONS, **PROFILE_OPERATIONS}
from schemas.errors import ERROR_CODES

_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
_PLACEHOLDER = re.compile(r"\{(kind|one|status_prefix)\}")


def paths_of(url_map, refused_in_maintenance, query_schemas, *, role_of, basic):
    """[(OpenAPI path, {method: operation})], in the order the app's rules were added.

    query_schemas: {endpoint: the schema its view loads the query string with}; role_of(endpoint,
    method) names the role each operation needs; with basic (auth mode basic) operations also
    carry their security requirement and the 401/403/429 answers.
    """
    paths = {}
    for rule in url_map.iter_rules():
        operation = OPERATIONS.get(rule.endpoint)
        if operation is None:
            continue
        for path, values, parameters in _expand(rule, operation.rename):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                rendered = _operation(
                    operation, endpoint=rule.endpoint, method=method, path=path, values=values,
                    query=query_names(query_schemas.get(rule.endpoint)),
                    path_parameters=parameters, maintenance=refused_in_maintenance(rule.endpoint))
                paths.setdefault(path, {})[method.lower()] = _with_access(
                    rendered, role_of(rule.endpoint, method), basic=basic, method=method, path=path)
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


def query_names(schema):
    """The query parameters a schema reads, in its field order ([] for none)."""
    if schema is None:
        return []
    return [field.data_key or name for name, field in schema._declared_fields.items()]


def _operation(operation, *, endpoint, method, path, values, query, path_parameters, maintenance):
    """The Operation Object of one method on one expanded path."""
    words = _words(values)
    suffix = "".join(f"_{value}" for value in values.values() if isinstance(value, str))
    rendered = {
        "operationId": endpoint.rsplit(".", 1)[-1] + suffix,
        "tags": [operation.tag],
        "summary": _fill(operation.summary, words),
        "description": _fill(operation.description, words).strip(),
        "parameters": [path_parameter(*parameter, help_text=operation.path_help.get(parameter[0]))
                       for parameter in path_parameters]
                      + query,
        "responses": {},
    }
    if operation.body:
        rendered["requestBody"] = _request_body(operation, words)
    for answer in operation.answers:
        rendered["responses"][str(answer.status)] = _answer(answer, words)
    errors = _error_codes(operation, path_parameters, maintenance, method)
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


def _request_body(operation, words):
    return {
        "required": operation.body_required,
        "description": ("Parsed as JSON whatever the Content-Type (or none). "
                        + ("Required." if operation.body_required else "Optional: an empty body is "
                           "the same as {}.")),
        "content": {content_type: {"schema": {"$ref": f"#/components/schemas/{_fill(operation.body, words)}"}}
                    for content_type in BODY_CONTENT_TYPES},
    }


def _error_codes(operation, path_parameters, maintenance, method):
    """{status: [error code]}: the operation's own, then those every route of its shape can give."""
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
        add(503, "WRITE_OUTCOME_UNKNOWN")     # the connection broke after the write went out
    return errors


def _with_access(rendered, role, *, basic, method, path):
    """The operation with the role it needs in its description, and with basic its security
    requirement and the 401/403/429 answers (SPEC §11)."""
    public = role == PUBLIC
    rendered["x-role"] = "none" if public else role
    rendered["description"] = (rendered["description"] + "\n\n" if rendered["description"] else "") + (
        "Role: none (answers without credentials)." if public else f"Role: `{role}` or above.")
    if not basic:
        return rendered
    rendered["security"] = [] if public else [{"basicAuth": []}]
    if not public:
        errors = {401: ["UNAUTHORIZED"], 429: ["TOO_MANY_FAILURES"]}
        if role != "reader":
            errors[403] = ["FORBIDDEN"]
        for status, response in error_responses(errors, method=method, path=path).items():
            rendered["responses"][status] = response
        rendered["responses"] = dict(sorted(rendered["responses"].items()))
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
        elif status == 401:
            response["headers"] = {"WWW-Authenticate": {"$ref": "#/components/headers/WWW-Authenticate"}}
        elif status in (429, 503):
            response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
        responses[str(status)] = response
    return responses
