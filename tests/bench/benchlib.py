"""What the benchmark scripts share: realistic data, the server as a process, the baselines.

Not a test module: the bench scripts (bench_*.py, docs/performance.md) import it. Everything here
builds data the way the agents do or times things the way a user feels them:
- sessions are made by `amc_server.hook.record` replaying the recorded Claude Code 2.1.329 hook
  payloads (tests/fixtures/claude-code-2.1.329/*/hooks.jsonl), each session stopped at a different
  point of its scenario, so statuses, questions and permission prompts are mixed as in real use;
- transcripts are the recorded transcripts repeated with fresh ids (uuids, msg_, toolu_), so
  every turn is distinct, as in a long real session;
- `AmcProcess` is `bin/amc serve --port 0` as a child process, whose CPU and memory are read
  from /proc; `SSE` is tests/support/sse.py's client counting the bytes it received;
- the baselines re-implement the ORIGINAL design (before the live core) inside the bench:
  `/api/state` re-read and JSON-parsed every sessions/*.json per request, a conversation
  re-read its whole transcript. They are the cheapest form of that design (no registry, no
  Codex discovery, no stat per session, no setup probe), so a ratio against them understates
  the gain rather than inflating it.

`python3 tests/bench/benchlib.py baseline-serve <sessions dir>` runs the baseline's plain
http.server (the HTTP variant of the /api/state baseline) and prints its port.
"""
import http.client
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.support.sse import SSEClient  # noqa: E402

BIN = os.path.join(ROOT, "bin")
HOOK = os.path.join(BIN, "amc-hook")
# How the agents run it (`amc hooks install`: python3 -S <clone>/bin/amc-hook), this interpreter.
HOOK_CMD = [sys.executable, "-S", HOOK]
AMC = os.path.join(BIN, "amc")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "claude-code-2.1.329")
SCENARIOS = sorted(d for d in os.listdir(FIXTURES)
                   if os.path.isfile(os.path.join(FIXTURES, d, "transcript.jsonl")))
_IDS = re.compile(rb"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                  rb"|(?:toolu|msg|req|srvtoolu)_[0-9A-Za-z]+)")
TICKS = os.sysconf("SC_CLK_TCK")


# -- figures ------------------------------------------------------------------------------------

def pct(xs: Sequence[float], p: float) -> float:
    """Return the p-th percentile (nearest rank) of `xs`."""
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100.0 * len(s)) - 1))]


def ms(x: float) -> str:
    return "%.1f" % (x * 1e3)


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def bench_env(home: str) -> Dict[str, str]:
    """Return an environment for a bench HOME: nothing inherited that points at real state."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AMC_", "CLAUDE", "CODEX_", "TMUX", "ZELLIJ", "XDG_"))}
    env["HOME"] = home
    env["AMC_DATA_DIR"] = os.path.join(home, ".local", "share", "amc")
    return env


def machine() -> str:
    """Return a one-line description of this machine for the figures."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cores (%s), Python %s, load %.2f" % (os.cpu_count() or 0, model or "?",
                                                   sys.version.split()[0], os.getloadavg()[0])


# -- transcripts --------------------------------------------------------------------------------

class Template:
    """A recorded transcript split around its ids, to write copies with fresh ids quickly."""

    def __init__(self, scenario: str) -> None:
        with open(os.path.join(FIXTURES, scenario, "transcript.jsonl"), "rb") as f:
            data = f.read()
        if not data.endswith(b"\n"):
            data += b"\n"
        self.scenario = scenario
        self.parts = _IDS.split(data)  # even: text, odd: an id
        first = json.loads(data.split(b"\n", 1)[0])
        self.session_id = str(first.get("sessionId") or "").encode()
        self.size = len(data)
        user = [line for line in data.split(b"\n") if b'"type":"user"' in line
                and b'"content":"' in line and b'"tool_use_id"' not in line]
        self.user_line = user[0] if user else b""

    def copy(self, session_id: str) -> bytes:
        """Return the transcript with every id fresh (consistent within the copy)."""
        fresh: Dict[bytes, bytes] = {self.session_id: session_id.encode()}
        out = []
        for i, part in enumerate(self.parts):
            if i % 2:
                new = fresh.get(part)
                if new is None:
                    if b"_" in part[:9]:
                        prefix = part.split(b"_", 1)[0]
                        new = prefix + b"_" + uuid.uuid4().hex[:24].encode()
                    else:
                        new = str(uuid.uuid4()).encode()
                    fresh[part] = new
                out.append(new)
            else:
                out.append(part)
        return b"".join(out)


_TEMPLATES: Dict[str, Template] = {}


def template(scenario: str) -> Template:
    if scenario not in _TEMPLATES:
        _TEMPLATES[scenario] = Template(scenario)
    return _TEMPLATES[scenario]


def write_transcript(path: str, session_id: str, size: int = 0, scenario: str = "") -> int:
    """Write a transcript of at least `size` bytes (one recorded scenario when 0); return its size.

    Turns cycle through the recorded scenarios (or repeat `scenario`), each with fresh ids.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    names = [scenario] if scenario else SCENARIOS
    n = 0
    with open(path, "wb") as f:
        while True:
            f.write(template(names[n % len(names)]).copy(session_id))
            n += 1
            if f.tell() >= size:
                return f.tell()


def user_line(session_id: str, text: str) -> bytes:
    """Return one user prompt record (as Claude Code writes it) with fresh ids and `text`."""
    line = template("bash-tool").user_line
    rec = json.loads(line)
    rec["sessionId"] = session_id
    rec["uuid"] = str(uuid.uuid4())
    rec["promptId"] = str(uuid.uuid4())
    rec["message"]["content"] = text
    return json.dumps(rec, separators=(",", ":")).encode() + b"\n"


# -- sessions -----------------------------------------------------------------------------------

def hook_payloads(scenario: str) -> List[Dict[str, Any]]:
    with open(os.path.join(FIXTURES, scenario, "hooks.jsonl")) as f:
        return [json.loads(line)["payload"] for line in f if line.strip()]


def session_id(i: int) -> str:
    """Return the uuid of bench session number i (stable across runs)."""
    return str(uuid.UUID(int=(0xbe2c << 112) | i, version=4))


PROJECTS = 40  # project directories the sessions are spread over (bench_start: one each)


def project_of(i: int) -> str:
    return "/home/dev/work/proj%02d" % (i % PROJECTS)


def transcript_path(home: str, i: int) -> str:
    return os.path.join(home, ".claude", "projects", project_of(i).replace("/", "-"),
                        session_id(i) + ".jsonl")


def hook_env(env: Dict[str, str], i: int) -> Dict[str, str]:
    """Return the hook's environment for session i: a tmux pane, as most sessions run in one."""
    return dict(env, TMUX="/tmp/tmux-1000/default,%d,0" % (1000 + i % 7), TMUX_PANE="%%%d" % i)


def make_sessions(home: str, env: Dict[str, str], start: int, stop: int,
                  transcripts: bool = True, size: int = 0) -> Dict[str, int]:
    """Make sessions start..stop-1 with hook.record; return how many ended in each status.

    Session i replays scenario i % 5 up to a point that varies with i, so the mix holds done,
    active, starting and needs-attention (question, permission, prose question) sessions. Its
    transcript (one recorded scenario, fresh ids; with `size`, the recorded scenarios in turn up
    to that many bytes) is written where Claude Code keeps it.
    """
    from amc_server.hook import record as hook
    mix: Dict[str, int] = {}
    for i in range(start, stop):
        scenario = SCENARIOS[i % len(SCENARIOS)]
        payloads = [p for p in hook_payloads(scenario) if p["hook_event_name"] != "SessionEnd"]
        cut = 1 + (i // len(SCENARIOS)) % len(payloads)
        path = transcript_path(home, i)
        if transcripts:
            write_transcript(path, session_id(i), size, scenario="" if size else scenario)
        henv = hook_env(env, i)
        for p in payloads[:cut]:
            p = dict(p, session_id=session_id(i), transcript_path=path, cwd=project_of(i))
            hook.record(p, henv)
        with open(os.path.join(env["AMC_DATA_DIR"], "sessions", session_id(i) + ".json")) as f:
            status = json.load(f)["status"]
        mix[status] = mix.get(status, 0) + 1
    return mix


def prompt_payload(i: int, home: str, text: str) -> Dict[str, Any]:
    """Return a UserPromptSubmit payload for session i (as Claude Code sends it)."""
    p = dict(hook_payloads("bash-tool")[1])
    p.update(session_id=session_id(i), transcript_path=transcript_path(home, i),
             cwd=project_of(i), hook_event_name="UserPromptSubmit", prompt=text)
    return p


def prompt_to_event(sse: Any, env: Dict[str, str], home: str, i: int, text: str,
                    seen: Optional[Any] = None, timeout: float = 20) -> float:
    """Record a UserPromptSubmit of session i as the hook does (`hook.record`, its doorbell
    datagram too); return the seconds until its `session` event carrying `text` is read off
    `sse`. `seen(event)` gets every event read on the way."""
    from amc_server.hook import record as hook
    sid = session_id(i)
    t0 = time.perf_counter()
    hook.record(prompt_payload(i, home, text), hook_env(env, i))
    while True:
        e = sse.next(timeout=timeout)
        assert e is not None, "no event within %d s" % timeout
        if seen is not None:
            seen(e)
        if e["event"] == "session" and e["data"]["session_id"] == sid and \
                e["data"]["last_message_preview"] == text:
            return time.perf_counter() - t0


# -- the server as a process --------------------------------------------------------------------

class AmcProcess:
    """`bin/amc serve --port 0` as a child process; CPU and memory read from /proc.

    Its log goes where `amc start` puts it, `<data dir>/server.log` (a watched directory), unless
    `log_path` says otherwise.
    """

    def __init__(self, env: Dict[str, str], log_path: str = "") -> None:
        self.env = env
        self.log_path = log_path or os.path.join(env["AMC_DATA_DIR"], "server.log")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0

    def start(self, timeout: float = 120.0) -> float:
        """Start the server; return the seconds until it answered its first /api/state."""
        t0 = time.perf_counter()
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, AMC, "serve", "--port", "0"], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._log, start_new_session=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if "http://" not in line:
            self.stop()
            raise RuntimeError("amc serve did not start: %r (see %s)" % (line, self.log_path))
        self.port = int(line.strip().rstrip("/").rsplit(":", 1)[1])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                get(self.port, "/api/state")
                return time.perf_counter() - t0
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("amc serve does not answer")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu(self) -> float:
        """Return the server's user+system CPU seconds so far (all its threads)."""
        return proc_cpu(self.pid)

    def memory(self) -> Tuple[float, float]:
        """Return (VmRSS, VmHWM) of the server in MB."""
        return proc_memory(self.pid)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
        self._log.close()


def proc_cpu(pid: int) -> float:
    """Return utime+stime of a process in seconds (/proc/<pid>/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_memory(pid: int) -> Tuple[float, float]:
    """Return (VmRSS, VmHWM) of a process in MB (/proc/<pid>/status)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024.0
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


def get(port: int, path: str, timeout: float = 600) -> Tuple[float, bytes]:
    """GET on a fresh connection (as a page's fetch after idle); return (seconds, body)."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path, headers={"Host": "127.0.0.1:%d" % port})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200:
        raise OSError("GET %s: %d %r" % (path, resp.status, body[:200]))
    return time.perf_counter() - t0, body


def get_many(port: int, path: str, runs: int) -> List[float]:
    """GET `runs` times on one keep-alive connection (as a browser does); return the seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Host": "127.0.0.1:%d" % port})
        resp = conn.getresponse()
        resp.read()
        out.append(time.perf_counter() - t0)
    conn.close()
    return out


class SSE(SSEClient):
    """tests/support/sse.py's client, counting every byte it read off the socket."""

    received = 0

    def _fill(self, deadline: float) -> bool:
        before = len(self.buf)
        ok = super()._fill(deadline)
        if ok:
            self.received += len(self.buf) - before
        return ok


def timed_process(argv: List[str], data: bytes, env: Dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, input=data, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


# -- the baselines: the original design -------------------------------------------------------

def baseline_state(sessions_dir: str) -> bytes:
    """/api/state as the original design made it: read and parse every session file, sort, dump."""
    sessions = []
    for name in os.listdir(sessions_dir):
        if not name.endswith(".json") or name.startswith("."):
            continue
        try:
            with open(os.path.join(sessions_dir, name), "rb") as f:
                s = json.loads(f.read())
        except (OSError, ValueError):
            continue
        if isinstance(s, dict):
            sessions.append(s)
    rank = {"needs_attention": 0, "active": 1, "starting": 2, "done": 3}
    sessions.sort(key=lambda s: (rank.get(s.get("status"), 9), s.get("started_at", ""),
                                 s.get("session_id", "")))
    return json.dumps({"sessions": sessions, "server_time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "setup": {}}, ensure_ascii=False).encode("utf-8")


def baseline_conversation(path: str) -> int:
    """A conversation request in the original design: json.loads every line of the transcript."""
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                json.loads(line)
                n += 1
    return n


class _BaselineHandler(BaseHTTPRequestHandler):
    sessions_dir = ""

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/api/state":
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        body = baseline_state(self.sessions_dir)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class BaselineProcess:
    """The baseline's plain http.server (`baseline-serve`) as a child process."""

    def __init__(self, sessions_dir: str) -> None:
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "baseline-serve",
                                      sessions_dir], stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()


def _serve_baseline(sessions_dir: str) -> None:
    _BaselineHandler.sessions_dir = sessions_dir
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BaselineHandler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__" and sys.argv[1:2] == ["baseline-serve"]:
    _serve_baseline(sys.argv[2])
