"""The context-services commands: check-config and backup (SPEC §14); schemas export|import are in
test_schemas_command.py."""
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
