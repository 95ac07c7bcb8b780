"""`context-services schemas export|import` (SPEC §14): the extension schemas of every kind and the
identification keys as one JSON file — run as a process, in-process, and through the service functions."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.services.schema_transfer import FORMAT, TransferError, export_document, import_document
from tests.calls import ok
from tests.conftest import empty_all_tables
from tests.support import render_ini
from tests.vendor import EXTENSION_SCHEMAS

COMMAND = str(Path(sys.executable).parent / "context-services")
WAIT_S = 120        # bounds a run on a loaded machine; asserts nothing about speed
VISIT = {"name": "Visit", "type": "multi-valued", "unique": [["site", "day"]],
         "attributes": [{"name": "site", "type": "string", "length": 10},
                        {"name": "day", "type": "integer", "mandatory": True}]}
ACCOUNT = {"name": "account", "type": "multi-valued", "unique": ["number"],
           "attributes": [{"name": "number", "type": "string", "mandatory": True},
                          {"name": "branch", "type": "integer"}]}
VIP = {"name": "vip", "type": "classifier"}
# As a user might post them; the file holds them as GET lists them.
KEY_POSTS = [{"name": "phone", "attributes": ["phonenumber"], "unique": True},
             {"name": "acct", "attributes": ["account.number", "account.branch"]},
             {"name": "name", "source": "profile", "attributes": ["LastName", "FirstName"]}]
KEYS = [{"name": "phone", "source": "profile", "attributes": ["PhoneNumber"], "unique": True},
        {"name": "acct", "source": "account", "attributes": ["number", "branch"], "unique": False},
        {"name": "name", "source": "profile", "attributes": ["LastName", "FirstName"], "unique": False}]
SCHEMA_COUNT = len(EXTENSION_SCHEMAS) + 3


@pytest.fixture
def deployment(make_app, database_url, tmp_path):
    """A client on this test's database with schemas of every kind and three keys; its config file."""
    client = make_app(extensions={"refresh_seconds": 0}).test_client()
    for kind, schema in [*(("services", schema) for schema in EXTENSION_SCHEMAS),
                         ("states", VISIT), ("profiles", ACCOUNT), ("profiles", VIP)]:
        ok(client.post(f"/metadata/{kind}/extensions", json=schema), 201)
    for body in KEY_POSTS:
        ok(client.post("/metadata/identification-keys", json=body), 201)
    return client, config_file(tmp_path / "cs.ini", database_url)


def config_file(path, database_url, **sections):
    path.write_text(render_ini({"database": {"url": database_url}, **sections}))
    return path


def fresh_database(backend, database_url, tmp_path):
    """The config file of a database holding nothing: a new SQLite file, or this test's MySQL one emptied."""
    if backend == "sqlite":
        return config_file(tmp_path / "fresh.ini", f"sqlite:///{tmp_path}/fresh.db")
    empty_all_tables()
    return config_file(tmp_path / "fresh.ini", database_url)


def command(*args, config):
    """(exit code, stdout, stderr) of `context-services schemas ...` run as a process."""
    env = {key: value for key, value in os.environ.items() if key not in ("PROMETHEUS_MULTIPROC_DIR", "CS_CONFIG")}
    done = subprocess.run([COMMAND, "schemas", *args, "--config", str(config)], env=env,
                          capture_output=True, text=True, timeout=WAIT_S)
    return done.returncode, done.stdout, done.stderr


def exported(config, path):
    code, _, err = command("export", str(path), config=config)
    assert code == 0, err
    return json.loads(path.read_text())


def run(*args):
    return CliRunner().invoke(main, list(args), env={"CS_CONFIG": None}, catch_exceptions=False)


def runtime_of(client):
    return client.application.extensions["context_services"]


def current(client):
    """Everything an import may write, as the export function sees it now (the apps of these tests
    look at the database on every read: refresh_seconds = 0)."""
    runtime = runtime_of(client)
    return export_document(runtime.registry, runtime.keys)


# --- export ----------------------------------------------------------------------------------

def test_the_export_holds_every_kind_of_schema_and_the_keys_in_the_form_post_takes(deployment, tmp_path):
    client, config = deployment
    document = exported(config, tmp_path / "schemas.json")
    assert document == current(client)
    assert set(document) == {"format", "extension_schemas", "identification_keys"}
    assert list(document["extension_schemas"]) == ["services", "states", "tasks", "profiles"]
    assert [schema["name"] for schema in document["extension_schemas"]["services"]] == \
        [schema["name"] for schema in EXTENSION_SCHEMAS]
    assert document["extension_schemas"]["profiles"][1] == {"name": "vip", "type": "classifier",
                                                            "attributes": [], "unique": []}
    assert document["identification_keys"] == KEYS == ok(client.get("/metadata/identification-keys"))


# --- import ----------------------------------------------------------------------------------

def test_an_export_imported_into_a_fresh_database_exports_the_same_file(deployment, backend, database_url,
                                                                       tmp_path):
    _, config = deployment
    first = tmp_path / "first.json"
    exported(config, first)
    fresh = fresh_database(backend, database_url, tmp_path)
    code, out, err = command("import", str(first), config=fresh)
    assert code == 0, err
    assert "created states extension Visit" in out and "created profiles extension vip" in out
    assert out.splitlines()[-3:] == ["created identification key phone", "created identification key acct",
                                     "created identification key name"]
    assert f"{SCHEMA_COUNT + len(KEYS)} created, 0 already there" in err
    second = tmp_path / "second.json"
    exported(fresh, second)
    assert second.read_text() == first.read_text()


def test_a_second_import_changes_nothing(deployment, tmp_path):
    client, config = deployment
    path = tmp_path / "schemas.json"
    before = exported(config, path)
    code, out, err = command("import", str(path), config=config)
    assert code == 0, err
    assert out == "" and f"0 created, {SCHEMA_COUNT + len(KEYS)} already there" in err
    assert current(client) == before


def test_a_key_on_a_profile_extension_the_file_creates_works_after_one_import(make_app):
    client = make_app(extensions={"refresh_seconds": 0}).test_client()
    runtime = runtime_of(client)
    document = {"format": FORMAT, "extension_schemas": {"profiles": [ACCOUNT]},
                "identification_keys": [{"name": "acct", "source": "account", "attributes": ["number"]}]}
    assert import_document(runtime.registry, runtime.keys, document) == {
        "created": [("profiles extension", "account"), ("identification key", "acct")], "unchanged": []}
    ok(client.post("/profiles", json={"customer_id": "c-1", "account": [{"number": "A-1"}]}), 201)
    assert [match["customer_id"] for match in ok(client.get("/profiles?account.number=A-1"))] == ["c-1"]
    assert import_document(runtime.registry, runtime.keys, document) == {
        "created": [], "unchanged": [("profiles extension", "account"), ("identification key", "acct")]}


def test_a_key_imported_over_existing_profiles_finds_them(make_app):
    client = make_app(extensions={"refresh_seconds": 0}).test_client()
    runtime = runtime_of(client)
    ok(client.post("/profiles", json={"customer_id": "c-1", "PhoneNumber": ["+15550100"]}), 201)
    document = {"format": FORMAT, "identification_keys": [KEYS[0]]}
    import_document(runtime.registry, runtime.keys, document)
    assert [match["customer_id"] for match in ok(client.get("/profiles?PhoneNumber=%2B15550100"))] == ["c-1"]


# --- refusals: nothing written ----------------------------------------------------------------

def with_new_things(document):
    """The document plus a new profile schema and a new key, so a refusal shows they were not written."""
    document["extension_schemas"]["profiles"].append({"name": "loyalty", "type": "single-valued",
                                                      "attributes": [{"name": "tier", "type": "string"}]})
    document["identification_keys"].append({"name": "tier", "source": "loyalty", "attributes": ["tier"]})
    return document


def test_a_key_of_the_same_name_with_another_definition_refuses_the_whole_file(deployment, tmp_path):
    client, config = deployment
    path = tmp_path / "schemas.json"
    before = exported(config, path)
    document = with_new_things(json.loads(path.read_text()))
    document["identification_keys"][0]["unique"] = False
    path.write_text(json.dumps(document))
    code, out, err = command("import", str(path), config=config)
    assert code == 1 and out == ""
    assert "nothing imported: identification key 'phone' exists already with another definition" in err
    assert '"unique": true' in err and "delete it first or rename it in the file" in err
    assert current(client) == before


def test_a_schema_of_the_same_name_with_another_definition_refuses_the_whole_file(deployment, tmp_path):
    client, config = deployment
    path = tmp_path / "schemas.json"
    before = exported(config, path)
    document = with_new_things(json.loads(path.read_text()))
    document["extension_schemas"]["profiles"][0]["attributes"][0]["length"] = 3
    path.write_text(json.dumps(document))
    code, _, err = command("import", str(path), config=config)
    assert code == 1
    assert "profiles extension 'account' is registered already with another definition" in err
    assert current(client) == before


@pytest.mark.parametrize("change", [
    lambda keys: keys[1].update(attributes=["number"]),
    lambda keys: keys[1].update(source="profile", attributes=["Title"]),
    lambda keys: keys[2].update(attributes=["FirstName", "LastName"]),
    lambda keys: keys[0].update(name="PHONE"),              # names ignore case; their spelling is kept
], ids=["fewer-attributes", "other-source", "other-order", "other-spelling"])
def test_every_difference_in_a_key_is_a_conflict(deployment, change):
    client, _ = deployment
    runtime = runtime_of(client)
    before = current(client)
    document = with_new_things(json.loads(json.dumps(before)))
    change(document["identification_keys"])
    with pytest.raises(TransferError, match="exists already with another definition"):
        import_document(runtime.registry, runtime.keys, document)
    assert current(client) == before


@pytest.mark.parametrize("bad_key, reason", [
    ({"name": "k", "source": "nosuch", "attributes": ["a"]}, "identification key 'k': no profile extension named"),
    ({"name": "k", "attributes": ["Nickname"]}, "identification key 'k': not core profile attributes: Nickname"),
    ({"name": "k", "attributes": []}, "identification key 'k': invalid identification key: {'attributes'"),
    ("phone", "identification key None: invalid identification key"),
    (KEYS[2], "identification key 'name' appears twice"),
])
def test_an_invalid_key_refuses_the_schemas_before_it_too(deployment, bad_key, reason):
    client, _ = deployment
    runtime = runtime_of(client)
    before = current(client)
    document = with_new_things(json.loads(json.dumps(before)))
    document["identification_keys"].append(bad_key)
    with pytest.raises(TransferError) as refusal:
        import_document(runtime.registry, runtime.keys, document)
    assert reason in str(refusal.value)
    assert current(client) == before


def test_a_unique_key_over_values_two_customers_share_is_refused(make_app):
    client = make_app(extensions={"refresh_seconds": 0}).test_client()
    runtime = runtime_of(client)
    for customer_id in ("c-1", "c-2"):
        ok(client.post("/profiles", json={"customer_id": customer_id, "PhoneNumber": ["+15550100"]}), 201)
    before = current(client)
    document = with_new_things({"format": FORMAT, "extension_schemas": {"profiles": []},
                                "identification_keys": [KEYS[0]]})
    with pytest.raises(TransferError, match="identification key 'phone': two customers hold the same values"):
        import_document(runtime.registry, runtime.keys, document)
    assert current(client) == before


def test_a_profile_schema_named_like_a_core_attribute_is_refused_as_the_server_would(deployment, tmp_path):
    client, config = deployment
    before = current(client)
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"format": FORMAT, "extension_schemas": {"profiles": [
        {"name": "Nickname", "type": "classifier"}, {"name": "FirstName", "type": "classifier"}]}}))
    code, _, err = command("import", str(path), config=config)
    assert code == 1 and "profiles extension 'FirstName': 'FirstName' is a core field of profiles" in err
    assert current(client) == before


@pytest.mark.parametrize("document, reason", [
    ({"extension_schemas": {}}, "not a schemas file"),
    ({"format": FORMAT, "extension_schemas": {"customers": []}}, "extension_schemas must map"),
    ({"format": FORMAT, "extension_schemas": {"tasks": {}}}, "extension_schemas must map"),
    ({"format": FORMAT, "identification_keys": {"name": "k"}}, "identification_keys must be a list"),
    ({"format": FORMAT, "schemas": []}, "unknown keys: schemas"),
    ({"format": FORMAT, "extension_schemas": {"tasks": [{"name": "x"}]}}, "invalid"),
    ({"format": FORMAT, "extension_schemas": {"tasks": [{"name": "vip", "type": "classifier"}]}},
     "tasks extension 'vip': classifier extensions are for profiles only"),
])
def test_import_refuses_a_malformed_file(make_app, database_url, tmp_path, document, reason):
    client = make_app(extensions={"refresh_seconds": 0}).test_client()
    config = config_file(tmp_path / "cs.ini", database_url)
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document))
    result = run("schemas", "import", "--config", str(config), str(path))
    assert result.exit_code == 1 and reason in result.output and "nothing imported" in result.output
    assert client.get("/metadata/tasks/extensions").get_json() == []


def test_import_of_a_file_that_is_not_json_fails(tmp_path):
    path = tmp_path / "in.json"
    path.write_text("{nope")
    result = run("schemas", "import", "--config", str(config_file(tmp_path / "cs.ini", f"sqlite:///{tmp_path}/cs.db")), str(path))
    assert result.exit_code == 1 and "not JSON" in result.output


def test_export_writes_to_standard_output_and_import_reads_standard_input(deployment, tmp_path):
    _, config = deployment
    result = run("schemas", "export", "--config", str(config))
    assert result.exit_code == 0
    assert f"exported {SCHEMA_COUNT} extension schemas, {len(KEYS)} identification keys" in result.stderr
    document = json.loads(result.stdout)
    assert document["identification_keys"] == KEYS
    result = CliRunner().invoke(main, ["schemas", "import", "--config", str(config), "-"],
                                input=result.stdout, env={"CS_CONFIG": None}, catch_exceptions=False)
    assert result.exit_code == 0 and f"0 created, {SCHEMA_COUNT + len(KEYS)} already there" in result.stderr
