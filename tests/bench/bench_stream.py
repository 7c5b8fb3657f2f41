#!/usr/bin/env python3
"""Benchmark: /api/state as sessions grow, hook -> stream latency, bytes per change, idle CPU.

Method (docs/performance.md): a temp HOME filled with hook-made sessions (benchlib.make_sessions:
the recorded 2.1.329 payloads through amc_server.hook.record, statuses mixed, one recorded
transcript each) and the real server, `bin/amc serve --port 0`, as a child process.
1. Growth (SIZES, default 10,100,500,1000,5000): at each size the server is restarted (its start
   time is printed) and RUNS (default 20) GET /api/state on fresh connections alternate with the
   same request to the baseline's plain http.server in another process (the original design:
   every sessions/*.json read and parsed per request). The same pair is timed as functions in
   this process too (the core's `get_state` over an in-memory Core, and `baseline_state`).
2. At the largest size, one SSE client on /api/stream; HOOK_RUNS times a real `bin/amc-hook`
   process gets a UserPromptSubmit for one of the sessions, and we time from just before the
   process starts to the `session` event carrying that prompt (and to the process's exit, and a
   `python3 -c pass` run in between: the bare process cost). The bytes the stream carried for
   each change are counted off the socket (the event plus anything else within 0.3 s).
3. Idle: the same server and client, nothing changing, for IDLE_S (default 60) seconds; the
   server's utime+stime from /proc/<pid>/stat before and after. Then, in this process, one
   reconcile and one housekeeping pass are timed (their share of the idle CPU), and PROFILE=1
   runs the real server in this process with every thread under cProfile for PROFILE_S
   (default 20) seconds of idle and prints its threads and hottest functions.
Targets: state p50 < 20 ms at 5,000; >= 5x the baseline at 500; hook -> event p50 < 50 ms,
p95 < 100 ms; < 5 KB per change; idle < 1 % of a core.
"""
import cProfile
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

from amc_server.http import api
from amc_server.core import lifecycle  # noqa: E402
from amc_server.core.live import Core  # noqa: E402
from amc_server.paths import get_paths  # noqa: E402


def state_function_times(paths, runs):
    """Time the core's get_state (in memory) and the baseline function, alternately."""
    core = Core(paths)
    t0 = time.perf_counter()
    core.rescan()
    load = time.perf_counter() - t0
    app = types.SimpleNamespace(core=core)  # get_state reads the core only: no consumers here
    req = api.Request("GET", "/api/state", {}, None, {}, {})
    amc, base = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        api.get_state(app, req)
        amc.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        b.baseline_state(paths.sessions)
        base.append(time.perf_counter() - t0)
    return amc, base, load


def growth(home, env, sizes, runs, diag_size=500):
    paths = get_paths(env)
    diag_ka = diag_fresh = 0.0
    print("\n/api/state as sessions grow (RUNS=%d each, fresh connection per request; "
          "baseline = original design)" % runs)
    print("%6s %8s | %8s %8s %9s | %8s %8s %9s | %6s | %8s %8s %6s | %8s | %s" % (
        "sess", "start s", "amc p50", "amc p95", "amc body", "base p50", "base p95", "base body",
        "ratio", "fn amc", "fn base", "ratio", "amc k-a", "mix"))
    made = 0
    mix = {}
    server = None
    rows = []
    for n in sizes:
        for k, v in b.make_sessions(home, env, made, n).items():
            mix[k] = mix.get(k, 0) + v
        made = n
        os.sync()  # no writeback of the new files under the timed hooks' fsync
        if server is not None:
            server.stop()
        if n == diag_size:
            log_dir = tempfile.mkdtemp(prefix="amc-log-")
            diag = b.AmcProcess(env, os.path.join(log_dir, "log"))
            diag.start()
            time.sleep(SETTLE_S)
            diag_ka = b.median(b.get_many(diag.port, "/api/state", runs))
            diag_fresh = b.median([b.get(diag.port, "/api/state")[0] for _ in range(runs)])
            diag.stop()
            shutil.rmtree(log_dir, ignore_errors=True)
        server = b.AmcProcess(env)
        start = server.start()
        time.sleep(SETTLE_S)  # past the first reconcile: the steady state
        base = b.BaselineProcess(paths.sessions)
        amc_t, base_t = [], []
        amc_body = base_body = b""
        for _ in range(runs):
            t, amc_body = b.get(server.port, "/api/state")
            amc_t.append(t)
            t, base_body = b.get(base.port, "/api/state")
            base_t.append(t)
        base.stop()
        keep = b.get_many(server.port, "/api/state", runs)
        got = len(json.loads(amc_body)["sessions"])
        assert got == n, "the server shows %d of %d sessions" % (got, n)
        fn_amc, fn_base, _ = state_function_times(paths, runs)
        row = (n, start, b.median(amc_t), b.pct(amc_t, 95), len(amc_body), b.median(base_t),
               b.pct(base_t, 95), len(base_body), b.median(base_t) / b.median(amc_t),
               b.median(fn_amc), b.median(fn_base), b.median(fn_base) / b.median(fn_amc),
               b.median(keep))
        rows.append(row)
        print("%6d %8.2f | %8s %8s %8.0fK | %8s %8s %8.0fK | %5.1fx | %8s %8s %5.0fx | %8s | %s" % (
            n, start, b.ms(row[2]), b.ms(row[3]), row[4] / 1024, b.ms(row[5]), b.ms(row[6]),
            row[7] / 1024, row[8], b.ms(row[9]), b.ms(row[10]), row[11], b.ms(row[12]),
            " ".join("%s=%d" % kv for kv in sorted(mix.items()))), flush=True)
    from amc_server.http import peer
    t0 = time.perf_counter()
    for _ in range(10):
        peer.diag_uid(("127.0.0.1", 1), ("127.0.0.1", 1))
    t1 = time.perf_counter()
    for _ in range(10):
        peer.proc_uid(("127.0.0.1", 1), 1)
    t2 = time.perf_counter()
    with open("/proc/net/tcp") as f:
        lines = sum(1 for _ in f)
    print("  (each new connection asks who owns it: peer.diag_uid (sock_diag) %.2f ms; the "
          "/proc/net/tcp fallback, %d lines now, %.1f ms; k-a = one keep-alive connection)"
          % ((t1 - t0) / 10 * 1e3, lines, (t2 - t1) / 10 * 1e3))
    if diag_size in sizes:
        print("  (%d sessions, the server's log outside every watched directory: k-a p50 %s ms, "
              "fresh p50 %s ms; above it is in <data dir>/server.log, where `amc start` writes "
              "it)" % (diag_size, b.ms(diag_ka), b.ms(diag_fresh)))
    return server, rows


def hook_latency(home, env, server, n, runs):
    """Time hook process start -> its session event on the stream; count the stream's bytes."""
    sse = b.SSE(server.port)
    snap = sse.next(timeout=60)
    assert snap and snap["event"] == "snapshot", snap
    snapshot_bytes = sse.received
    sse.quiet(0.5)
    lat, exits, bare, sizes, extra = [], [], [], [], []
    for k in range(runs):
        i = (k * 997) % n
        text = "bench prompt %d %s" % (k, uuid.uuid4().hex[:8])
        data = json.dumps(b.prompt_payload(i, home, text)).encode()
        bare.append(b.timed_process([sys.executable, "-c", "pass"], data, env))
        henv = b.hook_env(env, i)
        before = sse.received
        exited = []
        t0 = time.perf_counter()
        proc = subprocess.Popen(b.HOOK_CMD, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, env=henv)
        waiter = threading.Thread(target=lambda: (proc.communicate(data),
                                                  exited.append(time.perf_counter())))
        waiter.start()
        sid = b.session_id(i)
        sse.until(lambda e: e["event"] == "session" and e["data"]["session_id"] == sid
                  and e["data"]["last_message_preview"] == text, timeout=10)
        lat.append(time.perf_counter() - t0)
        waiter.join()
        exits.append(exited[0] - t0)
        got = sse.quiet(0.3)
        extra.append(len(got))
        sizes.append(sse.received - before)
    sse.close()
    return snapshot_bytes, lat, exits, bare, sizes, extra


def idle_cpu(server, seconds):
    sse = b.SSE(server.port)
    sse.next(timeout=60)
    sse.quiet(3.0)
    c0, t0 = server.cpu(), time.monotonic()
    events = sse.quiet(seconds)
    c1, t1 = server.cpu(), time.monotonic()
    comments = len(sse.comments)
    sse.close()
    return (c1 - c0) / (t1 - t0), c1 - c0, t1 - t0, len(events), comments


SETTLE_S = 2.5
BLOCKING = {"sleep", "poll", "select", "acquire", "recv_into", "recv", "wait", "accept"}


def _blocking(key):
    """Tell whether a pstats key is a call that waits (its time is not CPU)."""
    path, _, func = key
    if path != "~":
        return func in BLOCKING
    return any(word.split(".")[-1] in BLOCKING for word in re.sub(r"[<>']", "", func).split())


def idle_work(env, reconciles=5):
    """Time the core's periodic work in this process (no enrichers): reconcile, housekeeping."""
    paths = get_paths(env)
    core = Core(paths)
    core.rescan()
    core.reconcile()  # the first one after a rescan records the directories' mtimes
    t0 = time.perf_counter()
    for _ in range(reconciles):
        core.reconcile()
    rec = (time.perf_counter() - t0) / reconciles
    t0 = time.perf_counter()
    lifecycle.clean(paths)
    clean = time.perf_counter() - t0
    return rec, clean


def profile_server(env, seconds):
    """Run the real server in this process with every thread under cProfile, idle for `seconds`
    with one stream client; print the threads it started and where their time went."""
    import logging
    import resource
    from amc_server.http.server import make_server
    logging.getLogger("amc").setLevel(logging.CRITICAL)
    profiles = []
    original = threading.Thread.run

    def run(self):
        prof = cProfile.Profile()
        profiles.append((self.name, prof))
        prof.enable()
        try:
            original(self)
        finally:
            prof.disable()
    threading.Thread.run = run
    try:
        server = make_server(get_paths(env), "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True, name="serve").start()
        sse = b.SSE(server.server_address[1])
        sse.next(timeout=60)
        sse.quiet(3.0)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        sse.quiet(seconds)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        span = time.monotonic() - t0
        sse.close()
        server.shutdown()
        server.server_close()
        time.sleep(6.0)  # let short-lived threads finish their profiles
    finally:
        threading.Thread.run = original
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    names = {}
    stats = None
    for name, prof in profiles:
        group = re.sub(r"-?\d+", "", name)
        names[group] = names.get(group, 0) + 1
        try:
            prof.create_stats()
            stats = pstats.Stats(prof) if stats is None else (stats.add(prof) or stats)
        except Exception:
            pass
    print("\n-- profile: the server in this process, idle %.0f s, one stream client: CPU %.2f s "
          "(%.1f %% of a core, cProfile on); threads started: %s" % (
              span, cpu, 100 * cpu / span,
              ", ".join("%s x%d" % kv for kv in sorted(names.items(), key=lambda kv: -kv[1]))))
    rows = sorted(((v[2], v[1], k) for k, v in stats.stats.items() if not _blocking(k)),
                  reverse=True)[:14]
    print("   tottime s    calls  function (blocking waits left out)")
    for tt, calls, (path, line, func) in rows:
        print("   %9.3f %8d  %s:%d(%s)" % (tt, calls, os.path.relpath(path, b.ROOT)
                                          if path.startswith(b.ROOT) else path, line, func))


def main():
    sizes = [int(x) for x in os.environ.get("SIZES", "10,100,500,1000,5000").split(",")]
    runs = b.env_int("RUNS", 20)
    hook_runs = b.env_int("HOOK_RUNS", 30)
    idle_s = b.env_int("IDLE_S", 60)
    home = tempfile.mkdtemp(prefix="amc-bench-")
    env = b.bench_env(home)
    print("bench_stream  %s  %s" % (time.strftime("%Y-%m-%d %H:%M"), b.machine()))
    server = None
    try:
        server, rows = growth(home, env, sizes, runs)
        n = sizes[-1]
        snap, lat, exits, bare, sizes_b, extra = hook_latency(home, env, server, n, hook_runs)
        print("\nhook -> session event on /api/stream, %d sessions (HOOK_RUNS=%d, snapshot %.0f KB)"
              % (n, hook_runs, snap / 1024))
        print("  hook start -> event   : p50 %s ms  p95 %s ms  max %s ms   (target p50 < 50, "
              "p95 < 100)" % (b.ms(b.median(lat)), b.ms(b.pct(lat, 95)), b.ms(max(lat))))
        print("  hook process (exit)   : p50 %s ms  p95 %s ms" % (b.ms(b.median(exits)),
                                                                b.ms(b.pct(exits, 95))))
        print("  python3 -c pass       : p50 %s ms  p95 %s ms" % (b.ms(b.median(bare)),
                                                                b.ms(b.pct(bare, 95))))
        over = [a - e for a, e in zip(lat, exits)]
        print("  event - hook exit     : p50 %s ms  (negative: the event came before the exit)"
              % b.ms(b.median(over)))
        print("  stream bytes / change : median %d B  max %d B  (target < 5120); events "
              "besides it within 0.3 s: %d" % (b.median(sizes_b), max(sizes_b), sum(extra)))
        print("  (baseline, polling: every poll of /api/state sends %.0f KB)"
              % (rows[-1][7] / 1024))
        if idle_s:
            share, used, span, events, comments = idle_cpu(server, idle_s)
            rss, hwm = server.memory()
            with open("/proc/%d/status" % server.pid) as f:
                threads = [line.split()[1] for line in f if line.startswith("Threads:")][0]
            state = json.loads(b.get(server.port, "/api/state")[1])["sessions"]
            waiting = sum(1 for s in state if (s.get("attention") or {}).get("kind") ==
                          "permission" and not s["attention"].get("options"))
            print("\nidle, %d sessions, one stream client, %.0f s: server CPU %.2f s = %.2f %% of "
                  "a core (target < 1 %%); %d events, %d keep-alives; RSS %.0f MB (peak %.0f MB); "
                  "%s threads; %d permission prompts without options (pane unreadable)"
                  % (n, span, used, share * 100, events, comments, rss, hwm, threads, waiting))
        server.stop()
        server = None
        rec, clean = idle_work(env)
        print("  in this process, without enrichers: one reconcile %.1f ms (every 2 s = %.2f %% "
              "of a core), housekeeping %.0f ms (every 60 s = %.2f %%)"
              % (rec * 1e3, rec / 2 * 100, clean * 1e3, clean / 60 * 100))
        if os.environ.get("PROFILE"):
            profile_server(env, b.env_int("PROFILE_S", 20))
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
