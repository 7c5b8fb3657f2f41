#!/usr/bin/env python3
"""Benchmark: the Activity feed (core/activity.py) and the Activity view under a burst.

Method (docs/performance.md), each part against a baseline measured in the same run:
1. Start-up backlog: a Claude history.jsonl of HISTORY (default 50,000) prompts, 16 MB, as the
   real CLI writes them, plus LOGS (default 2,000) hook event logs of 20 events each whose
   mtimes spread over the last 30 days. `Activity.load()` (the newest 1000, read from the files'
   ends) against the naive way (every file read and parsed whole, sorted, the last 1000 kept);
   median of 5 runs each, and the bytes each read.
2. One hook event: the time `Activity.changed([path])` takes for one appended line of a session
   log of 1,000 lines (it reads the new bytes only), against re-reading that whole log; median of
   200.
3. Memory: 1,000 events whose payloads carry 60 KB of tool output (what a Bash call with a long
   output leaves), as the feed keeps them (raw cut to ~16 KB) against the raw records kept whole
   (tracemalloc, after a gc).
4. The page: `bin/amc serve` as a process, the real dashboard in Chromium with the Activity view
   open; a click on a row (toggle -> next frame) measured CLICKS times while idle (the baseline)
   and during bursts of 500 hook records appended to a session's log in about one second (as the
   hooks of a busy agent would), BURSTS times; also the longest gap between animation frames and
   the number of commits of the list during a burst. Target: click p95 < 100 ms during a burst.
"""
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

from amc_server import jsonl
from amc_server import model, store  # noqa: E402
from amc_server.core.live import Core  # noqa: E402
from amc_server.paths import get_paths  # noqa: E402
from tests.support import tools  # noqa: E402

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def hook_line(sid, i, extra=""):
    return {"received_at": model.now_iso(), "agent": "claude", "event": "PreToolUse", "pane": {},
            "payload": {"session_id": sid, "hook_event_name": "PreToolUse", "tool_name": "Bash",
                        "cwd": "/home/dev/work/bench-proj",
                        "tool_input": {"command": "echo event %d" % i}, "out": extra}}


def make_files(paths, history, logs):
    os.makedirs(paths.claude_dir, exist_ok=True)
    first = int((time.time() - history - 60) * 1000)
    with open(paths.claude_history, "wb") as f:
        for i in range(history):
            f.write(json.dumps({"display": "prompt %d %s" % (i, "w" * 150), "pastedContents": {},
                                "timestamp": first + i * 1000, "project": "/home/dev/work/p%d"
                                % (i % 40), "sessionId": b.session_id(i % 500)}).encode() + b"\n")
    store.ensure_dir(paths.events)
    now = time.time()
    for n in range(logs):
        path = paths.events_file(b.session_id(n))
        with open(path, "w") as f:
            for i in range(20):
                line = hook_line(b.session_id(n), i)
                line["received_at"] = model.now_iso(now - 86400 * 30 * n / logs - 20 + i)
                f.write(json.dumps(line) + "\n")
        stamp = now - 86400 * 30 * n / logs
        os.utime(path, (stamp, stamp))


def naive_backlog(paths):
    """The baseline: read and parse every file whole, keep the newest 1000."""
    found = []
    files = [paths.claude_history] + [os.path.join(paths.events, n)
                                      for n in os.listdir(paths.events)]
    size = 0
    for path in files:
        size += os.path.getsize(path)
        for rec in jsonl.read_objects(path):
            ts = rec.get("received_at") or model.now_iso(rec.get("timestamp", 0) / 1000.0)
            found.append((ts, rec))
    found.sort(key=lambda x: x[0])
    return found[-1000:], size


def part_backlog(paths):
    loads, naive = [], []
    read = 0
    for _ in range(5):
        core = Core(paths)
        t0 = time.perf_counter()
        core.activity.load()
        loads.append(time.perf_counter() - t0)
        read = core.activity.stats["backlog_bytes"]
        files = core.activity.stats["backlog_files"]
        t0 = time.perf_counter()
        kept, size = naive_backlog(paths)
        naive.append(time.perf_counter() - t0)
        assert len(kept) == 1000 and len(core.activity.recent(1000)) == 1000
    print("1. backlog at start: feed %s ms (median of 5), read %d KB of %d files; naive %s ms, "
          "read %d KB of %d files: %.0fx faster, %.0fx fewer bytes" % (
              b.ms(statistics.median(loads)), read // 1024, files, b.ms(statistics.median(naive)),
              size // 1024, len(os.listdir(paths.events)) + 1,
              statistics.median(naive) / statistics.median(loads), size / max(1, read)))


def part_event(paths):
    core = Core(paths)
    core.activity.load()
    sid = "bench-tail"
    path = paths.events_file(sid)
    with open(path, "w") as f:
        for i in range(1000):
            f.write(json.dumps(hook_line(sid, i, "x" * 1500)) + "\n")
    core.activity.changed([path])
    tail, whole = [], []
    for i in range(200):
        with store.SessionLog(path) as log:
            log.append(hook_line(sid, i, "x" * 1500))
        t0 = time.perf_counter()
        core.activity.changed([path])
        tail.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        jsonl.read_objects(path)
        whole.append(time.perf_counter() - t0)
    print("2. one hook event (a 2 KB line appended to a log of %d lines): feed %.0f us median, "
          "p95 %.0f us; re-reading the log %.0f us: %.0fx" % (
              1000 + 200, statistics.median(tail) * 1e6, b.pct(tail, 95) * 1e6,
              statistics.median(whole) * 1e6, statistics.median(whole) / statistics.median(tail)))


def part_memory(paths):
    store.ensure_dir(paths.events)
    path = paths.events_file("bench-mem")
    with open(path, "w") as f:
        for i in range(1000):
            line = hook_line("bench-mem", i)
            line["event"] = "PostToolUse"
            line["payload"]["tool_response"] = {"stdout": "o" * 60000, "stderr": ""}
            f.write(json.dumps(line) + "\n")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    core = Core(paths)
    core.activity.changed([path])
    assert len(core.activity.recent(1000)) == 1000
    gc.collect()
    feed = tracemalloc.get_traced_memory()[0] - before
    del core
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    kept = jsonl.read_objects(path)
    gc.collect()
    whole = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    print("3. memory of 1,000 events with 60 KB payloads: feed %.1f MB; the records kept whole "
          "%.1f MB: %.1fx less" % (feed / 1e6, whole / 1e6, whole / max(1, feed)))


CLICK = """() => new Promise((done) => {
  const rows = document.querySelectorAll('[data-testid="activity-row"] summary');
  const row = rows[Math.min(rows.length - 1, 2)];
  const start = performance.now();
  row.parentElement.addEventListener('toggle', () => requestAnimationFrame(() =>
    done(performance.now() - start)), { once: true });
  row.click();
})"""
WATCH = """() => {
  const list = document.querySelector('[data-testid="activity-list"]');
  window.__commits = 0; window.__maxGap = 0; window.__long = 0; window.__stop = false;
  if (window.__obs) window.__obs.disconnect();
  window.__obs = new MutationObserver(() => { window.__commits += 1; });
  window.__obs.observe(list, { childList: true });
  let last = performance.now();
  const tick = (t) => {
    const gap = t - last; last = t;
    window.__maxGap = Math.max(window.__maxGap, gap); if (gap > 50) window.__long += 1;
    if (!window.__stop) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def burst(paths, sid, count, start):
    for i in range(count):
        with store.SessionLog(paths.events_file(sid)) as log:
            log.append(hook_line(sid, start + i))
        if i % 25 == 24:
            time.sleep(0.05)


def part_page(home, env, paths):
    found = tools.ensure_all(verbose=False)
    if not found.get("playwright") or not found.get("chromium"):
        print("4. skipped: needs Playwright and Chromium (tests/support/tools.py)")
        return
    if found["playwright"] not in sys.path:
        sys.path.insert(0, found["playwright"])
    import playwright.sync_api as api
    clicks, bursts = b.env_int("CLICKS", 30), b.env_int("BURSTS", 5)
    server = b.AmcProcess(env)
    server.start()
    pw = api.sync_playwright().start()
    browser = pw.chromium.launch(executable_path=found["chromium"], headless=True,
                                 args=CHROMIUM_ARGS)
    sid = "bench-burst"
    try:
        burst(paths, sid, 20, 0)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto("http://127.0.0.1:%d/" % server.port)
        page.locator('button[data-testid="open-activity"]').click()
        page.wait_for_selector('[data-testid="activity-row"]')
        time.sleep(0.5)
        idle = [page.evaluate(CLICK) for _ in range(clicks)]
        during, gaps, commits, longs = [], [], [], []
        written = 20
        for _ in range(bursts):
            page.evaluate(WATCH)
            t = threading.Thread(target=burst, args=(paths, sid, 500, written), daemon=True)
            t.start()
            while t.is_alive():
                during.append(page.evaluate(CLICK))
                time.sleep(0.03)
            t.join()
            written += 500
            page.wait_for_function("(n) => Number(document.querySelector("
                                   "'[data-testid=\"activity-count\"]').dataset.count) >= n",
                                   arg=min(1000, written), timeout=30000)
            time.sleep(0.3)
            stats = page.evaluate("() => { window.__stop = true; return [window.__maxGap, "
                                  "window.__commits, window.__long]; }")
            gaps.append(stats[0])
            commits.append(stats[1])
            longs.append(stats[2])
        print("4. click on a row -> next frame (ms): idle p50 %.1f p95 %.1f (%d clicks); during "
              "bursts of 500 events p50 %.1f p95 %.1f max %.1f (%d clicks, %d bursts)" % (
                  statistics.median(idle), b.pct(idle, 95), len(idle), statistics.median(during),
                  b.pct(during, 95), max(during), len(during), bursts))
        print("   per burst: longest frame gap %.0f ms (median %.0f), frames over 50 ms %s, "
              "list commits %s (for 500 events)" % (max(gaps), statistics.median(gaps),
                                                      longs, commits))
    finally:
        browser.close()
        pw.stop()
        server.stop()


def main():
    print("bench_activity  %s  %s" % (time.strftime("%Y-%m-%d %H:%M"), b.machine()))
    home = tempfile.mkdtemp(prefix="amc-bench-")
    env = b.bench_env(home)
    paths = get_paths(env)
    try:
        make_files(paths, b.env_int("HISTORY", 50000), b.env_int("LOGS", 2000))
        part_backlog(paths)
        part_event(paths)
        part_memory(paths)
        part_page(home, env, paths)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print("targets: backlog < 250 ms; a hook event < 1 ms; click p95 < 100 ms during a burst")


if __name__ == "__main__":
    main()
