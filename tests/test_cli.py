"""The context-services commands: check-config, schemas export|import, backup (SPEC §14)."""
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from app.cli import main
from tests.support import REPO, render_ini, running_gunicorn
from tests.vendor import EXTENSION_SCHEMAS

# The entry point of setup.cfg, as installed beside this Python.
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "context-services")


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {"CS_CONFIG": None}, catch_exceptions=False)


def write_config(tmp_path, sections):
    path = tmp_path / "cs.ini"
    path.write_text(render_ini(sections))
    return path


# --- check-config ----------------------------------------------------------------------------

def test_check_config_prints_the_settings_in_force_with_the_password_hidden(tmp_path):
    path = write_config(tmp_path, {"database": {"url": "mysql://cs:s3cret@db.example:3306/cs"},
                                   "api": {"base_path": "/genesys/1/cs"},
                                   "attribute:MediaType": {"voice": "1, Voice"},
                                   "business-attributes": {"Service.media_type": "MediaType"}})
    result = run("check-config", str(path))
    assert result.exit_code == 0, result.output
    assert "url = mysql://cs:***@db.example:3306/cs" in result.output
    assert "s3cret" not in result.output
    assert "base_path = /genesys/1/cs" in result.output
    assert "max_list = 1000" in result.output            # defaults are shown too
    assert "[attribute:MediaType]\nvoice = 1, Voice" in result.output
    assert "Service.media_type = MediaType" in result.output


def test_check_config_reads_cs_config_when_no_file_is_named(tmp_path):
    path = write_config(tmp_path, {"api": {"max_list": "7"}})
    result = CliRunner().invoke(main, ["check-config"], env={"CS_CONFIG": str(path)})
    assert result.exit_code == 0 and "max_list = 7" in result.output


@pytest.mark.parametrize("text, named", [
    ("[api]\nmax_list = many\n", "[api] max_list = 'many': expected an integer"),
    ("[api]\nmax_lst = 5\n", "[api] max_lst: unknown option"),
    ("[nope]\n", "[nope]: unknown section"),
    ("max_list = 5\n", "line 1: an option before any [section]"),
])
def test_check_config_names_the_file_section_and_option_of_a_fault(tmp_path, text, named):
    path = tmp_path / "bad.ini"
    path.write_text(text)
    result = run("check-config", str(path))
    assert result.exit_code == 1
    assert f"{path}: " in result.output and named in result.output


def test_check_config_of_a_missing_file_fails(tmp_path):
    result = run("check-config", str(tmp_path / "absent.ini"))
    assert result.exit_code == 1 and "cannot read" in result.output


# --- schemas export / import -----------------------------------------------------------------

@pytest.fixture
def registered(make_app, database_url, tmp_path):
    """An app on this test's database with the vendor's three schemas and a state one; its config file."""
    client = make_app().test_client()
    for schema in EXTENSION_SCHEMAS:
        assert client.post("/metadata/services/extensions", json=schema).status_code == 201
    composite = {"name": "Visit", "type": "multi-valued", "unique": [["site", "day"]],
                 "attributes": [{"name": "site", "type": "string", "length": 10},
                                {"name": "day", "type": "integer", "mandatory": True}]}
    assert client.post("/metadata/states/extensions", json=composite).status_code == 201
    return client, write_config(tmp_path, {"database": {"url": database_url}})


def listed(client):
    return {kind: client.get(f"/metadata/{kind}/extensions").get_json() for kind in ("services", "states", "tasks")}


def test_export_then_import_into_an_empty_database_reproduces_the_schemas(registered, tmp_path):
    client, config = registered
    before = listed(client)
    exported = tmp_path / "schemas.json"
    result = run("schemas", "export", "--config", str(config), str(exported))
    assert result.exit_code == 0, result.output
    document = json.loads(exported.read_text())
    assert set(document) == {"format", "extension_schemas", "identification_keys"}
    assert [s["name"] for s in document["extension_schemas"]["services"]] == [s["name"] for s in EXTENSION_SCHEMAS]
    for kind, schemas in before.items():
        for schema in schemas:
            assert client.delete(f"/metadata/{kind}/extensions/{schema['name']}").status_code == 204
    result = run("schemas", "import", "--config", str(config), str(exported))
    assert result.exit_code == 0, result.output
    assert "created states extension Visit" in result.output
    assert listed(client) == before


def test_import_is_idempotent(registered, tmp_path):
    client, config = registered
    exported = tmp_path / "schemas.json"
    run("schemas", "export", "--config", str(config), str(exported))
    result = run("schemas", "import", "--config", str(config), str(exported))
    assert result.exit_code == 0, result.output
    assert "0 created, 4 already there" in result.output


def test_import_refuses_a_conflict_and_writes_nothing(registered, tmp_path):
    client, config = registered
    exported = tmp_path / "schemas.json"
    run("schemas", "export", "--config", str(config), str(exported))
    document = json.loads(exported.read_text())
    document["extension_schemas"]["services"][0]["attributes"][0]["length"] = 3
    document["extension_schemas"]["tasks"].append({"name": "Fresh", "type": "single-valued",
                                                   "attributes": [{"name": "a", "type": "string"}]})
    exported.write_text(json.dumps(document))
    result = run("schemas", "import", "--config", str(config), str(exported))
    assert result.exit_code == 1
    assert "nothing imported" in result.output and "registered already with another definition" in result.output
    assert client.get("/metadata/tasks/extensions").get_json() == []


@pytest.mark.parametrize("document, reason", [
    ({"extension_schemas": {}}, "not a schemas file"),
    ({"format": "context-services/schemas-1", "extension_schemas": {"profiles": []}}, "extension_schemas must map"),
    ({"format": "context-services/schemas-1", "identification_keys": [{"name": "k"}]}, "no customer profiles"),
    ({"format": "context-services/schemas-1", "extension_schemas": {"tasks": [{"name": "x"}]}}, "invalid"),
])
def test_import_refuses_a_malformed_file(make_app, database_url, tmp_path, document, reason):
    client = make_app().test_client()
    config = write_config(tmp_path, {"database": {"url": database_url}})
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document))
    result = run("schemas", "import", "--config", str(config), str(path))
    assert result.exit_code == 1 and reason in result.output
    assert client.get("/metadata/tasks/extensions").get_json() == []


def test_import_of_a_file_that_is_not_json_fails(tmp_path):
    path = tmp_path / "in.json"
    path.write_text("{nope")
    result = run("schemas", "import", "--config", str(write_config(tmp_path, {})), str(path))
    assert result.exit_code == 1 and "not JSON" in result.output


# --- backup --------------------------------------------------------------------------------------

def test_backup_refuses_mysql_and_points_at_mariadb_backup(tmp_path):
    config = write_config(tmp_path, {"database": {"url": "mysql://root@127.0.0.1:3306/cs"}})
    result = run("backup", "--config", str(config), str(tmp_path / "copy.db"))
    assert result.exit_code == 1 and "mariadb-backup" in result.output
    assert not (tmp_path / "copy.db").exists()


def test_backup_refuses_to_overwrite_and_a_missing_database(tmp_path):
    config = write_config(tmp_path, {"database": {"url": f"sqlite:///{tmp_path}/absent.db"}})
    result = run("backup", "--config", str(config), str(tmp_path / "copy.db"))
    assert result.exit_code == 1 and "no database file" in result.output
    (tmp_path / "taken.db").write_text("keep me")
    result = run("backup", "--config", str(config), str(tmp_path / "taken.db"))
    assert result.exit_code == 1 and "exists already" in result.output
    assert (tmp_path / "taken.db").read_text() == "keep me"


def test_backup_under_a_write_load_is_whole_and_holds_every_answered_start(tmp_path):
    with running_gunicorn({}, workers=2, tmp_path=tmp_path) as base_url:
        answered, stop = [], threading.Event()

        def load():
            with requests.Session() as session:
                while not stop.is_set():
                    response = session.post(base_url + "/services/start", json={"contact_key": "k",
                                                                                "service_type": 1}, timeout=30)
                    assert response.status_code == 201
                    answered.append(response.json()["service_id"])

        writers = [threading.Thread(target=load) for _ in range(3)]
        for writer in writers:
            writer.start()
        while len(answered) < 50:
            threading.Event().wait(0.05)
        before_backup = list(answered)
        copy = tmp_path / "copy.db"
        finished = subprocess.run([CONSOLE_SCRIPT, "backup", str(copy)], cwd=REPO,
                                  env=cli_env(tmp_path), capture_output=True, text=True, timeout=120)
        during = len(answered)
        stop.set()
        for writer in writers:
            writer.join()
    assert finished.returncode == 0, finished.stderr
    assert len(answered) > during or during > len(before_backup)      # the load went on around the copy
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        held = {row[0] for row in db.execute("SELECT id FROM service")}
    assert set(before_backup) <= held


def cli_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env["CS_CONFIG"] = str(tmp_path / "cs.ini")
    return env
