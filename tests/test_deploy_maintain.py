"""deploy/'s systemd service and timer for `context-services maintain`."""
import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.maintain import EXIT_BUSY

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
SERVICE = DEPLOY / "context-services-maintain.service"
TIMER = DEPLOY / "context-services-maintain.timer"


def unit(path):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


def test_the_service_runs_the_maintain_command_once_and_takes_a_busy_lock_as_success():
    service = unit(SERVICE)["Service"]
    assert service["Type"] == "oneshot"
    assert service["ExecStart"].endswith("/context-services maintain")
    assert service["SuccessExitStatus"].split() == [str(EXIT_BUSY)]
    assert service["Environment"].startswith("CS_CONFIG=")


def test_the_timer_starts_the_service_regularly():
    timer = unit(TIMER)
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert TIMER.stem == SERVICE.stem       # a timer starts the service of its own name


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_both_units(tmp_path):
    # The installation path of the command does not exist here: point it at this checkout's.
    command = Path(sys.executable).parent / "context-services"
    (tmp_path / SERVICE.name).write_text(
        SERVICE.read_text().replace("/opt/context-services/.venv/bin/context-services", str(command)))
    shutil.copy(TIMER, tmp_path / TIMER.name)
    checked = subprocess.run(["systemd-analyze", "verify", "--man=false", SERVICE.name, TIMER.name],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr
