"""Browser tests of the staff admin: Playwright drives Debian's Chromium (`/usr/bin/chromium`,
installed from the system packages by `.ci/run`, never a browser download) against
pytest-django's live server, on a laptop-sized window (1366x768).

Playwright's sync API keeps an event loop running in the test thread, and Django refuses ORM calls
from a thread with a running loop (SynchronousOnlyOperation). The test code here is plain
synchronous code that only waits on the browser, so `DJANGO_ALLOW_ASYNC_UNSAFE` is set for as long
as this package's browser is open, and for no other test.

The live server needs a transactional database, emptied after each test. On PostgreSQL a test
session may empty the append-only journal (tests/conftest.py); on SQLite its triggers refuse the
DELETE, so these tests are marked `postgres`.

Screenshots go to `var/test-output/screenshots/<name>.png`; a failing test leaves a Playwright
trace in `var/test-output/traces/<test>.zip` (open it with `playwright show-trace`)."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.helpers import seed_registry

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 768}
OUTPUT = Path(settings.BASE_DIR) / "var" / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
TRACES = OUTPUT / "traces"
DEMO_PASSWORD = "guild-ledger-demo"
# The live server shares one machine with the rest of the suite: allow slow pages.
TIMEOUT_MS = 20_000


def _chromium_or_skip():
    if CHROMIUM.exists():
        return
    reason = (
        f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's "
        "`chromium` package (`apt-get install chromium chromium-driver`; .ci/run installs it)."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    print(f"\n{reason} Skipping the browser tests.")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def chromium():
    """One headless Chromium for the package; closed (and its event loop stopped) before any
    test outside the package runs."""
    if connection.vendor != "postgresql":
        pytest.fail(
            "The browser tests need the PostgreSQL test database (DATABASE_URL): on SQLite the "
            "live server's database cannot be emptied after a test.",
            pytrace=False,
        )
    _chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test, so that the page fixture knows whether it failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(chromium, live_server, request):
    """A fresh browser context (no cookies) on the live server, laptop-sized, traced."""
    context = chromium.new_context(viewport=LAPTOP, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.tracing.start(screenshots=True, snapshots=True, sources=False)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    trace = TRACES / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".zip")
    if report is not None and report.failed:
        TRACES.mkdir(parents=True, exist_ok=True)
        context.tracing.stop(path=str(trace))
    else:
        context.tracing.stop()
        trace.unlink(missing_ok=True)  # an earlier failure's trace would mislead
    context.close()


@pytest.fixture
def registry(transactional_db, settings, tmp_path):
    """The guilds and agreements that migrations seed, seeded again: an earlier transactional
    test emptied every table (the migration's own, idempotent, function). Uploads go to a
    temporary media folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    seed_registry()


@pytest.fixture
def demo(registry):
    """The `make run` demo: studios, productions, people, consents, uses, runs, reports and the
    demo logins (password `guild-ledger-demo`)."""
    with open(os.devnull, "w") as quiet:
        call_command("demo", stdout=quiet)


def screenshot(page, name: str) -> Path:
    """The whole page, saved as var/test-output/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, username: str, password: str = DEMO_PASSWORD):
    """Sign in to the admin with the keyboard alone: the username field has the focus when the
    page opens, Tab moves to the password, Enter submits."""
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").wait_for()
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def no_horizontal_scroll(page) -> bool:
    """The page fits the window's width (nothing hidden off to the right on a laptop)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# For each word of the matched elements' text: the tops of the lines it is drawn on. A word drawn
# on two lines was broken in the middle (a column too narrow for it).
_BROKEN_WORDS = """cells => cells.flatMap(cell => {
  const broken = [];
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map(rect => Math.round(rect.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
})"""


def broken_words(page, selector: str) -> list[str]:
    """The words of the elements matching `selector` that wrap in the middle of the word."""
    return page.locator(selector).evaluate_all(_BROKEN_WORDS)
