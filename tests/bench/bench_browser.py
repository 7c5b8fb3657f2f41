#!/usr/bin/env python3
"""Benchmark: a hook fires -> the session's card changes in a real Chromium.

Method (docs/performance.md): hook-made sessions (benchlib.make_sessions) and `bin/amc serve
--port 0` as a child process; the real dashboard in Debian's Chromium driven by the pinned
Playwright (tests/support/tools.py, as tests/support/browser.py does). For each size in SIZES
(default 100,1000,5000) the page is loaded and, RUNS (default 20) times, a MutationObserver is armed
in the page for one card (`article[data-testid="session-card"][data-session-id=...]`) whose preview
must show a new prompt; then a real `bin/amc-hook` process gets that UserPromptSubmit. The time
is from just before the process starts to the observer seeing the text (the page's
`performance.timeOrigin + performance.now()`, put on this process's clock by an offset measured
just before each run), and to the next animation frame after it (about when it is painted).
Also printed: the hook process's own time (to its exit), when the `session` event reached the
page's JavaScript (a spy EventSource subclass installed before the page's scripts, whose
listener runs first) and how the page gets its changes (EventSource on /api/stream, or polling).
PROFILE=1 then samples the page's JavaScript with the CDP Profiler over 10 more changes at the
largest size and prints the functions with the most self time. Target: p95 < 250 ms.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

from tests.support import tools  # noqa: E402

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Before the page's own scripts: an EventSource whose first listener notes when the event that
# carries the armed text reaches the page (so page time = DOM change - arrival).
SPY = """(() => {
  const Native = window.EventSource;
  if (!Native) return;
  window.EventSource = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("session", (e) => {
        if (window.__text && !window.__arrive && e.data.includes(window.__text))
          window.__arrive = performance.timeOrigin + performance.now();
      });
    }
  };
})();"""
ARM = """([sel, text]) => {
  window.__hit = 0; window.__paint = 0; window.__arrive = 0; window.__text = text;
  const check = () => {
    const el = document.querySelector(sel);
    if (!el || !el.textContent.includes(text)) return;
    window.__hit = performance.timeOrigin + performance.now();
    obs.disconnect();
    requestAnimationFrame(() => { window.__paint = performance.timeOrigin + performance.now(); });
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def load_playwright():
    found = tools.ensure_all(verbose=False)
    if not found.get("playwright") or not found.get("chromium"):
        sys.exit("bench_browser: needs Playwright (tests/support/tools.py) and Chromium "
                 "(/usr/bin/chromium)")
    if found["playwright"] not in sys.path:
        sys.path.insert(0, found["playwright"])
    import playwright.sync_api
    return playwright.sync_api, found["chromium"]


def clock_offset(page):
    """Return the page clock (ms since the epoch) minus ours, measured around one evaluate."""
    t0 = time.time()
    now = page.evaluate("() => performance.timeOrigin + performance.now()")
    t1 = time.time()
    return now - (t0 + t1) / 2 * 1e3


def measure(page, home, env, n, runs):
    lat, paint, exits, arrive = [], [], [], []
    for k in range(runs):
        i = (k * 997 + 13) % n
        sid = b.session_id(i)
        text = "browser prompt %d %s" % (k, uuid.uuid4().hex[:8])
        sel = 'article[data-testid="session-card"][data-session-id="%s"] [data-testid="preview"]' \
            % sid
        page.evaluate(ARM, [sel, text])
        offset = clock_offset(page)
        data = json.dumps(b.prompt_payload(i, home, text)).encode()
        exited = []
        t0 = time.time()
        proc = subprocess.Popen(b.HOOK_CMD, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, env=b.hook_env(env, i))
        waiter = threading.Thread(target=lambda: (proc.communicate(data),
                                                  exited.append(time.time())))
        waiter.start()
        page.wait_for_function("() => window.__paint > 0", timeout=20000)
        hit, painted, arrived = page.evaluate("() => [window.__hit, window.__paint, "
                                              "window.__arrive]")
        waiter.join()
        if arrived:
            arrive.append((arrived - offset) / 1e3 - t0)
        lat.append((hit - offset) / 1e3 - t0)
        paint.append((painted - offset) / 1e3 - t0)
        exits.append(exited[0] - t0)
        time.sleep(0.2)
    return lat, paint, exits, arrive


def js_profile(context, page, home, env, n, runs):
    """Sample the page's JavaScript (CDP Profiler) over `runs` changes; print the top self times."""
    cdp = context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    cdp.send("Profiler.start")
    measure(page, home, env, n, runs)
    profile = cdp.send("Profiler.stop")["profile"]
    nodes = {node["id"]: node for node in profile["nodes"]}
    self_us = {}
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"]):
        self_us[node_id] = self_us.get(node_id, 0) + delta
    by_fn = {}
    for node_id, us in self_us.items():
        frame = nodes[node_id]["callFrame"]
        key = "%s %s:%d" % (frame["functionName"] or "(anonymous)",
                            frame["url"].rsplit("/", 1)[-1], frame["lineNumber"] + 1)
        by_fn[key] = by_fn.get(key, 0) + us
    busy = sum(us for key, us in by_fn.items() if not key.startswith(("(idle)", "(program)")))
    print("\n-- JS profile, %d sessions, %d changes: %.0f ms of script (%.1f ms per change); "
          "top self times:" % (n, runs, busy / 1e3, busy / 1e3 / runs))
    for key, us in sorted(by_fn.items(), key=lambda kv: -kv[1])[:15]:
        print("  %8.1f ms  %s" % (us / 1e3, key))


def main():
    sizes = [int(x) for x in os.environ.get("SIZES", "100,1000,5000").split(",")]
    runs = b.env_int("RUNS", 20)
    api, chromium = load_playwright()
    print("bench_browser  %s  %s" % (time.strftime("%Y-%m-%d %H:%M"), b.machine()))
    home = tempfile.mkdtemp(prefix="amc-bench-")
    env = b.bench_env(home)
    pw = api.sync_playwright().start()
    browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
    print("chromium %s; RUNS=%d per size; times from just before the hook process starts"
          % (browser.version, runs))
    print("%6s %8s | %9s %9s %9s | %9s %9s | %9s %9s | %s" % (
        "sess", "load s", "dom p50", "dom p95", "dom max", "frame p50", "frame p95",
        "hook exit", "in page", "transport"))
    made = 0
    server = None
    try:
        for n in sizes:
            b.make_sessions(home, env, made, n)
            made = n
            os.sync()
            if server is not None:
                server.stop()
            server = b.AmcProcess(env)
            server.start()
            context = browser.new_context(viewport={"width": 1280, "height": 800},
                                          locale="en-US", timezone_id="UTC")
            context.add_init_script(SPY)
            page = context.new_page()
            urls = []
            page.on("request", lambda r: urls.append(r.url))
            t0 = time.perf_counter()
            page.goto("http://127.0.0.1:%d/" % server.port)
            page.wait_for_function(
                "(n) => document.querySelectorAll('article[data-testid=\"session-card\"]')"
                ".length === n", arg=n, timeout=120000)
            load = time.perf_counter() - t0
            time.sleep(1.0)
            lat, paint, exits, arrive = measure(page, home, env, n, runs)
            stream = any("/api/stream" in u for u in urls)
            polls = sum("/api/state" in u for u in urls)
            transport = "EventSource /api/stream" if stream else "polling /api/state (%d)" % polls
            print("%6d %8.2f | %9s %9s %9s | %9s %9s | %9s %9s | %s" % (
                n, load, b.ms(b.median(lat)), b.ms(b.pct(lat, 95)), b.ms(max(lat)),
                b.ms(b.median(paint)), b.ms(b.pct(paint, 95)), b.ms(b.median(exits)),
                b.ms(b.median(arrive)) if arrive else "-", transport), flush=True)
            if os.environ.get("PROFILE") and n == sizes[-1]:
                js_profile(context, page, home, env, n, min(runs, 10))
            context.close()
    finally:
        if server is not None:
            server.stop()
        browser.close()
        pw.stop()
        shutil.rmtree(home, ignore_errors=True)
    print("target: dom p95 < 250 ms")


if __name__ == "__main__":
    main()
