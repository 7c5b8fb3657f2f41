#!/usr/bin/env python3
"""Benchmark: tokens and cost of a big transcript, and that reading it never stalls the core.

Method (docs/performance.md, "Usage"):
1. Throughput. A transcript of BIG_MB (default 100) MB: the recorded 2.1.329 transcripts repeated
   with fresh ids (benchlib). REPS (default 5) rounds, each timing in turn the bare baseline
   (`json.loads` of every line, what reading the file costs at all) and `usage.read` (a new
   UsageFile: the first read of a live session's usage). Page cache warm for both.
2. Core stall. `bin/amc serve` with the 100 MB session and a small one. PROBES (default 40)
   times, one hook event of the small session (`hook.record`, as the hook writes it, with its
   doorbell datagram) is timed to its `session` event on /api/stream: first with nothing to
   read, then while the 100 MB transcript is replaced by a copy (another inode) every 0.3 s, so
   the tracker reads it from the start again and again. The baseline in the same run is the same
   server without the usage tracker (a wrapper that leaves `UsageTracker` out), under the same
   churn: other readers of changed transcripts (the search index) work then too, and the
   difference of the two is what the tracker's reading costs the core.
3. Live updates. APPENDS (default 30) times, one assistant line (a new API message) is appended
   to the 100 MB transcript, timed to the `session` event whose `usage.turns` counts it; also the
   server CPU per append (only appended bytes are read).
4. Cold start. SESSIONS (default 2000) hook-made live sessions with their recorded transcripts
   (benchlib.make_sessions): a fresh server, a stream client from the first moment; the time
   until every session carries its usage (the tracker reads each transcript once), the events
   that took, and hook event -> session event meanwhile and after (as in 2).
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

from amc_server.hook import record as hook
from amc_server.agents import usage  # noqa: E402

MB = 1024 * 1024


def assistant_line(session_id: str, k: int) -> bytes:
    return (json.dumps({
        "type": "assistant", "sessionId": session_id, "isSidechain": False,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "uuid": str(uuid.uuid4()), "message": {
            "id": "msg_bench_%d_%s" % (k, uuid.uuid4().hex[:8]), "model": "claude-opus-5-5",
            "role": "assistant", "type": "message", "content": [{"type": "text", "text": "ok"}],
            "usage": {"input_tokens": 3, "output_tokens": 5, "cache_read_input_tokens": 1000,
                      "cache_creation_input_tokens": 10}}}, separators=(",", ":")) + "\n").encode()


def append(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def throughput(path: str, size: int, reps: int) -> None:
    with open(path, "rb") as f:
        while f.read(8 * MB):
            pass
    bare, ours = [], []
    got = {}
    for _ in range(reps):
        t0 = time.perf_counter()
        b.baseline_conversation(path)
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = usage.read(path, "claude")
        ours.append(time.perf_counter() - t0)
    mbps = lambda ts: size / MB / b.median(ts)  # noqa: E731
    print("\nfirst read of a %.0f MB transcript (%d turns, %d output tokens), REPS=%d, median"
          % (size / MB, got["turns"], got["output_tokens"], reps))
    print("  baseline json.loads per line : %6.1f MB/s  (%.3f s)" % (mbps(bare), b.median(bare)))
    print("  usage.read (UsageFile)       : %6.1f MB/s  (%.3f s)  %.2fx the baseline's time"
          % (mbps(ours), b.median(ours), b.median(ours) / b.median(bare)))


def hook_to_event(sse, env, home, i: int, k: int) -> float:
    return b.prompt_to_event(sse, env, home, i, "probe %d %s" % (k, uuid.uuid4().hex[:8]))


WITHOUT_TRACKER = """import sys
sys.path.insert(0, %r)
import amc_server.consumers.usage as tracker
tracker.UsageTracker.__init__ = lambda self, core: None   # the baseline: no usage tracker
from amc_server.cli import main
sys.exit(main(sys.argv[1:]))
"""


def stall(server, env, home, big_path: str, probes: int, tracker: bool = True):
    sse = b.SSE(server.port)
    snap = sse.until(lambda e: e["event"] == "snapshot", timeout=60)
    sid = b.session_id(0)
    first = [s for s in snap["data"]["sessions"] if s["session_id"] == sid][0]
    if tracker and not (first.get("usage") or {}).get("turns"):  # the first read goes on
        sse.until(lambda e: e["event"] == "session" and e["data"]["session_id"] == sid
                  and (e["data"].get("usage") or {}).get("turns"), timeout=120)
    sse.quiet(0.5)
    idle = []
    for k in range(probes):
        idle.append(hook_to_event(sse, env, home, 1, k))
        time.sleep(0.05)
    copies = [big_path + ".a", big_path + ".b"]
    for c in copies:
        shutil.copy(big_path, c)
    stop = threading.Event()
    rereads = [0]

    def churn() -> None:  # another inode each time: the tracker reads 100 MB from the start
        while not stop.is_set():
            tmp = big_path + ".tmp"
            os.link(copies[rereads[0] % 2], tmp)
            os.replace(tmp, big_path)
            rereads[0] += 1
            stop.wait(0.3)
    cpu0 = server.cpu()
    t_busy = time.perf_counter()
    worker = threading.Thread(target=churn, daemon=True)
    worker.start()
    time.sleep(0.5)
    busy = []
    for k in range(probes):
        busy.append(hook_to_event(sse, env, home, 1, probes + k))
        time.sleep(0.05)
    stop.set()
    worker.join()
    cpu = server.cpu() - cpu0
    wall = time.perf_counter() - t_busy
    sse.close()
    for c in copies:
        os.unlink(c)
    print("\nhook event -> its session event, PROBES=%d, %s" % (
        probes, "as shipped" if tracker else "baseline: the same server without the tracker"))
    print("  quiet : p50 %s ms  p95 %s ms  max %s ms" % (
        b.ms(b.median(idle)), b.ms(b.pct(idle, 95)), b.ms(max(idle))))
    print("  churn : p50 %s ms  p95 %s ms  max %s ms  (%d replacements of the 100 MB file in "
          "%.1f s; server CPU %.0f %% of a core)" % (b.ms(b.median(busy)), b.ms(b.pct(busy, 95)),
                                                    b.ms(max(busy)), rereads[0], wall,
                                                    100 * cpu / wall))
    return idle, busy


def live_updates(server, big_path: str, appends: int) -> None:
    sid = b.session_id(0)
    sse = b.SSE(server.port)
    snap = sse.until(lambda e: e["event"] == "snapshot", timeout=60)
    turns = [s for s in snap["data"]["sessions"] if s["session_id"] == sid][0]["usage"]["turns"]
    final = usage.read(big_path, "claude")["turns"]
    if turns != final:  # the last re-read of the churn may still be under way
        sse.until(lambda e: e["event"] == "session" and e["data"]["session_id"] == sid
                  and e["data"]["usage"]["turns"] == final, timeout=60)
        turns = final
    sse.quiet(0.5)
    lat = []
    cpu0 = server.cpu()
    for k in range(appends):
        t0 = time.perf_counter()
        append(big_path, assistant_line(sid, k))
        want = turns + k + 1
        sse.until(lambda e: e["event"] == "session" and e["data"]["session_id"] == sid
                  and (e["data"].get("usage") or {}).get("turns") == want, timeout=20)
        lat.append(time.perf_counter() - t0)
        time.sleep(0.1)
    cpu = (server.cpu() - cpu0) / appends
    sse.close()
    print("\nappend one assistant line -> the session event with its usage (APPENDS=%d)" % appends)
    print("  p50 %s ms  p95 %s ms  max %s ms; server CPU %.1f ms per append (incl. 0.1 s idle)"
          % (b.ms(b.median(lat)), b.ms(b.pct(lat, 95)), b.ms(max(lat)), cpu * 1e3))


def cold_start(sessions: int, probes: int) -> None:
    home = tempfile.mkdtemp(prefix="amc-bench-")
    env = b.bench_env(home)
    server = None
    try:
        b.make_sessions(home, env, 0, sessions)
        os.sync()
        server = b.AmcProcess(env)
        t0 = time.perf_counter()
        server.start()
        sse = b.SSE(server.port)
        snap = sse.until(lambda e: e["event"] == "snapshot", timeout=60)
        want = {s["session_id"] for s in snap["data"]["sessions"] if s.get("transcript_path")}
        missing = {s["session_id"] for s in snap["data"]["sessions"]
                   if s.get("transcript_path") and s.get("usage") is None}
        during, events = [], 0
        k = 0

        def seen(e):
            nonlocal events
            events += 1
            if e["event"] == "session" and e["data"].get("usage") is not None:
                missing.discard(e["data"]["session_id"])
        while missing:
            if k < probes:  # a hook event of a session that has its usage already, or any
                i = k % sessions
                during.append(b.prompt_to_event(sse, env, home, i, "cold %d %s" % (
                    k, uuid.uuid4().hex[:8]), seen))
                k += 1
                continue
            e = sse.next(timeout=60)
            assert e is not None, "%d sessions never got their usage" % len(missing)
            events += 1
            if e["event"] == "session" and e["data"].get("usage") is not None:
                missing.discard(e["data"]["session_id"])
        caught_up = time.perf_counter() - t0
        after = [hook_to_event(sse, env, home, (k + j) % sessions, 10_000 + j)
                 for j in range(probes)]
        sse.close()
        rss, hwm = server.memory()
        print("\ncold start, %d live sessions (%d with a transcript): every one has its usage "
              "%.1f s after the start (%d events on the stream meanwhile); RSS %.0f MB"
              % (sessions, len(want), caught_up, events, rss))
        if during:
            print("  hook -> event while catching up: p50 %s ms  p95 %s ms  (%d probes)"
                  % (b.ms(b.median(during)), b.ms(b.pct(during, 95)), len(during)))
        print("  hook -> event after            : p50 %s ms  p95 %s ms" % (
            b.ms(b.median(after)), b.ms(b.pct(after, 95))))
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    big_mb = b.env_int("BIG_MB", 100)
    reps = b.env_int("REPS", 5)
    probes = b.env_int("PROBES", 40)
    appends = b.env_int("APPENDS", 30)
    print("bench_usage  %s  %s" % (time.strftime("%Y-%m-%d %H:%M"), b.machine()))
    home = tempfile.mkdtemp(prefix="amc-bench-")
    env = b.bench_env(home)
    server = None
    try:
        big = b.transcript_path(home, 0)
        size = b.write_transcript(big, b.session_id(0), big_mb * MB)
        b.write_transcript(b.transcript_path(home, 1), b.session_id(1))
        for i in (0, 1):
            p = b.prompt_payload(i, home, "start %d" % i)
            hook.record(p, b.hook_env(env, i))
        os.sync()
        throughput(big, size, reps)
        wrapper = os.path.join(home, "amc-without-tracker")
        with open(wrapper, "w") as f:
            f.write(WITHOUT_TRACKER % b.ROOT)
        shipped = b.AMC
        results = {}
        for tracker in (False, True, False, True):
            b.AMC = shipped if tracker else wrapper
            server = b.AmcProcess(env)
            server.start()
            idle, busy = stall(server, env, home, big, probes, tracker)
            results.setdefault(tracker, ([], []))
            results[tracker][0].extend(idle)
            results[tracker][1].extend(busy)
            if tracker and len(results[True][0]) > probes:
                live_updates(server, big, appends)
            server.stop()
            server = None
        b.AMC = shipped
        (qa, ba), (qb, bb) = results[True], results[False]
        print("\n  with the tracker / without, both rounds: quiet p50 %.2fx, churn p50 %.2fx "
              "p95 %.2fx" % (b.median(qa) / b.median(qb), b.median(ba) / b.median(bb),
                             b.pct(ba, 95) / b.pct(bb, 95)))
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)
    sessions = b.env_int("SESSIONS", 2000)
    if sessions:
        cold_start(sessions, probes)


if __name__ == "__main__":
    main()
