"""docs/API.md: its examples are what the server answers now, and every route has one."""
import pytest
from werkzeug.exceptions import HTTPException

from tests.api_examples import API_MD, CONFIG, example_keys, normalise, record, rewrite, scenario
from tests.openapi_support import documented_path_for, fetch_document


@pytest.fixture
def backend():
    """The examples are recorded on SQLite, as `python -m tests.api_examples --write` does."""
    return "sqlite"


@pytest.fixture
def recorded(make_app):
    """(examples, OpenAPI document) of one run of the scenario through the test client."""
    client = make_app(**CONFIG).test_client()
    examples = record(client)
    return examples, fetch_document(client)


def test_api_md_shows_what_the_server_answers_now(recorded):
    examples, document = recorded
    current = API_MD.read_text()
    assert normalise(rewrite(current, examples, document)) == normalise(current), (
        "docs/API.md is out of date: run python -m tests.api_examples --write, and read the diff")


def test_every_example_is_shown_once_and_every_block_has_one():
    keys = example_keys(API_MD.read_text())
    recorded_keys = [step.key for step in scenario() if step.key]
    assert sorted(keys) == sorted(recorded_keys)
    assert len(set(keys)) == len(keys)


def test_every_route_has_an_example(recorded, make_app):
    examples, _ = recorded
    app = make_app(**CONFIG)
    adapter = app.url_map.bind("localhost")
    shown = set()
    for example in examples:
        if example.step.key is None:
            continue
        try:
            endpoint, _ = adapter.match(example.url.split("?")[0], method=example.step.method)
        except HTTPException:
            continue        # an example of a refused method or path
        shown.add((endpoint, example.step.method))
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert sorted(routes - shown) == []


def test_every_example_answer_is_documented_for_its_operation(recorded):
    examples, document = recorded
    for example in examples:
        path = documented_path_for(document, example.url.split("?")[0])
        operation = document["paths"][path].get(example.step.method.lower()) if path else None
        if operation is None:
            continue        # 405 on a path without this method: documented on the path's operations
        response = operation["responses"].get(str(example.status))
        assert response is not None, (example.step.key, example.status)
        if example.error_code:
            assert f"`{example.error_code}`" in response["description"], (example.step.key, example.error_code)
