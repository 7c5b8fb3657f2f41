#!/usr/bin/env python3
"""Benchmark: what subagents, images and the tool views cost (docs/conversation-views.md).

Method (docs/performance.md), every figure against a baseline timed in the same run:
1. Merge. SESSIONS (default 2000) hook sessions in 40 project dirs, merged one at a time
   (`core/merge.merge`, as the core does on every change), alternating ROUNDS (default 5) times
   with the baseline: the same merge with `subagents_running` switched off. Three layouts:
   no subagent files (the common case); 100 `agent-*.jsonl` of other sessions beside them in
   each project dir (2.0.x); two `<session>/subagents/` files with metas per session (2.1.x).
   Target: under 50 us added per merge with no subagent files, under 1 ms with them.
2. Conversation. The recorded 2.1.329 subagents transcript repeated CALLS/2 (default 100)
   times with fresh ids: the page's last 200 messages as wire copies and JSON (baseline), and
   `subagents.annotate` on them (the `subagent` objects, their files stat'ed). Target: annotate
   under 25 % of the answer's own cost.
3. Image. BIG_MB (default 100) MB transcript (recorded lines, fresh ids) with the public 784 KB
   PNG prompt near its start, served by `bin/amc serve`: `GET .../image` vs `GET .../part` of a
   clipped 200 KB tool output in the same file (which re-reads the whole file: the baseline of
   "read it again"). Target: the image under 10 % of the part's time.
4. Diffs in Chromium (skipped without it): `lib/diff.js` on an edit of LINES (default 10,000)
   lines with 1 % changed, a rewrite of 30,000 lines (the fallback), and a 50,000-line Write,
   against `JSON.stringify(input, null, 2)` of the same input (what the raw view does).
   Target: each under 100 ms.
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

from amc_server.hook import record as hook  # noqa: E402
from amc_server.agents.claude import subagents  # noqa: E402
from amc_server.agents.claude.transcript import ClaudeTranscript  # noqa: E402
from amc_server.consumers import conversations  # noqa: E402
from amc_server.core import merge  # noqa: E402
from amc_server.core.sources import Sources  # noqa: E402
from amc_server.core.dismissed import Dismissed  # noqa: E402
from amc_server.paths import get_paths  # noqa: E402

MB = 1024 * 1024
REC = os.path.join(b.FIXTURES, "subagents")
PUBLIC = os.path.join(b.ROOT, "tests", "fixtures", "public", "claude")


def merges(home):
    """Part 1: the per-merge cost of `subagents_running`, three layouts."""
    n = b.env_int("SESSIONS", 2000)
    rounds = b.env_int("ROUNDS", 5)
    paths = get_paths(b.bench_env(home))
    src = Sources(paths)
    dismissed = Dismissed(paths.dismissed_file)
    sids = []
    for i in range(n):
        sid = b.session_id(i)
        path = b.transcript_path(home, i)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(os.path.join(REC, "transcript.jsonl"), path)
        s = None
        for p in b.hook_payloads("bash-tool")[:3]:
            s = hook.apply_event(s, dict(p, session_id=sid, transcript_path=path), {})
        src.hooks[sid] = s
        sids.append(sid)
    real = merge.subagents_running

    def timed(fn_on):
        merge.subagents_running = real if fn_on else (lambda s: 0)
        t0 = time.perf_counter()
        for sid in sids:
            merge.merge(sid, src, dismissed)
        return (time.perf_counter() - t0) / len(sids)

    def layout(name):
        base, new = [], []
        timed(True)  # warm caches (listings, heads), as a running core has them
        for _ in range(rounds):
            base.append(timed(False))
            new.append(timed(True))
        merge.subagents_running = real
        added = b.median(new) - b.median(base)
        print("  %-34s merge %6.1f us -> %6.1f us  (+%.1f us)"
              % (name, b.median(base) * 1e6, b.median(new) * 1e6, added * 1e6))
        return added

    out = {"none": layout("no subagent files")}
    agent = os.path.join(PUBLIC, "cc-2.0.55-project-level-agent-c8d9b115.jsonl")
    for d in {os.path.dirname(b.transcript_path(home, i)) for i in range(n)}:
        for k in range(100):
            shutil.copy(agent, os.path.join(d, "agent-%08x.jsonl" % k))
    out["beside"] = layout("+100 2.0.x agent files per dir")
    for d in {os.path.dirname(b.transcript_path(home, i)) for i in range(n)}:
        for k in range(100):
            os.remove(os.path.join(d, "agent-%08x.jsonl" % k))
    for i, sid in enumerate(sids):
        folder = os.path.join(os.path.dirname(b.transcript_path(home, i)), sid, "subagents")
        shutil.copytree(os.path.join(REC, "subagents"), folder)
    out["subagents"] = layout("+2 2.1.x subagent files each")
    return out


def conversation(home):
    """Part 2: annotate vs the answer's own work, on a transcript with many Agent calls."""
    calls = b.env_int("CALLS", 200)
    sid = b.session_id(0)
    folder = os.path.join(home, "conv")
    os.makedirs(folder)
    path = os.path.join(folder, sid + ".jsonl")
    copies = max(1, calls // 2)  # the recording has two Agent calls; fresh ids in each copy
    b.write_transcript(path, sid, b.template("subagents").size * copies, scenario="subagents")
    shutil.copytree(os.path.join(REC, "subagents"), os.path.join(folder, sid, "subagents"))
    messages = ClaudeTranscript(path, sid).refresh()[-200:]
    found = sum(1 for m in messages for c in m["tool_calls"] if "subagent" in c)
    base, new = [], []
    for _ in range(b.env_int("ROUNDS", 5) * 4):
        t0 = time.perf_counter()
        out = [conversations.wire(m) for m in messages]
        json.dumps({"messages": out}, ensure_ascii=False)
        base.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subagents.annotate(out, path, sid)
        new.append(time.perf_counter() - t0)
    ratio = b.median(new) / b.median(base)
    print("  200 messages, %d Agent calls: answer %.2f ms, annotate %.2f ms (%.0f %%)"
          % (found, b.median(base) * 1e3, b.median(new) * 1e3, ratio * 100))
    return ratio


def image(home):
    """Part 3: one image of a BIG_MB transcript vs a /part that re-reads the whole file."""
    size_mb = b.env_int("BIG_MB", 100)
    env = b.bench_env(home)
    sid = b.session_id(0)
    path = b.transcript_path(home, 0)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(os.path.join(PUBLIC, "cc-1.0.43-image-thinking-long-0d3a8e6f.jsonl")) as f:
        prompt = next(line for line in f if '"type": "image"' in line or '"type":"image"' in line)
    big_output = "OUTPUT " + "z" * (200 * 1024)
    extra = [json.loads(prompt)]
    extra[0].update(sessionId=sid, isSidechain=False)
    extra += [{"type": "assistant", "uuid": "a-big", "isSidechain": False, "message": {
        "id": "msg_big", "role": "assistant", "model": "m", "content": [
            {"type": "tool_use", "id": "toolu_big", "name": "Bash", "input": {"command": "x"}}]}},
        {"type": "user", "uuid": "u-big", "isSidechain": False, "message": {"role": "user",
         "content": [{"type": "tool_result", "tool_use_id": "toolu_big", "content": big_output}]}}]
    with open(path, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in extra))
    b.write_transcript(path + ".tail", sid, size_mb * MB)
    with open(path, "ab") as out, open(path + ".tail", "rb") as tail:
        shutil.copyfileobj(tail, out)
    os.remove(path + ".tail")
    for p in b.hook_payloads("bash-tool")[:2]:
        hook.record(dict(p, session_id=sid, transcript_path=path, cwd=b.project_of(0)),
                    b.hook_env(env, 0))
    server = b.AmcProcess(env)
    server.start()
    try:
        _, body = b.get(server.port, "/api/conversation/%s?limit=100000" % sid)
        msgs = json.loads(body)["messages"]
        with_image = next(m for m in msgs if m.get("images"))
        with_part = next(m for m in msgs for c in m["tool_calls"] if c["id"] == "toolu_big")
        img_path = "/api/conversation/%s/image?message=%s&index=0" % (sid, with_image["id"])
        part_path = "/api/conversation/%s/part?message=%s&call=toolu_big&field=result" % (
            sid, with_part["id"])
        imgs, parts = [], []
        for _ in range(b.env_int("ROUNDS", 5)):
            t, data = b.get(server.port, img_path)
            imgs.append(t)
            parts.append(b.get(server.port, part_path)[0])
        print("  %d MB transcript: image (%d KB) %.1f ms, whole-file /part %.1f ms (%.1f %%)"
              % (size_mb, len(data) // 1000, b.median(imgs) * 1e3, b.median(parts) * 1e3,
                 b.median(imgs) / b.median(parts) * 100))
        return b.median(imgs) / b.median(parts)
    finally:
        server.stop()


def diffs():
    """Part 4: lib/diff.js in Chromium, against JSON.stringify of the same input."""
    try:
        from tests.support import tools
        from tests.support.browser import CHROMIUM_ARGS, load_playwright
        chromium = tools.require("chromium")
        api = load_playwright()
    except Exception as e:  # a bench machine without the browser: say so, go on
        print("  skipped: %s" % e)
        return None
    from amc_server.http.server import make_server
    import threading
    home = tempfile.mkdtemp(prefix="amc-bench-diff-")
    server = make_server(get_paths(b.bench_env(home)), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    lines = b.env_int("LINES", 10000)
    try:
        with api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto("http://127.0.0.1:%d/" % server.server_address[1])
            figures = page.evaluate("""async (n) => {
              const d = await import("/lib/diff.js");
              const time = (f) => { const r = []; for (let i = 0; i < 5; i++) { const t = performance.now(); f(); r.push(performance.now() - t); } r.sort((a, b) => a - b); return r[2]; };
              const old = Array.from({length: n}, (_, i) => "line " + i + " of the file").join("\\n");
              const edited = old.split("\\n").map((l, i) => i % 100 === 7 ? l + " changed" : l).join("\\n");
              const shuffled = Array.from({length: 30000}, (_, i) => "l" + (i * 7919 % 30000)).join("\\n");
              const straight = Array.from({length: 30000}, (_, i) => "l" + i).join("\\n");
              const write = Array.from({length: 50000}, (_, i) => "written " + i).join("\\n");
              return {
                edit: [time(() => d.diffLines(old, edited)), time(() => JSON.stringify({old_string: old, new_string: edited}, null, 2))],
                rewrite: [time(() => d.diffLines(straight, shuffled)), time(() => JSON.stringify({old_string: straight, new_string: shuffled}, null, 2))],
                write: [time(() => d.addedLines(write)), time(() => JSON.stringify({content: write}, null, 2))],
              };
            }""", lines)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(home, ignore_errors=True)
    for name, label in (("edit", "%d-line edit, 1 %% changed" % lines),
                        ("rewrite", "30,000-line rewrite (fallback)"),
                        ("write", "50,000-line Write")):
        ours, raw = figures[name]
        print("  %-34s diff %6.1f ms, raw JSON %6.1f ms" % (label, ours, raw))
    return figures


def main():
    print("bench_tool_views: %s, %s" % (b.machine(), time.strftime("%Y-%m-%d %H:%M")))
    home = tempfile.mkdtemp(prefix="amc-bench-tools-")
    try:
        print("1. merge, %d sessions:" % b.env_int("SESSIONS", 2000))
        added = merges(os.path.join(home, "m"))
        print("2. conversation:")
        ratio = conversation(os.path.join(home, "c"))
        print("3. image:")
        share = image(os.path.join(home, "i"))
        print("4. diffs in Chromium:")
        figures = diffs()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print("targets: merge +%.1f us (< 50) / +%.1f, +%.1f us (< 1000); annotate %.0f %% (< 25 %%);"
          " image %.1f %% of a re-read (< 10 %%)%s"
          % (added["none"] * 1e6, added["beside"] * 1e6, added["subagents"] * 1e6, ratio * 100,
             share * 100, "" if figures is None else "; diffs %s ms (< 100)" % ", ".join(
                 "%.1f" % figures[k][0] for k in ("edit", "rewrite", "write"))))


if __name__ == "__main__":
    main()
