#!/usr/bin/env python3
"""Benchmark: the search index (amc_server/index/) over 1 GB of transcripts.

Method (docs/performance.md, "Search"):
1. Data. SEARCH_MB (default 1024) MB of transcripts built from every transcript fixture
   (tests/fixtures: the recorded Claude Code 2.1.329 and Codex 0.169.0 sessions, the public
   Claude Code 1.0-2.1 and Codex 0.53-0.146 transcripts, the hostile one), in turn, each session
   1 to 5 copies of one fixture with fresh ids (uuids, msg_/toolu_/call_ ids), written where
   the agents keep them (40 Claude project dirs, Codex day dirs) with mtimes two days old
   (history, not live sessions). Every 20th Claude session gets one prompt with a word of its
   own (`needle<n>`), the rare words searched for below.
2. Baselines in the same run: a bare `json.loads` loop over every file (what any reader pays),
   timed before and after the indexing, and `grep` done in Python (read every file,
   `bytes.find` the word): what a search costs without an index.
3. Indexing. A fresh `bin/amc serve` (no index.sqlite) on that HOME; the time from its start
   until `/api/search` says `ready`; MB/s = bytes of transcripts / that time; also the
   server's CPU seconds until then (/proc: user+system, all threads, the core's own start
   included), which moves less with the machine's load than the wall time. Meanwhile every
   0.25 s: the server's VmRSS, and one `GET /api/state` timed (the server's own latency while
   it indexes), then the same GET for 10 s once it is ready (its latency idle). Then the size
   of index.sqlite plus its WAL against the transcripts. Targets: >= 20 MB/s, RSS < 300 MB,
   index <= 15 %.
4. Queries over HTTP on one keep-alive connection, QUERY_RUNS (default 10) each: rare words, common
   words, two words, a phrase, a prefix, a project filter. Target: p50 < 30 ms.
5. Appends. APPENDS (default 20) times, one prompt with a new word is appended (one write) to a
   Claude session's transcript and `/api/search` polled every 5 ms until it finds it: in the
   live session (LIVE_MB, default 50 MB, written just before the start: the walk keeps its
   reader), then in a small two-day-old one (its first append reads the file once whole, as
   its reader is not cached; shown apart). Target: searchable within 1 s.
Set BENCH_DIR to keep (and reuse) the data; INDEX_ONLY=1 stops after step 3.
"""
import glob
import http.client
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

MB = 1e6
FX = os.path.join(b.ROOT, "tests", "fixtures")
IDS = re.compile(rb"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                 rb"|(?:toolu|msg|req|srvtoolu|call)_[0-9A-Za-z]+)")
OLD_S = 2 * 86400


def fixtures():
    """Return (agent, bytes) of every transcript fixture, each ending in a newline."""
    claude = sorted(glob.glob(os.path.join(FX, "claude-code-2.1.329", "*", "transcript.jsonl"))
                    + glob.glob(os.path.join(FX, "public", "claude", "**", "*.jsonl"),
                                recursive=True)
                    + [os.path.join(FX, "hostile", "hostile.jsonl")])
    codex = sorted(glob.glob(os.path.join(FX, "codex-0.169.0", "codex-0.169.0-[et]*.jsonl"))
                   + glob.glob(os.path.join(FX, "public", "codex", "*.jsonl")))
    out = []
    for agent, files in (("claude", claude), ("codex", codex)):
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            if data.strip():
                out.append((agent, data if data.endswith(b"\n") else data + b"\n"))
    return out


def fresh(data):
    """Return a fixture with every id replaced by a new one (consistent within the copy)."""
    parts = IDS.split(data)
    seen = {}
    for i in range(1, len(parts), 2):
        old = parts[i]
        if old not in seen:
            seen[old] = (old.split(b"_")[0] + b"_" + uuid.uuid4().hex[:24].encode()
                         if b"_" in old[:9] else str(uuid.uuid4()).encode())
        parts[i] = seen[old]
    return b"".join(parts)


LIVE_SID = str(uuid.UUID(int=(0x5ea2 << 112) | 0xffffff, version=4))


def live_path(home):
    return os.path.join(home, ".claude", "projects", "-home-dev-work-live", LIVE_SID + ".jsonl")


def build(home, total, live_mb):
    """Write about `total` bytes of transcripts under `home`; return (paths, bytes, needles).

    One of them, LIVE_SID, is a live session of `live_mb` MB (the recorded 2.1.329 transcripts
    repeated with fresh ids, benchlib.write_transcript), written now; the rest are two days old.
    """
    fx = fixtures()
    rnd = random.Random(7)
    size = b.write_transcript(live_path(home), LIVE_SID, int(live_mb * MB))
    paths, needles, n = [live_path(home)], {}, 0
    old = time.time() - OLD_S
    while size < total:
        agent, data = fx[n % len(fx)]
        body = b"".join(fresh(data) for _ in range(rnd.choice((1, 1, 1, 2, 3, 5))))
        sid = str(uuid.UUID(int=(0x5ea2 << 112) | n, version=4))
        if agent == "claude":
            folder = os.path.join(home, ".claude", "projects", "-home-dev-work-proj%02d" % (n % 40))
            path = os.path.join(folder, sid + ".jsonl")
            if n % 20 == 0:
                word = "needle%d" % n
                body += b.user_line(sid, "where did we put %s again?" % word)
                needles[word] = sid
        else:
            folder = os.path.join(home, ".codex", "sessions", "2026", "%02d" % (1 + n % 11),
                                  "%02d" % (1 + n % 28))
            path = os.path.join(folder, "rollout-2026-01-01T00-00-00-%s.jsonl" % sid)
        os.makedirs(folder, exist_ok=True)
        with open(path, "wb") as f:
            f.write(body)
        os.utime(path, (old, old))
        paths.append(path)
        size += len(body)
        n += 1
    return paths, size, needles


def manifest(home, data=None):
    """Read (or, given `data`, write) what `build` made, so BENCH_DIR can be reused."""
    path = os.path.join(home, "bench-search.json")
    if data is not None:
        with open(path, "w") as f:
            json.dump(data, f)
        return data
    with open(path) as f:
        return json.load(f)


def bare_json(paths):
    t0 = time.perf_counter()
    for p in paths:
        with open(p, "rb") as f:
            for line in f:
                try:
                    json.loads(line)
                except ValueError:
                    pass
    return time.perf_counter() - t0


def grep(paths, word):
    t0 = time.perf_counter()
    hits = 0
    needle = word.encode()
    for p in paths:
        with open(p, "rb") as f:
            if f.read().find(needle) >= 0:
                hits += 1
    return time.perf_counter() - t0, hits


class Client:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path):
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers={"Host": "127.0.0.1:%d" % self.port})
        resp = self.conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise OSError("GET %s: %d %r" % (path, resp.status, body[:200]))
        return time.perf_counter() - t0, body

    def search(self, q, **params):
        dt, body = self.get("/api/search?" + urllib.parse.urlencode(dict(params, q=q)))
        return dt, json.loads(body)


def index_run(env, size):
    server = b.AmcProcess(env)
    t_start = time.perf_counter()
    server.start()
    client = Client(server.port)
    rss, during = [], []
    while True:
        dt, answer = client.search("")
        rss.append(server.memory()[0])
        t0 = time.perf_counter()
        b.get(server.port, "/api/state")
        during.append(time.perf_counter() - t0)
        if answer["index"]["ready"]:
            break
        if answer["index"]["error"]:
            raise RuntimeError(answer["index"]["error"])
        time.sleep(0.25)
    took = time.perf_counter() - t_start
    cpu = server.cpu()
    idle = []
    t_end = time.monotonic() + 10
    while time.monotonic() < t_end:
        t0 = time.perf_counter()
        b.get(server.port, "/api/state")
        idle.append(time.perf_counter() - t0)
        time.sleep(0.25)
    peak = server.memory()[1]
    return server, client, took, cpu, answer["index"], rss, peak, during, idle


def index_size(data_dir):
    return sum(os.path.getsize(os.path.join(data_dir, "index.sqlite" + s))
               for s in ("", "-wal", "-shm")
               if os.path.exists(os.path.join(data_dir, "index.sqlite" + s)))


QUERIES = {
    "rare word": None,  # filled with needles
    "common word": ["the", "file", "error", "test", "function", "import"],
    "medium word": ["database", "README", "migration", "teammates", "tarfile", "summary"],
    "two words": ["tests pass", "plan mode", "git commit", "hello world"],
    "phrase": ['"git commit"', '"which database"', '"all tests"'],
    "prefix": ["databa*", "migrat*", "teamm*", "commi*"],
    "project filter": ["error", "database"],
}


def queries(client, needles, runs):
    rnd = random.Random(3)
    QUERIES["rare word"] = rnd.sample(sorted(needles), min(6, len(needles)))
    per, everything = {}, []
    for name, qs in QUERIES.items():
        times = []
        for q in qs:
            params = {"project": "proj07"} if name == "project filter" else {}
            for _ in range(runs):
                dt, answer = client.search(q, **params)
                times.append(dt)
            if name == "rare word":
                assert [h["session_id"] for h in answer["results"]] == [needles[q]], (q, answer)
        per[name] = times
        everything += times
    return per, everything


def appends(client, sid, path, runs):
    """Append `runs` prompts to one transcript; return the seconds until each was found."""
    out = []
    for i in range(runs):
        word = "fresh%dword%s" % (i, uuid.uuid4().hex[:6])
        line = b.user_line(sid, "appended %s now" % word)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        t0 = time.perf_counter()
        os.write(fd, line)
        os.close(fd)
        while True:
            _, answer = client.search(word)
            if answer["results"]:
                break
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("%s not found after 30 s" % word)
            time.sleep(0.005)
        out.append(time.perf_counter() - t0)
    return out


def main():
    size_mb = b.env_int("SEARCH_MB", 1024)
    runs = b.env_int("QUERY_RUNS", 10)
    n_appends = b.env_int("APPENDS", 20)
    keep = os.environ.get("BENCH_DIR", "")
    home = keep or tempfile.mkdtemp(prefix="amc-bench-search-")
    env = b.bench_env(home)
    print("bench_search: %s" % b.machine())
    try:
        t0 = time.perf_counter()
        if keep and os.path.exists(os.path.join(home, "bench-search.json")):
            paths, size, needles = manifest(home)
            now = time.time()
            os.utime(live_path(home), (now, now))  # live again
        else:
            paths, size, needles = manifest(home, build(home, size_mb * MB,
                                                        b.env_int("LIVE_MB", 50)))
        print("data: %d files, %.1f MB (%d with a needle word), built or listed in %.1f s"
              % (len(paths), size / MB, len(needles), time.perf_counter() - t0))
        for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
            path = os.path.join(env["AMC_DATA_DIR"], name)
            if os.path.exists(path):
                os.remove(path)
        bare = bare_json(paths)
        print("baseline: bare json.loads of every line %.1f s = %.1f MB/s"
              % (bare, size / bare / MB))

        load = os.getloadavg()[0]
        server, client, took, cpu, status, rss, peak, during, idle = index_run(env, size)
        try:
            bare2 = bare_json(paths)
            isize = index_size(env["AMC_DATA_DIR"])
            print("indexing: %d files ready in %.1f s = %.1f MB/s [target >= 20 MB/s]; the server "
                  "used %.1f s of CPU = %.1f MB per CPU-second; load %.2f before, %.2f after"
                  % (status["files_total"], took, size / took / MB, cpu, size / cpu / MB, load,
                     os.getloadavg()[0]))
            print("baseline again, after: bare json.loads %.1f s = %.1f MB/s; indexing took %.1fx "
                  "the mean of the two baselines" % (bare2, size / bare2 / MB,
                                                     took / ((bare + bare2) / 2)))
            print("index size: %.1f MB = %.1f %% of the transcripts [target <= 15 %%]"
                  % (isize / MB, 100.0 * isize / size))
            print("server RSS while indexing: max %.0f MB, VmHWM %.0f MB [target < 300 MB]"
                  % (max(rss), peak))
            print("GET /api/state while indexing: p50 %s ms, p95 %s ms, max %s ms (%d); "
                  "idle after: p50 %s ms, p95 %s ms" % (
                      b.ms(b.median(during)), b.ms(b.pct(during, 95)), b.ms(max(during)),
                      len(during), b.ms(b.median(idle)), b.ms(b.pct(idle, 95))))
            if os.environ.get("INDEX_ONLY"):
                return
            per, everything = queries(client, needles, runs)
            for name, times in per.items():
                print("query %-15s p50 %6s ms  p95 %6s ms  max %6s ms  (%s)" % (
                    name, b.ms(b.median(times)), b.ms(b.pct(times, 95)), b.ms(max(times)),
                    ", ".join(QUERIES[name])))
            print("queries, all %d: p50 %s ms, p95 %s ms [target p50 < 30 ms]" % (
                len(everything), b.ms(b.median(everything)), b.ms(b.pct(everything, 95))))
            word = sorted(needles)[0]
            g, hits = grep(paths, word)
            print("baseline: grep in Python for %s over every file %.2f s (%d file)" % (
                word, g, hits))
            old_sid = sorted(needles.values())[0]
            old = glob.glob(os.path.join(home, ".claude", "projects", "*", old_sid + ".jsonl"))[0]
            for label, sid, path in (("the live session", LIVE_SID, live_path(home)),
                                     ("a 2-day-old session", old_sid, old)):
                fsize = os.path.getsize(path)
                times = appends(client, sid, path, n_appends)
                rest = times[1:] or times
                print("append -> searchable, %s (%.1f MB): first %s ms, then p50 %s ms, p95 %s ms,"
                      " max %s ms [target < 1 s]" % (label, fsize / MB, b.ms(times[0]),
                                                      b.ms(b.median(rest)), b.ms(b.pct(rest, 95)),
                                                      b.ms(max(rest))))
            print("server RSS at the end: %.0f MB (VmHWM %.0f MB)" % server.memory())
        finally:
            server.stop()
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
