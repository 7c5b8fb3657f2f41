#!/usr/bin/env python3
"""Benchmark: the first start with thousands of sessions of history, the live path during the
background build, and the quiet server afterwards.

Method (docs/performance.md, "First start and at rest"):
1. Data, shaped like a heavy user's: SESSIONS (default 5000) hook-made sessions
   (benchlib.make_sessions: the recorded 2.1.329 payloads through `hook.record`, statuses mixed),
   each in a project directory of its own (SESSIONS project dirs), each with one real recorded
   transcript (164-235 KB, fresh ids; 825 MB at the default; SIZE_KB=N writes the recorded
   transcripts in turn up to N KB instead). BENCH_DIR keeps (and reuses) the data.
2. Cold start: no `index.sqlite` and no `history.json` in the data dir (removed before each cold
   start). `bin/amc serve --port 0` as a child process; the seconds until it answers and until
   `/api/state` lists every session. Then, as a user who opens the page and its Usage view, one
   stream client and one `GET /api/usage`; and until the background build is done (the search
   index `ready`, every session's `usage` on the stream, `/api/history` `complete`), in turn:
   a hook event (`hook.record` of a UserPromptSubmit, with its doorbell datagram) timed to its
   `session` event on the stream, and, on another thread every 0.25 s, one `GET /api/state` on
   a fresh connection. The same probes after the build are the baseline (the same server at
   rest, same run). Targets: every session within 3 s; during the build hook -> stream
   p95 < 100 ms and /api/state p95 < 50 ms; the build done within 90 s.
3. At rest: one stream client, nothing changing, IDLE_S (default 60) s; the server's
   utime+stime (/proc/<pid>/stat). Then the server restarted (index and history in place) and,
   once its start-up work is done, the same. Target: < 1 % of a core both times.
4. The page (BROWSER=1, the default; needs Playwright and Chromium as tests/support/tools.py
installs
   them): another cold start; Chromium opens the page as soon as the server answers: the seconds
   until it shows every card, then RUNS (default 20) hook -> card changes timed as
   bench_browser.py does, during the build. Targets: load < 3 s, DOM p95 < 250 ms.
"""
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as b  # noqa: E402

sys.path.insert(0, b.ROOT)

from amc_server.paths import get_paths  # noqa: E402

KB = 1024
STATE_EVERY_S = 0.25
PROBE_GAP_S = 0.2
LOAD_TIMEOUT_S = 300
REUSE_S = 40 * 60    # kept data younger than this is used again (see make_data)


def make_data(home, env, sessions, size):
    marker = os.path.join(home, ".bench-made-%d-%d" % (sessions, size))
    if os.path.exists(marker) and time.time() - os.path.getmtime(marker) < REUSE_S:
        print("data: reused %s" % home)
        return
    for name in os.listdir(home):  # older: AMC's housekeeping drops `starting` sessions at 1 h
        path = os.path.join(home, name)
        shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) \
            else os.unlink(path)
    t0 = time.perf_counter()
    mix = b.make_sessions(home, env, 0, sessions, size=size)
    os.sync()
    total = sum(os.path.getsize(b.transcript_path(home, i)) for i in range(sessions))
    open(marker, "w").close()
    print("data: %d sessions in %d project dirs, %.0f MB of transcripts, made in %.0f s (%s)"
          % (sessions, sessions, total / KB / KB, time.perf_counter() - t0,
             " ".join("%s=%d" % kv for kv in sorted(mix.items()))), flush=True)


def forget_built(env):
    """Remove what the background build makes, so the next start is a first start."""
    paths = get_paths(env)
    made = (os.path.basename(paths.index_file), os.path.basename(paths.history_cache))
    for name in os.listdir(paths.data):
        if name.startswith(made):
            os.unlink(os.path.join(paths.data, name))


def count_sessions(port):
    t, body = b.get(port, "/api/state")
    return len(json.loads(body)["sessions"]), t


def until_listed(server, n, timeout=120.0):
    """Return the seconds from now until /api/state lists `n` sessions."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if count_sessions(server.port)[0] >= n:
            return time.perf_counter() - t0
        time.sleep(0.05)
    raise RuntimeError("the server never listed %d sessions" % n)


class StateProbe(threading.Thread):
    """GET /api/state on a fresh connection every STATE_EVERY_S; the latencies, while running."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.times, self.stopped = port, [], threading.Event()

    def run(self):
        while not self.stopped.wait(STATE_EVERY_S):
            self.times.append(b.get(self.port, "/api/state")[0])

    def stop(self):
        self.stopped.set()
        self.join()
        return self.times


def built(port, missing_usage):
    """Return what of the build is still to do (empty when done)."""
    todo = []
    _, body = b.get(port, "/api/search?q=zzbenchzz")
    index = json.loads(body)["index"]
    if not index["ready"]:
        todo.append("index %s/%s" % (index["files_done"], index["files_total"]))
    if missing_usage:
        todo.append("usage of %d" % len(missing_usage))
    _, body = b.get(port, "/api/history?limit=1")
    if not json.loads(body)["complete"]:
        todo.append("history")
    return todo


def hook_probe(sse, env, home, i, k, missing_usage):
    def seen(e):
        if e["event"] == "session" and e["data"].get("usage") is not None:
            missing_usage.discard(e["data"]["session_id"])
    text = "start probe %d %s" % (k, uuid.uuid4().hex[:8])
    return b.prompt_to_event(sse, env, home, i, text, seen, timeout=30)


def cold_start(home, env, n, probes, timeout):
    forget_built(env)
    server = b.AmcProcess(env)
    t0 = time.perf_counter()
    try:
        return _cold_start(server, t0, home, env, n, probes, timeout)
    except BaseException:
        server.stop()
        raise


def _cold_start(server, t0, home, env, n, probes, timeout):
    answered = server.start()
    listed = until_listed(server, n) + answered
    sse = b.SSE(server.port)
    snap = sse.until(lambda e: e["event"] == "snapshot", timeout=60)
    missing = {s["session_id"] for s in snap["data"]["sessions"]
               if s.get("transcript_path") and s.get("usage") is None}
    threading.Thread(target=b.get, args=(server.port, "/api/usage"), daemon=True).start()
    state = StateProbe(server.port)
    state.start()
    during, k, todo, checked = [], 0, ["?"], 0.0
    while todo:
        if time.perf_counter() - t0 > timeout:
            break
        during.append(hook_probe(sse, env, home, (k * 997) % n, k, missing))
        k += 1
        for e in sse.quiet(PROBE_GAP_S):  # events meanwhile: usage arriving
            if e["event"] == "session" and e["data"].get("usage") is not None:
                missing.discard(e["data"]["session_id"])
        if time.perf_counter() - checked > 1.0:
            todo = built(server.port, missing)
            checked = time.perf_counter()
    build = time.perf_counter() - t0
    state_during = state.stop()
    rss_build = server.memory()
    state = StateProbe(server.port)
    state.start()
    after = []
    for j in range(probes):
        after.append(hook_probe(sse, env, home, ((k + j) * 997) % n, 100_000 + j, missing))
        time.sleep(PROBE_GAP_S)
    state_after = state.stop()
    sse.close()
    print("\ncold start, %d sessions: answers after %.2f s, every session in /api/state after "
          "%.2f s; the build (index, usage, history) %s after %.1f s; RSS %.0f MB (peak %.0f)"
          % (n, answered, listed, "done" if not todo else "NOT done (%s)" % ", ".join(todo),
             build, rss_build[0], rss_build[1]))
    print("  %-30s %8s %8s %8s %6s" % ("", "p50 ms", "p95 ms", "max ms", "n"))
    for name, xs in (("hook -> stream, during build", during),
                     ("hook -> stream, at rest", after),
                     ("/api/state, during build", state_during),
                     ("/api/state, at rest", state_after)):
        if xs:
            print("  %-30s %8s %8s %8s %6d" % (name, b.ms(b.median(xs)), b.ms(b.pct(xs, 95)),
                                               b.ms(max(xs)), len(xs)))
    sys.stdout.flush()
    return server


def idle(server, seconds, label):
    sse = b.SSE(server.port)
    sse.until(lambda e: e["event"] == "snapshot", timeout=60)
    sse.quiet(3.0)
    c0, t0 = server.cpu(), time.monotonic()
    sse.quiet(seconds)
    c1, t1 = server.cpu(), time.monotonic()
    sse.close()
    print("  idle %s: %.2f %% of a core (%.2f CPU s in %.0f s)"
          % (label, 100 * (c1 - c0) / (t1 - t0), c1 - c0, t1 - t0), flush=True)


def warm_restart(env, n, settle_timeout):
    server = b.AmcProcess(env)
    answered = server.start()
    listed = until_listed(server, n) + answered
    t0 = time.perf_counter()
    todo = ["?"]
    while todo and time.perf_counter() - t0 < settle_timeout:
        _, body = b.get(server.port, "/api/state")
        missing = {s["session_id"] for s in json.loads(body)["sessions"]
                   if s.get("transcript_path") and s.get("usage") is None}
        todo = built(server.port, missing)
        time.sleep(0.5)
    print("restart (index and history in place): every session after %.2f s; index, usage "
          "and history %s %.1f s later" % (listed, "done" if not todo else "NOT done (%s)"
                                             % ", ".join(todo), time.perf_counter() - t0),
          flush=True)
    return server


def browser_cold(home, env, n, runs):
    import bench_browser as bb
    api, chromium = bb.load_playwright()
    forget_built(env)
    pw = api.sync_playwright().start()
    browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                 args=bb.CHROMIUM_ARGS)
    server = b.AmcProcess(env)
    try:
        server.start()
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US",
                                      timezone_id="UTC")
        context.add_init_script(bb.SPY)
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto("http://127.0.0.1:%d/" % server.port)
        try:
            page.wait_for_function(
                "(n) => document.querySelectorAll('article[data-testid=\"session-card\"]')"
                ".length === n", arg=n, timeout=LOAD_TIMEOUT_S * 1000)
        except api.TimeoutError:
            shown = page.evaluate("() => document.querySelectorAll("
                                  "'article[data-testid=\"session-card\"]').length")
            print("\nthe page at a cold start: %d of %d cards after %d s (not all: the rest of "
                  "this part is not measured)" % (shown, n, LOAD_TIMEOUT_S), flush=True)
            return
        load = time.perf_counter() - t0
        lat, paint, _, _ = bb.measure(page, home, env, n, runs)
        _, body = b.get(server.port, "/api/search?q=zzbenchzz")
        index = json.loads(body)["index"]
        print("\nthe page at a cold start (chromium %s): every card after %.2f s; hook -> card "
              "during the build: dom p50 %s ms, p95 %s ms, max %s ms; frame p95 %s ms (index "
              "%s after the last)" % (browser.version, load, b.ms(b.median(lat)),
                                      b.ms(b.pct(lat, 95)), b.ms(max(lat)),
                                      b.ms(b.pct(paint, 95)),
                                      "ready" if index["ready"] else "%s/%s files" % (
                                          index["files_done"], index["files_total"])),
              flush=True)
        context.close()
    finally:
        server.stop()
        browser.close()
        pw.stop()


def main():
    n = b.env_int("SESSIONS", 5000)
    size = b.env_int("SIZE_KB", 0) * KB
    probes = b.env_int("PROBES", 40)
    idle_s = b.env_int("IDLE_S", 60)
    runs = b.env_int("RUNS", 20)
    timeout = b.env_int("BUILD_TIMEOUT_S", 900)
    b.PROJECTS = n
    print("bench_start  %s  %s" % (time.strftime("%Y-%m-%d %H:%M"), b.machine()))
    keep = os.environ.get("BENCH_DIR")
    home = keep or tempfile.mkdtemp(prefix="amc-bench-")
    os.makedirs(home, exist_ok=True)
    env = b.bench_env(home)
    server = None
    try:
        make_data(home, env, n, size)
        server = cold_start(home, env, n, probes, timeout)
        idle(server, idle_s, "after the build")
        server.stop()
        server = warm_restart(env, n, timeout)
        time.sleep(5.0)
        idle(server, idle_s, "after a restart")
        server.stop()
        server = None
        if os.environ.get("BROWSER", "1") != "0":
            browser_cold(home, env, n, runs)
    finally:
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
    print("targets: every session within 3 s; during the build hook -> stream p95 < 100 ms, "
          "/api/state p95 < 50 ms; build < 90 s; idle < 1 %; page load < 3 s, dom p95 < 250 ms")


if __name__ == "__main__":
    main()
