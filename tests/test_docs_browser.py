"""GET /docs in a real browser: headless Chromium renders every operation of the document.

Needs Debian's chromium (/usr/bin/chromium); .ci/run installs it. The page is served by
gunicorn from this checkout, as in production.
"""
import shutil
import subprocess

import pytest
import requests

from tests.support import running_gunicorn

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Bounds the wait for a browser that hangs; it asserts nothing about speed.
BROWSER_TIMEOUT_S = 120

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="Debian chromium is not installed (apt-get install chromium); "
                                       ".ci/run installs it")


def render(url, tmp_path):
    """The DOM of `url` after its scripts ran, as headless Chromium dumps it."""
    # Virtual time runs until the page is idle (the spec fetched, the UI drawn), however slow the host.
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=30000",
               "--dump-dom", url]
    finished = subprocess.run(command, capture_output=True, timeout=BROWSER_TIMEOUT_S, check=False)
    assert finished.returncode == 0, finished.stderr.decode("utf-8", "replace")[-2000:]
    return finished.stdout.decode("utf-8")


def test_docs_page_renders_every_operation_in_chromium(tmp_path):
    with running_gunicorn({}, workers=1, tmp_path=tmp_path) as base_url:
        document = requests.get(f"{base_url}/openapi.json", timeout=30).json()
        dom = render(f"{base_url}/docs", tmp_path)

    assert 'class="swagger-ui' in dom
    assert "Unable to render this definition" not in dom
    assert 'class="errors-wrapper' not in dom, "Swagger UI reported errors in the document"
    assert "Context Services" in dom
    for path in document["paths"]:
        assert f'data-path="{path}"' in dom, f"{path} is not on the page"
