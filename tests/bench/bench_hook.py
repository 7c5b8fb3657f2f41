#!/usr/bin/env python3
"""Benchmark: wall time of one `bin/amc-hook` run against `python3 -c pass`.

The hook runs on the agent's critical path for every event, so its cost is what a user feels.
Method (docs/benchmarks.md): N alternating runs of each command as real processes (same
interpreter, same environment, a temp AMC_DATA_DIR), a realistic PreToolUse payload on stdin, a
session whose event log already holds HISTORY events (the hook must stay O(1) in history).
Prints the median and p90 of each and their ratio; the goal is a median ratio <= 1.5.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOOK = os.path.join(ROOT, "bin", "amc-hook")


def timed(argv, data, env):
    start = time.perf_counter()
    subprocess.run(argv, input=data, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main(runs=int(os.environ.get("RUNS", "60")), history=int(os.environ.get("HISTORY", "20000"))):
    tmp = tempfile.mkdtemp(prefix="amc-bench-")
    env = dict(os.environ, AMC_DATA_DIR=tmp, HOME=tmp)
    payload = {"session_id": "bench-session", "hook_event_name": "PreToolUse",
               "transcript_path": "/tmp/x.jsonl", "cwd": "/home/dev/work/proj",
               "tool_name": "Bash", "tool_input": {"command": "ls -la", "description": "List"},
               "tool_use_id": "toolu_1"}
    data = json.dumps(payload).encode()
    subprocess.run([sys.executable, HOOK], input=data, env=env, check=True)
    line = open(os.path.join(tmp, "events", "bench-session.jsonl"), "rb").read()
    with open(os.path.join(tmp, "events", "bench-session.jsonl"), "ab") as f:
        f.write(line * history)
    base, hook = [], []
    for _ in range(runs):
        base.append(timed([sys.executable, "-c", "pass"], data, env))
        hook.append(timed([sys.executable, HOOK], data, env))
    mb, mh = statistics.median(base), statistics.median(hook)
    p90 = lambda xs: sorted(xs)[int(len(xs) * 0.9) - 1]  # noqa: E731
    print("runs=%d history_events=%d python=%s" % (runs, history, sys.version.split()[0]))
    print("python3 -c pass : median %.1f ms  p90 %.1f ms" % (mb * 1e3, p90(base) * 1e3))
    print("bin/amc-hook    : median %.1f ms  p90 %.1f ms" % (mh * 1e3, p90(hook) * 1e3))
    print("ratio (median)  : %.2fx  (goal <= 1.50x)" % (mh / mb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
