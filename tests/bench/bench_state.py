#!/usr/bin/env python3
"""Benchmark: /api/state with many sessions, and a big Claude transcript read incrementally.

Method (docs/benchmarks.md): a temp HOME with SESSIONS hook-made sessions (each with a small
transcript) and a real AMC server on a free port; time GET /api/state (median of RUNS). Then a
transcript of about BIG_MB megabytes built by repeating the recorded 2.1.329 bash-tool transcript
with fresh ids: time the first GET /api/conversation (a full parse), then append one turn and time
the next one (only the appended bytes are parsed), and report the server's peak RSS.
"""
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from amc_server import hook  # noqa: E402
from amc_server.paths import get_paths  # noqa: E402
from amc_server.server import make_server  # noqa: E402

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "claude-code-2.1.329", "bash-tool",
                       "transcript.jsonl")


def get(url):
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = json.load(r)
    return time.perf_counter() - start, body


def main():
    sessions = int(os.environ.get("SESSIONS", "300"))
    runs = int(os.environ.get("RUNS", "20"))
    big_mb = int(os.environ.get("BIG_MB", "100"))
    home = tempfile.mkdtemp(prefix="amc-bench-")
    env = {"HOME": home}
    paths = get_paths(env)
    lines = open(FIXTURE, "rb").read().splitlines()
    project = os.path.join(paths.claude_projects, "-w-proj")
    os.makedirs(project)
    for i in range(sessions):
        sid = "bench-%04d" % i
        transcript = os.path.join(project, sid + ".jsonl")
        with open(transcript, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        for event in ("SessionStart", "UserPromptSubmit", "Stop"):
            hook.record({"session_id": sid, "hook_event_name": event, "cwd": "/w/proj%d" % (i % 20),
                         "transcript_path": transcript, "prompt": "p", "last_assistant_message": "ok"},
                        env)
    server = make_server(paths, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    times = [get(base + "/api/state")[0] for _ in range(runs)]
    print("sessions=%d  GET /api/state: median %.1f ms  max %.1f ms"
          % (sessions, statistics.median(times) * 1e3, max(times) * 1e3))

    big = os.path.join(project, "bench-big.jsonl")
    n = 0
    with open(big, "wb") as f:
        while f.tell() < big_mb * 1024 * 1024:
            for line in lines:
                f.write(line.replace(b"toolu_bash0001", b"toolu_%08d" % n)
                        .replace(b'"id":"msg_', b'"id":"msg_%d_' % n) + b"\n")
            n += 1
    size = os.path.getsize(big) / 1e6
    first, body = get(base + "/api/conversation/bench-big?limit=50")
    total = body["total"]
    with open(big, "ab") as f:
        for line in lines:
            f.write(line.replace(b"toolu_bash0001", b"toolu_new") + b"\n")
    second, body = get(base + "/api/conversation/bench-big?limit=50")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("transcript %.0f MB (%d messages): first read %.2f s, after an append %.1f ms "
          "(%d messages); peak RSS %.0f MB" % (size, total, first, second * 1e3, body["total"], rss))
    server.shutdown()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
