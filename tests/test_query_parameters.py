"""Every query parameter a view reads is in the OpenAPI document for that operation, and nothing else is."""
import pytest
from flask import Request
from werkzeug.datastructures import ImmutableMultiDict

from tests.openapi_support import fetch_document, operations, sample_url_of


@pytest.fixture
def backend():
    """Which parameters a view reads does not depend on the database."""
    return "sqlite"


class RecordingArgs(ImmutableMultiDict):
    """request.args that notes every name a view asks for, however it asks."""
    asked = []

    def __contains__(self, key):
        self.asked.append(key)
        return super().__contains__(key)

    def __getitem__(self, key):
        self.asked.append(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        self.asked.append(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self.asked.append(key)
        return super().getlist(key, type)

    def to_dict(self, flat=True):
        self.asked.append("*every parameter*")
        return super().to_dict(flat)


class RecordingRequest(Request):
    parameter_storage_class = RecordingArgs


def documented_query(document, operation):
    names = []
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        if parameter["in"] == "query":
            names.append(parameter["name"])
    return names


@pytest.mark.parametrize("settings", [{}, {"extensions": {"mode": "free"}, "api": {"base_path": "/cs"}}])
def test_every_parameter_a_view_reads_is_documented_and_nothing_else(make_app, settings):
    app = make_app(**settings)
    app.request_class = RecordingRequest
    client = app.test_client()
    prefix = settings.get("api", {}).get("base_path", "")
    document = fetch_document(client, prefix)
    wrong = []
    for path, method, operation in operations(document):
        RecordingArgs.asked.clear()
        client.open(sample_url_of(path, operation), method=method.upper())
        read, documented = set(RecordingArgs.asked), set(documented_query(document, operation))
        if read != documented:
            wrong.append(f"{method.upper()} {path}: reads {sorted(read)}, documented {sorted(documented)}")
    assert not wrong, "\n".join(wrong)


def test_parameters_of_the_same_name_are_one_definition(make_app):
    document = fetch_document(make_app().test_client())
    for _, _, operation in operations(document):
        for parameter in operation.get("parameters", []):
            assert "$ref" in parameter or parameter["in"] == "path", parameter
