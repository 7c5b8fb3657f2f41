"""Browser test helpers: the real dashboard in a real Chromium, driven by Playwright for Python.

`DashboardTestCase` is a `ServerTestCase` (a real AMC server on port 0, isolated HOME) plus one
headless Chromium per test class and a fresh browser context and page per test. It records what the
page says and sends, so tests can assert on it: console messages and uncaught page errors (a test
fails when any of level "error" is left at its end, unless the test declared it expected), and every
request (URL, headers, JSON body). Sessions are made the way Claude Code makes them: the recorded
hook payloads of tests/fixtures/claude-code-2.1.329 run through the real bin/amc-hook, with the
recorded transcript installed where Claude keeps it.

Chromium is Debian's package and Playwright is the pinned pip install from tests/support/tools.py
(no browser download); `tools.require` skips these tests locally when either is missing and fails
them under CI=true.
"""
import json
import os
import re
import subprocess
import sys
import time
import uuid
from typing import Any, Dict, List, Optional, Pattern, Tuple

from tests.support import tools
from tests.support.amcproc import end_process_group
from tests.support.helpers import AMC, FIXTURES, ROOT, ServerTestCase, copy_transcript_as_of

ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
CLAUDE_FIXTURES = os.path.join(FIXTURES, "claude-code-2.1.329")
# Flags that make Debian's Chromium start quickly and quietly as root in a container, with no
# network of its own (no component updates, sync, QUIC or first-run pages).
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 5000  # default for expectations: the stream is immediate, polling every 2 s


def load_playwright() -> Any:
    """Import Playwright's sync API from the pinned install (skip or fail when it is missing)."""
    target = tools.require("playwright")
    if target not in sys.path:
        sys.path.insert(0, target)
    import playwright.sync_api
    return playwright.sync_api


def start_chromium() -> Tuple[Any, Any, Any]:
    """Start Playwright and the pinned Chromium; return (playwright api, playwright, browser)."""
    chromium = tools.require("chromium")
    api = load_playwright()
    pw = api.sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
    except Exception:
        pw.stop()
        raise
    return api, pw, browser


def state_modules() -> List[str]:
    """Return the page paths of the dashboard's pure state modules (`/state/*.js`), sorted."""
    folder = os.path.join(ROOT, "dashboard", "state")
    return sorted("/state/" + name for name in os.listdir(folder) if name.endswith(".js"))


# A page function of ([files, args]): imports every state module, merges their exports into `m`
# (a name lives in one module only) and returns `%s` (a function of m and the args) applied.
STATE_CALL = ("async ([files, args]) => { const m = Object.assign({}, "
              "...(await Promise.all(files.map((f) => import(f))))); return (%s)(m, ...args); }")


def hook_payloads(scenario: str) -> List[Dict[str, Any]]:
    """Return a recorded scenario's hook payloads, in order."""
    with open(os.path.join(CLAUDE_FIXTURES, scenario, "hooks.jsonl")) as f:
        return [json.loads(line)["payload"] for line in f if line.strip()]


class DashboardTestCase(ServerTestCase):
    """A real server, a real Chromium page on it, helpers to make sessions and watch the page."""

    viewport = WIDE
    pw: Any = None
    browser: Any = None

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        api, cls.pw, cls.browser = start_chromium()
        # A subclass's setUpClass that fails after this gets no tearDownClass, and a Playwright
        # left running makes every later class fail ("Sync API inside the asyncio loop"):
        # class cleanups run either way.
        cls.addClassCleanup(cls._stop_chromium)
        cls.expect = staticmethod(api.expect)
        api.expect.set_options(timeout=TIMEOUT_MS)

    @classmethod
    def _stop_chromium(cls) -> None:
        browser, pw, cls.browser, cls.pw = cls.browser, cls.pw, None, None
        try:
            if browser is not None:
                browser.close()
        finally:
            if pw is not None:
                pw.stop()

    def setUp(self) -> None:
        super().setUp()
        self.console: List[Any] = []       # every console message (ConsoleMessage)
        self.page_errors: List[str] = []   # uncaught exceptions in the page
        self.requests: List[Any] = []      # every request the page made (Request)
        self.sent_at: List[Tuple[float, Any]] = []  # (time.monotonic(), Request), in order
        self.allowed_errors: List[Pattern[str]] = []
        self.context = self.browser.new_context(viewport=self.viewport, locale="en-US",
                                                timezone_id="UTC")
        self.context.set_default_timeout(TIMEOUT_MS)
        # Cleanups run last-in first-out: check the logs, then screenshot a failure, then close.
        self.addCleanup(self.context.close)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append(m))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("request", self._record_request)
        self.addCleanup(self._screenshot_if_failed)
        self.addCleanup(self._check_no_console_errors)

    # -- the page -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d/" % self.port

    def open_dashboard(self, ready: str = "card", port: Optional[int] = None) -> None:
        """Load the dashboard and wait until it shows state: a card, or ready="empty"/"any"."""
        self.page.goto("http://127.0.0.1:%d/" % (port or self.port))
        selector = {"card": '[data-testid="session-card"]',
                    "empty": '[data-testid="empty-state"]',
                    "any": '[data-testid="session-card"], [data-testid="empty-state"]'}[ready]
        self.expect(self.page.locator(selector).first).to_be_visible()

    def card(self, session_id: str) -> Any:
        """Return the locator of one session's card."""
        return self.page.locator(
            'article[data-testid="session-card"][data-session-id="%s"]' % session_id)

    def cards(self) -> Any:
        return self.page.locator('article[data-testid="session-card"]')

    def card_ids(self) -> List[str]:
        """Return the session ids of the cards on the page, in document order."""
        return self.cards().evaluate_all("els => els.map(e => e.dataset.sessionId)")

    def group(self, status: str) -> Any:
        return self.page.locator('[data-testid="group-%s"]' % status)

    def tid(self, testid: str, within: Any = None) -> Any:
        """Return the locator of `[data-testid=<testid>]` (inside `within` if given)."""
        return (within or self.page).locator('[data-testid="%s"]' % testid)

    def active_session_id(self) -> Optional[str]:
        """Return the data-session-id of the focused element (None when it has none)."""
        return self.page.evaluate("() => document.activeElement && "
                                  "document.activeElement.getAttribute('data-session-id')")

    def screenshot(self, name: str, full_page: bool = True) -> str:
        """Save a PNG of the page as tests/artifacts/<name>.png; return its path."""
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, name + ".png")
        self.page.screenshot(path=path, full_page=full_page)
        return path

    # -- what the page sent ---------------------------------------------------------------------

    def _record_request(self, request: Any) -> None:
        self.requests.append(request)
        self.sent_at.append((time.monotonic(), request))

    def polls(self) -> List[Tuple[float, Any]]:
        """Return (when, Request) of every GET /api/state so far, oldest first."""
        return [(t, r) for t, r in self.sent_at
                if r.method == "GET" and "/api/state" in r.url]

    def streams(self) -> List[Any]:
        """Return every EventSource request the page made to /api/stream, oldest first."""
        return [r for r in self.requests
                if r.resource_type == "eventsource" and "/api/stream" in r.url]

    def gets(self, path_prefix: str) -> List[Any]:
        """Return the GET requests the page sent to URLs starting with `path_prefix` (any port)."""
        return [r for r in self.requests if r.method == "GET"
                and re.match(r"^http://127\.0\.0\.1:\d+" + re.escape(path_prefix), r.url)]

    def connection(self) -> Any:
        """Return the locator of the top bar's connection indicator (data-state = the mode)."""
        return self.page.locator('[data-testid="connection"]')

    def posts(self, path_prefix: str) -> List[Any]:
        """Return the POST requests the page sent to URLs starting with `path_prefix`."""
        base = self.url.rstrip("/")
        return [r for r in self.requests
                if r.method == "POST" and r.url.startswith(base + path_prefix)]

    def question_id(self, session_id: str) -> Dict[str, str]:
        """Return `{"questionId": ...}` as the page adds it to an answer to the session's
        pending question (its `attention.tool_use_id`), or {} when it has none."""
        for s in self.get_json("/api/state")["sessions"]:
            if s["session_id"] == session_id:
                found = (s.get("attention") or {}).get("tool_use_id")
                return {"questionId": found} if found else {}
        return {}

    def assert_api_post(self, request: Any, path: str, body: Any = None) -> None:
        """Assert one POST went to `path` with the page's token (and, given, exactly `body`)."""
        self.assertEqual(request.url, self.url.rstrip("/") + path)
        self.assertEqual(request.method, "POST")
        self.assertEqual(request.headers.get("x-amc-token"), self.token)
        if body is not None:
            self.assertEqual(request.post_data_json, body)

    def wait_until(self, predicate: Any, message: str, timeout: float = 10.0) -> None:
        """Wait until `predicate()` is true (Playwright's events keep arriving meanwhile); else fail."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail(message)
            self.page.wait_for_timeout(100)

    # -- console hygiene ------------------------------------------------------------------------

    def allow_console_error(self, pattern: str) -> None:
        """Declare a console error this test causes on purpose (e.g. the browser logging a 501)."""
        self.allowed_errors.append(re.compile(pattern))

    def console_errors(self) -> List[str]:
        """Return the console errors and page errors not declared expected."""
        errors = ["pageerror: " + e for e in self.page_errors]
        for m in self.console:
            if m.type == "error" and not any(p.search(m.text) for p in self.allowed_errors):
                errors.append("console.error: %s (%s)" % (m.text, m.location.get("url", "")))
        return errors

    def _check_no_console_errors(self) -> None:
        self.assertEqual(self.console_errors(), [], "the page logged errors")

    def _failed(self) -> bool:
        """Tell whether this test has failed so far (unittest keeps that private; 3.9 to 3.13)."""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if any(exc is not None for _, exc in getattr(outcome, "errors", [])):  # before 3.11
            return True
        result = getattr(outcome, "result", None)
        reported = getattr(result, "failures", []) + getattr(result, "errors", [])
        return any(test is self for test, _ in reported)

    def _screenshot_if_failed(self) -> None:
        if self._failed():
            try:
                self.screenshot("FAILED-%s" % self._testMethodName)
            except Exception as e:  # a dead page must not hide the real failure
                print("could not save a screenshot: %s" % e, file=sys.stderr)

    # -- sessions -------------------------------------------------------------------------------

    def feed(self, scenario: str, upto: Optional[int] = None, project: str = "demo-proj",
             session_id: Optional[str] = None, pane: str = "%3",
             transcript: Optional[str] = None, start: int = 0,
             whole_transcript: bool = False) -> str:
        """Replay a recorded scenario's hook payloads [start:upto] through bin/amc-hook.

        The transcript (the scenario's own, or the file `transcript`) is copied to where Claude
        keeps it, `$CLAUDE_CONFIG_DIR/projects/-home-dev-work-<project>/<id>.jsonl`, and every
        payload is rewritten to that path, to cwd /home/dev/work/<project> and, given
        `session_id`, to that id (so one recording can make several sessions). Return the id.
        The scenario's transcript holds what the CLI had written by payload `upto` (a question
        not yet answered has no answer in it), or the whole recording with `whole_transcript`;
        a `transcript` of the test's own is copied whole.
        """
        payloads = hook_payloads(scenario)
        sid = session_id or payloads[0]["session_id"]
        folder = os.path.join(self.paths.claude_projects, "-home-dev-work-" + project)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, sid + ".jsonl")
        copy_transcript_as_of(transcript or os.path.join(CLAUDE_FIXTURES, scenario,
                                                         "transcript.jsonl"), path, payloads,
                              None if whole_transcript or transcript else upto)
        env = {"TMUX": "/tmp/tmux-0/default,1,0", "TMUX_PANE": pane}
        for p in payloads[start:upto]:
            p = dict(p, session_id=sid, transcript_path=path, cwd="/home/dev/work/" + project)
            proc = self.run_hook(p, env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
        return sid

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    def serve_process(self, port: int = 0, host: str = "127.0.0.1") -> Tuple[subprocess.Popen, int]:
        """Run `bin/amc serve --host <host> --port <port>` on this test's HOME as a child; return
        it and its port (reachable on 127.0.0.1 either way).

        The in-thread server cannot play "the server went away": its handler threads keep
        answering on the page's keep-alive connection after shutdown(). A process can be killed.
        """
        proc = subprocess.Popen([sys.executable, AMC, "serve", "--host", host, "--port", str(port)],
                                env=self.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(self.kill_process, proc)
        line = proc.stdout.readline().decode("utf-8", "replace")  # "AMC serving on http://..."
        found = re.search(r"http://[^/\s]+:(\d+)/", line)
        if not found:
            self.fail("`amc serve --port %d` did not print its URL: %r" % (port, line))
        return proc, int(found.group(1))

    @staticmethod
    def kill_process(proc: subprocess.Popen) -> None:
        """End a child started by serve_process (its process group), if still running."""
        end_process_group(proc)
