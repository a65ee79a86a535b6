"""End-to-end fixtures: the app served on loopback, driven by Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI may not skip the browser tests")
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped")
    # The background-networking flags stop Chromium calling home on a closed network.
    return {
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def csp_violations(context) -> list[str]:
    """Collect what Chromium refused under the Content-Security-Policy, on every page of a context."""
    refused: list[str] = []

    def watch(page):
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    context.on("page", watch)
    return refused


@pytest.fixture
def phone(browser):
    """A phone-sized page (390×844, touch) in a fresh context; a CSP violation fails the test."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    refused = csp_violations(context)
    page = context.new_page()
    yield page
    context.close()
    assert not refused, refused


@pytest.fixture
def phone_no_js(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False)
    refused = csp_violations(context)
    page = context.new_page()
    yield page
    context.close()
    assert not refused, refused


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    refused = csp_violations(context)
    page = context.new_page()
    yield page
    context.close()
    assert not refused, refused
