"""Reading the served OpenAPI document in tests: path templates, sample URLs, schema validators."""
import re

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:context-services:openapi"
METHODS = ("get", "put", "post", "delete", "patch")
_TEMPLATE_VARIABLE = re.compile(r"\{[^}/]+\}")
_RULE_VARIABLE = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def fetch_document(client, prefix=""):
    response = client.get(f"{prefix}/openapi.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def operations(document):
    """[(path, method, operation)] of every operation in the document."""
    return [(path, method, item[method]) for path, item in document["paths"].items()
            for method in METHODS if method in item]


def template_regex(path):
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in _TEMPLATE_VARIABLE.split(path)) + "$")


def documented_path_for(document, url):
    """The document path that serves `url`, literal segments winning over templated ones (as OpenAPI says)."""
    matches = [path for path in document["paths"] if template_regex(path).match(url)]
    if not matches:
        return None
    return max(matches, key=lambda path: len(re.sub(_TEMPLATE_VARIABLE, "", path)))


def sample_urls(rule):
    """Concrete URLs a werkzeug rule serves: every choice of any(...), 1 for IDs, 'x' otherwise."""
    urls = [""]
    position = 0
    for match in _RULE_VARIABLE.finditer(rule.rule):
        literal = rule.rule[position:match.start()]
        position = match.end()
        converter, args = match[1], match[2]
        if converter == "any":
            choices = [choice.strip().strip("'\"") for choice in args.split(",")]
        elif converter == "id":
            choices = ["1"]
        else:
            choices = ["x"]
        urls = [url + literal + choice for url in urls for choice in choices]
    return [url + rule.rule[position:] for url in urls]


def sample_url_of(path, operation):
    """A concrete URL for a document path: 1 for integer path parameters, 'x' for the others."""
    kinds = {parameter["name"]: parameter["schema"].get("type") for parameter in operation.get("parameters", [])
             if "name" in parameter and parameter.get("in") == "path"}
    return _TEMPLATE_VARIABLE.sub(lambda match: "1" if kinds.get(match[0][1:-1]) == "integer" else "x", path)


def component_validator(document, name):
    """A JSON Schema 2020-12 validator for components/schemas/<name> of the document."""
    registry = Registry().with_resource(DOCUMENT_URI, Resource.from_contents(
        document, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{DOCUMENT_URI}#/components/schemas/{name}"}, registry=registry)


def assert_matches_component(document, name, body):
    errors = sorted(component_validator(document, name).iter_errors(body), key=lambda error: list(error.path))
    assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
