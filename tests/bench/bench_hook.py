#!/usr/bin/env python3
"""Benchmark: wall time of one `bin/amc-hook` run against `python3 -c pass`, with and without a
server listening on the doorbell.

The hook runs on the agent's critical path for every event, so its cost is what a user feels.
Method (docs/performance.md): RUNS (default 60) rounds, each running in turn, as real processes
(same interpreter, same environment, a realistic PreToolUse payload on stdin): `python3 -c pass`;
the hook on a data dir where no server listens (its doorbell datagram finds no socket); the hook
on a data dir where `bin/amc serve` listens (the datagram is delivered and the server re-reads the
session while the next process starts, as it would on a real machine); both as the agents run it
(`python3 -S bin/amc-hook`, what `amc hooks install` writes) and, for comparison, without `-S`
(a shebang run: `site` and every .pth file of the interpreter load first). Each data dir holds a
session whose event log already has HISTORY (default 20 000) events, so a hook that grew with
history would show. Prints the median and p90 of each and the median ratios; the goal is a
median ratio <= 1.5 in both cases.
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402


def data_dir(history, data):
    home = tempfile.mkdtemp(prefix="amc-bench-")
    env = b.bench_env(home)
    b.timed_process([sys.executable, b.HOOK], data, env)
    log = os.path.join(env["AMC_DATA_DIR"], "events", "bench-session.jsonl")
    with open(log, "rb") as f:
        line = f.read()
    with open(log, "ab") as f:
        f.write(line * history)
    return home, env


def main(runs=b.env_int("RUNS", 60), history=b.env_int("HISTORY", 20000)):
    payload = {"session_id": "bench-session", "hook_event_name": "PreToolUse",
               "transcript_path": "/tmp/x.jsonl", "cwd": "/home/dev/work/proj",
               "tool_name": "Bash", "tool_input": {"command": "ls -la", "description": "List"},
               "tool_use_id": "toolu_1"}
    data = json.dumps(payload).encode()
    quiet_home, quiet_env = data_dir(history, data)
    served_home, served_env = data_dir(history, data)
    server = b.AmcProcess(served_env)
    server.start()
    sock = os.path.join(served_env["AMC_DATA_DIR"], "hook.sock")
    assert os.path.exists(sock), "the server has no doorbell socket"
    base, quiet, served, plain = [], [], [], []
    try:
        for _ in range(runs):
            base.append(b.timed_process([sys.executable, "-c", "pass"], data, quiet_env))
            quiet.append(b.timed_process(b.HOOK_CMD, data, quiet_env))
            served.append(b.timed_process(b.HOOK_CMD, data, served_env))
            plain.append(b.timed_process([sys.executable, b.HOOK], data, served_env))
        ring = ring_cost(served_env["AMC_DATA_DIR"], quiet_env["AMC_DATA_DIR"])
    finally:
        server.stop()
        shutil.rmtree(quiet_home, ignore_errors=True)
        shutil.rmtree(served_home, ignore_errors=True)
    mb = b.median(base)
    print("bench_hook  %s  %s" % (time.strftime("%Y-%m-%d %H:%M"), b.machine()))
    print("runs=%d history_events=%d" % (runs, history))
    print("python3 -c pass             : median %5.1f ms  p90 %5.1f ms"
          % (mb * 1e3, b.pct(base, 90) * 1e3))
    for label, xs in (("hook -S, no server", quiet), ("hook -S, server listens", served),
                      ("hook without -S, server", plain)):
        print("%-28s: median %5.1f ms  p90 %5.1f ms  ratio %.2fx  (goal <= 1.50x)"
              % (label, b.median(xs) * 1e3, b.pct(xs, 90) * 1e3, b.median(xs) / mb))
    print("doorbell ring (in process, 2000 each): server listens p50 %.0f us max %.0f us; "
          "no server p50 %.0f us max %.0f us  (goal < 1 ms, never waits)" % ring)
    return 0


def ring_cost(served_data, quiet_data):
    """Time `doorbell.ring` itself: one datagram to a listening server, and to nobody."""
    from amc_server.core import doorbell
    out = []
    for data in (served_data, quiet_data):
        times = []
        for _ in range(2000):
            t0 = time.perf_counter()
            doorbell.ring(data, "bench-session")
            times.append(time.perf_counter() - t0)
        out += [b.median(times) * 1e6, max(times) * 1e6]
    return tuple(out)


if __name__ == "__main__":
    sys.exit(main())
