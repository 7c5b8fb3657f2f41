"""Several machines: 20 remotes on one hub over a real sshd; idle CPU, remote event -> hub stream.

Method (docs/performance.md, "Several machines"). Everything runs on this host, as root, through a
private OpenSSH server on a loopback port (tests/support/sshd.py; tests/support/remote_world.py runs
the hub):
- MACHINES (20) Host aliases m01..m20 in the client user's ~/.ssh/config, logging in as USERS (4)
  local users. Each alias is a machine of its own: `SetEnv` sends that machine's AMC_DATA_DIR,
  CLAUDE_CONFIG_DIR, CODEX_HOME and XDG_CACHE_HOME (the sshd config has the matching `AcceptEnv`),
  so each has its own sessions, transcripts and zipapp cache. sshd keeps its defaults otherwise
  (MaxStartups 10:30:100).
- SESSIONS (3) sessions per machine, and on the hub's own machine, made by the real hook
  (`python3 -S bin/amc-hook` as that machine's user, its dirs in the environment, the recorded
  Claude Code 2.1.329 payloads on stdin), each with a recorded transcript.
1. Baseline: the hub (`bin/amc serve`, the client user) with no remotes.json, one stream client,
   idle IDLE_S (60) s: utime+stime of the hub from /proc/<pid>/stat. Then LOCAL0_RUNS (50) local
   hook -> hub stream events (no remotes).
2. `amc remote add` for every machine, then the hub started cold (no zipapp on any machine: each
   is sent its own): the seconds until `/api/state` shows every machine online, and what states
   and errors they went through. Then the hub restarted warm (zipapps in place): the same.
3. Idle with every machine online, one stream client, IDLE_S s: the hub's CPU, the sum over its
   ssh children (found by ppid, on the hub's machine too), and for information the remote side
   (every process of the remote users, and the root sshd monitors of their connections).
4. RUNS (200) remote events, rotating over the machines and their sessions, alternating with as
   many local ones: a UserPromptSubmit with a unique prompt through the real hook on that machine
   (as its user), timed from just before the hook process starts, in this process, to the
   `session` event on the hub's `/api/stream` (tests/support/sse.py) carrying that prompt.
Targets: idle < 3 % of a core at the hub; remote event at the hub p95 < 500 ms.
Run as root (it makes local users); everything it made is removed, on failure too
(KEEP_LOGS=<dir> keeps a copy of the hub's and sshd's logs there).
"""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

from tests.support.remote_world import HOOK, RemoteWorld  # noqa: E402
from tests.support.sshd import USER_PATH, SshWorld, _run, free_port, require_root_sshd  # noqa: E402

PYTHON = shutil.which("python3", path=USER_PATH) or "python3"
MACHINE_VARS = ("AMC_DATA_DIR", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CACHE_HOME")
LOCAL = ""            # the hub's own machine
EVENT_TIMEOUT_S = 15.0


class ManyMachines(SshWorld):
    """tests/support/sshd.py's SshWorld with `machines` Host aliases over `users` remote users; each
    alias sends its machine's own directories with SetEnv (AcceptEnv on the sshd side)."""

    def __init__(self, machines: int, users: int) -> None:
        super().__init__()
        self.names = ["m%02d" % (i + 1) for i in range(machines)]
        self.roles = ["r%d" % u for u in range(users)]

    def role_of(self, name: str) -> str:
        return "client" if name == LOCAL else self.roles[self.names.index(name) % len(self.roles)]

    def dirs(self, name: str) -> Dict[str, str]:
        """Return the machine's own directories (the hub's own machine: its user's defaults)."""
        if name == LOCAL:
            home = self.home("client")
            return {"AMC_DATA_DIR": os.path.join(home, ".local", "share", "amc"),
                    "CLAUDE_CONFIG_DIR": os.path.join(home, ".claude")}
        base = os.path.join(self.home(self.role_of(name)), name)
        return dict(zip(MACHINE_VARS, (os.path.join(base, d) for d in
                                       ("amc", "claude", "codex", "cache"))))

    def _user(self, role: str) -> None:
        name = "amct%s%s" % (self.tag, "c" if role == "client" else role)
        os.makedirs(os.path.join(self.home(role), ".ssh"), mode=0o700)
        _run(["useradd", "-M", "-d", self.home(role), "-s", "/bin/bash", name])
        self.users[role] = name  # from here on stop() removes it
        _run(["usermod", "-p", "*", name])

    def _start(self, sshd: str) -> None:
        host_key = os.path.join(self.tmp, "host_ed25519")
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key])
        for role in ["client"] + self.roles:
            self._user(role)
        ssh_dir = os.path.join(self.home("client"), ".ssh")
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
              os.path.join(ssh_dir, "id_ed25519")])
        with open(os.path.join(ssh_dir, "id_ed25519.pub")) as f:
            authorized = f.read()
        for role in self.roles:
            with open(os.path.join(self.home(role), ".ssh", "authorized_keys"), "w") as f:
                f.write(authorized)
        for name in self.names + [LOCAL]:
            for d in self.dirs(name).values():
                os.makedirs(d, mode=0o700, exist_ok=True)
        for role in ["client"] + self.roles:
            self._chown(role)
        self.port = free_port()
        with open(host_key + ".pub") as f:
            host_pub = " ".join(f.read().split()[:2])
        with open(os.path.join(ssh_dir, "known_hosts"), "w") as f:
            f.write("[127.0.0.1]:%d %s\n" % (self.port, host_pub))
        with open(os.path.join(ssh_dir, "config"), "w") as f:
            for name in self.names:
                f.write("Host %s\n  HostName 127.0.0.1\n  Port %d\n  User %s\n"
                        "  IdentityFile ~/.ssh/id_ed25519\n  IdentitiesOnly yes\n  SetEnv %s\n\n"
                        % (name, self.port, self.users[self.role_of(name)], " ".join(
                            "%s=%s" % kv for kv in sorted(self.dirs(name).items()))))
        self._chown("client")
        self.config = os.path.join(self.tmp, "sshd_config")
        with open(self.config, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\n"
                    "AuthorizedKeysFile .ssh/authorized_keys\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                    "AcceptEnv %s\nAllowUsers %s\n"
                    % (self.port, host_key, os.path.join(self.tmp, "sshd.pid"),
                       " ".join(MACHINE_VARS), " ".join(self.users[r] for r in self.roles)))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.sshd = sshd
        self.start_sshd()

    def sshd_log(self) -> str:
        try:
            with open(os.path.join(self.tmp, "sshd.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class BenchWorld(RemoteWorld):
    """tests/support/remote_world.py's hub over ManyMachines; hooks run on any machine."""

    def __init__(self, sshd: str, machines: int, users: int) -> None:
        super().__init__(sshd)
        self.ssh = self.many = ManyMachines(machines, users)

    def hook_env(self, name: str) -> Dict[str, str]:
        return self.env(self.many.role_of(name), **self.many.dirs(name))

    def make_sessions(self, name: str, index: int, count: int) -> List[str]:
        """Make `count` sessions on machine `name` with its real hook; return their ids."""
        role, dirs = self.many.role_of(name), self.many.dirs(name)
        sids = []
        for j in range(count):
            sid = b.session_id(index * 100 + j)
            scenario = b.SCENARIOS[(index + j) % len(b.SCENARIOS)]
            payloads = [p for p in b.hook_payloads(scenario)
                        if p["hook_event_name"] != "SessionEnd"]
            path = self.transcript(name, sid, j)
            b.write_transcript(path, sid, scenario=scenario)
            for p in payloads[:min(len(payloads), 2 + (index + j) % 3)]:
                p = dict(p, session_id=sid, transcript_path=path, cwd=b.project_of(j))
                done = self.run_as(role, [PYTHON, "-S", HOOK], json.dumps(p).encode(), **dirs)
                assert done.returncode == 0, done.stderr
            sids.append(sid)
        return sids

    def transcript(self, name: str, sid: str, j: int) -> str:
        return os.path.join(self.many.dirs(name)["CLAUDE_CONFIG_DIR"], "projects",
                            b.project_of(j).replace("/", "-"), sid + ".jsonl")

    def prompt(self, name: str, sid: str, j: int, text: str) -> bytes:
        p = dict(b.hook_payloads("bash-tool")[1])
        p.update(session_id=sid, transcript_path=self.transcript(name, sid, j),
                 cwd=b.project_of(j), hook_event_name="UserPromptSubmit", prompt=text)
        return json.dumps(p).encode()

    def run_hook(self, name: str, data: bytes) -> Tuple[float, threading.Thread, List[float]]:
        """Start the hook on `name` with `data`; return (its start time, the thread that waits
        for it, [its exit time] once it exited)."""
        role = self.many.role_of(name)
        exited: List[float] = []
        t0 = time.perf_counter()
        proc = subprocess.Popen([PYTHON, "-S", HOOK], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=self.hook_env(name), cwd=self.home(role), **self._ids(role))
        waiter = threading.Thread(target=lambda: (proc.communicate(data),
                                                  exited.append(time.perf_counter())))
        waiter.start()
        return t0, waiter, exited


# -- /proc ----------------------------------------------------------------------------------------

def processes() -> Dict[int, Tuple[int, str, int]]:
    """Return {pid: (ppid, comm, real uid)} of every process."""
    out = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/status" % entry) as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            out[int(entry)] = (int(fields["PPid"]), fields["Name"].strip(),
                               int(fields["Uid"].split()[0]))
        except (OSError, KeyError, ValueError):
            pass
    return out


def cpu_of(stats: Dict[int, str]) -> Dict[int, float]:
    """Return {key: utime+stime seconds} from each /proc stat file that still exists."""
    out = {}
    for key, path in stats.items():
        try:
            with open(path) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[key] = (int(fields[11]) + int(fields[12])) / b.TICKS
        except (OSError, IndexError):
            pass
    return out


def groups(world: BenchWorld) -> Dict[str, Dict[int, str]]:
    """Return the stat files of each process group the idle phase reads: the hub, its ssh
    children, its other children, its threads, and the remote side (the remote users'
    processes and the root sshd monitors of their connections)."""
    procs = processes()
    hub, listener = world.hub.pid, world.many.proc.pid
    remote_uids = {pwd.getpwnam(world.many.users[r]).pw_uid for r in world.many.roles}

    def stats(pids: List[int]) -> Dict[int, str]:
        return {p: "/proc/%d/stat" % p for p in pids}
    return {
        "hub": stats([hub]),
        "ssh": stats([p for p, (pp, comm, _) in procs.items() if pp == hub and comm == "ssh"]),
        "other children": stats([p for p, (pp, comm, _) in procs.items()
                                 if pp == hub and comm != "ssh"]),
        "remote": stats([p for p, (pp, _, uid) in procs.items()
                         if uid in remote_uids or (pp == listener and uid == 0)]),
        "threads": {int(t): "/proc/%d/task/%s/stat" % (hub, t)
                    for t in os.listdir("/proc/%d/task" % hub)},
    }


def idle(world: BenchWorld, seconds: float) -> Dict[str, Any]:
    """One stream client, nothing changing, `seconds`: the CPU of each group."""
    sse = b.SSE(world.port)
    assert sse.next(timeout=30)["event"] == "snapshot"
    sse.quiet(3.0)
    files = groups(world)
    before = {g: cpu_of(f) for g, f in files.items()}
    t0 = time.monotonic()
    events = sse.quiet(seconds)
    span = time.monotonic() - t0
    after = {g: cpu_of(f) for g, f in files.items()}
    sse.close()
    out: Dict[str, Any] = {"span": span, "events": len(events), "comments": len(sse.comments),
                           "kinds": sorted({e["event"] for e in events})}
    for g in files:  # only what was alive at both reads
        both = [k for k in before[g] if k in after[g]]
        out[g] = (sum(after[g][k] - before[g][k] for k in both), len(both))
        out.setdefault("ended", 0)
        out["ended"] += len(before[g]) - len(both)
    out["busy"] = sorted((d for d in (after["threads"][t] - before["threads"][t]
                                      for t in before["threads"] if t in after["threads"])
                          if d > 0), reverse=True)
    return out


def print_idle(label: str, got: Dict[str, Any], target: bool = False) -> None:
    span = got["span"]
    used, _ = got["hub"]
    busy = got["busy"]
    print("  %s: hub %.2f s CPU in %.0f s = %.2f %% of a core%s; %d events %s, %d keep-alives, "
          "%d threads (%d used CPU%s)" % (
              label, used, span, 100 * used / span, " (target < 3 %)" if target else "",
              got["events"], got["kinds"], got["comments"], got["threads"][1], len(busy),
              ": the busiest %s s" % ", ".join("%.2f" % d for d in busy[:6]) if busy else ""))
    for g in ("ssh", "other children", "remote"):
        used, n = got[g]
        if n:
            print("    %-15s %2d processes: %.2f s = %.2f %% of a core (%.3f %% each)" % (
                g, n, used, 100 * used / span, 100 * used / span / n))
    if got["ended"]:
        print("    (%d processes or threads ended during the window)" % got["ended"])


# -- phases ---------------------------------------------------------------------------------------

def online_times(world: BenchWorld, names: List[str], timeout: float = 120.0
                 ) -> Tuple[float, Dict[str, float], Dict[str, List[str]]]:
    """Start the hub; return (seconds until all were online, each machine's, the states each
    went through)."""
    t0 = time.monotonic()
    world.start_hub(timeout=30)
    first: Dict[str, float] = {}
    seen: Dict[str, List[str]] = {n: [] for n in names}
    while len(first) < len(names):
        if time.monotonic() - t0 > timeout:
            raise AssertionError("not all online in %.0f s: %s\n%s" % (
                timeout, sorted(set(names) - set(first)), world.hub_log()))
        state = world.get("/api/state") or {}
        now = time.monotonic() - t0
        for m in state.get("machines", []):
            what = m["state"] + (": " + m["error"] if m["error"] else "")
            if m["name"] in seen and (not seen[m["name"]] or seen[m["name"]][-1] != what):
                seen[m["name"]].append(what)
            if m["state"] == "online" and m["name"] not in first:
                first[m["name"]] = now
        time.sleep(0.1)
    return max(first.values()), first, seen


def dropped(log: str) -> int:
    """Return how many connections sshd dropped past MaxStartups in this part of its log (it
    logs the first drop of a throttling period, then a count when the period ends)."""
    total = sum(int(m) for m in re.findall(r"MaxStartups throttling after \S+, (\d+) conn", log))
    return max(total, log.count("past MaxStartups"))


def sends(log: str) -> str:
    """Return how many zipapp sends this part of the hub's log has, and how long they spanned
    (the hub sends one at a time)."""
    at = [time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")) + float("0." + line[20:23])
          for line in log.splitlines() if " sent amc-" in line]
    return "%d, %.1f s from the first to the last" % (len(at), max(at) - min(at)) if at else "0"


def stop_hub(world: BenchWorld) -> None:
    """Stop the hub and check its ssh children went with it (killed by pid if not)."""
    hub = world.hub.pid
    kids = [p for p, (pp, _, _) in processes().items() if pp == hub]
    world.stop_hub()
    deadline = time.monotonic() + 5
    left = kids
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in kids if os.path.exists("/proc/%d" % p)]
    for p in left:
        print("  (hub child %d outlived the hub; killed)" % p)
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def latency(world: BenchWorld, plan: List[Tuple[str, str, int]]) -> Dict[str, List[float]]:
    """Run each (machine, session id, j) hook; return per machine kind the hook -> event times,
    the hook's exit times and how many events never came."""
    sse = b.SSE(world.port)
    assert sse.next(timeout=30)["event"] == "snapshot"
    sse.quiet(0.5)
    out: Dict[str, List[float]] = {"remote": [], "local": [], "remote exit": [], "local exit": [],
                                   "remote lost": [], "local lost": []}
    for k, (name, sid, j) in enumerate(plan):
        kind = "local" if name == LOCAL else "remote"
        text = "bench prompt %d %s" % (k, uuid.uuid4().hex[:8])
        hub_id = name + ":" + sid if name else sid
        t0, waiter, exited = world.run_hook(name, world.prompt(name, sid, j, text))
        try:
            sse.until(lambda e: e["event"] == "session" and e["data"]["session_id"] == hub_id
                      and e["data"].get("last_message_preview") == text, EVENT_TIMEOUT_S)
            out[kind].append(time.perf_counter() - t0)
        except AssertionError:
            out[kind].append(EVENT_TIMEOUT_S)
            out[kind + " lost"].append(1)
        waiter.join()
        out[kind + " exit"].append(exited[0] - t0)
    sse.close()
    return out


def figures(label: str, xs: List[float], target: str = "") -> None:
    print("  %-28s p50 %7s ms  p95 %7s ms  max %7s ms  (n=%d)%s" % (
        label, b.ms(b.median(xs)), b.ms(b.pct(xs, 95)), b.ms(max(xs)), len(xs),
        "  " + target if target else ""))


def make_all(world: BenchWorld, sessions: int) -> Dict[str, List[str]]:
    """Make `sessions` sessions on every machine and the hub's own; return their ids by machine."""
    names = [LOCAL] + world.many.names
    with ThreadPoolExecutor(4) as pool:
        sids = dict(zip(names, pool.map(lambda a: world.make_sessions(a[1], a[0], sessions),
                                        enumerate(names))))
    for role in ["client"] + world.many.roles:
        world.chown(role)
    os.sync()  # no writeback of the new files under a timed hook
    return sids


def startup(world: BenchWorld, sids: Dict[str, List[str]]) -> None:
    """Add every machine, start the hub cold then warm; print how long until all were online."""
    names = world.many.names
    if world.hub is not None:
        stop_hub(world)  # a running hub would follow remotes.json as it grows
    t0 = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(world.add, names))
    print("\nstartup: `amc remote add` x%d (4 at a time, each probes) %.1f s" % (
        len(names), time.monotonic() - t0))
    for label in ("cold (zipapp sent to each)", "warm (hub restarted)"):
        if world.hub is not None:
            stop_hub(world)
        sshd0, hub0 = len(world.many.sshd_log()), len(world.hub_log(0))
        total, first, seen = online_times(world, names)
        times = sorted(first.values())
        through: Dict[str, int] = {}
        for name in names:
            for what in seen[name][:-1]:
                key = what.replace(name, "<m>")
                through[key] = through.get(key, 0) + 1
        print("  %-27s all %d online %.1f s after the hub's start (first %.1f, median %.1f); "
              "states passed through: %s; sshd dropped %d connections (MaxStartups); "
              "zipapps sent: %s" % (
                  label, len(names), total, times[0], b.median(times), through or "none",
                  dropped(world.many.sshd_log()[sshd0:]), sends(world.hub_log(0)[hub0:])))
    print("  sshd accepted %d connections in all" % (
        world.many.sshd_log().count("Accepted publickey")))
    want = {name + ":" + sid for name in names for sid in sids[name]} | set(sids[LOCAL])
    shown = world.wait(lambda: want <= set(world.sessions()) and world.sessions(), 30,
                       "every machine's sessions at the hub")
    own = all(shown[name + ":" + sid]["machine"] == name for name in names for sid in sids[name])
    print("  sessions at the hub: %d (%d per machine, each shown under its own machine: %s)"
          % (len(shown), len(sids[LOCAL]), own))
    assert len(shown) == len(want) and own, "a machine's sessions are not its own"


def print_latency(lat: Dict[str, List[float]], lat0: Dict[str, List[float]],
                  machines: int) -> None:
    print("\nhook start -> its session event on the hub's /api/stream (alternating; the hook "
          "is `python3 -S bin/amc-hook` as the machine's user)")
    figures("remote (rotating over %d)" % machines, lat["remote"], "target p95 < 500 ms")
    figures("local, same hub", lat["local"])
    if lat0:
        figures("local, hub without remotes", lat0["local"])
    figures("remote hook exit", lat["remote exit"])
    figures("local hook exit", lat["local exit"])
    over = [a - e for a, e in zip(lat["remote"], lat["remote exit"])]
    print("  remote event - its hook's exit: p50 %s ms; lost (no event in %.0f s): remote "
          "%d, local %d" % (b.ms(b.median(over)), EVENT_TIMEOUT_S, len(lat["remote lost"]),
                            len(lat["local lost"])))


def main() -> None:
    machines = b.env_int("MACHINES", 20)
    users = b.env_int("USERS", 4)
    sessions = b.env_int("SESSIONS", 3)
    idle_s = b.env_int("IDLE_S", 60)
    runs = b.env_int("RUNS", 200)
    local0 = b.env_int("LOCAL0_RUNS", 50)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up on kill too
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(1))
    print("bench_remote  %s  %s  %s" % (time.strftime("%Y-%m-%d %H:%M"), b.machine(),
                                        _run(["ssh", "-V"]).strip()))
    started = time.monotonic()
    world = BenchWorld(require_root_sshd(), machines, users)
    try:
        t0 = time.monotonic()
        world.start()
        names = world.many.names
        t1 = time.monotonic()
        sids = make_all(world, sessions)
        print("\nsetup: sshd and %d users %.1f s; %d sessions on each of %d machines + the hub's "
              "own by the real hook %.1f s; %d machines as Host aliases over %d users" % (
                  users + 1, t1 - t0, sessions, machines, time.monotonic() - t1, machines, users))

        # 1. the baseline: the hub with no remotes
        world.start_hub()
        time.sleep(2.5)  # past the first reconcile
        print("\nidle, one stream client (hub CPU from /proc/<pid>/stat utime+stime)")
        base = idle(world, idle_s)
        print_idle("baseline, no remotes", base)
        plan0 = [(LOCAL, sids[LOCAL][k % sessions], k % sessions) for k in range(local0)]
        lat0 = latency(world, plan0) if local0 else {}

        # 2. the remotes added, the hub started cold, then warm
        startup(world, sids)
        time.sleep(5.0)  # every machine past its first heartbeat

        # 3. idle with every machine online
        print("\nidle, %d machines online, one stream client" % machines)
        got = idle(world, idle_s)
        print_idle("%d remotes" % machines, got, target=True)
        hub_share, ssh_share = (100 * got[g][0] / got["span"] for g in ("hub", "ssh"))
        extra = got["hub"][0] / got["span"] - base["hub"][0] / base["span"]
        print("  hub + its ssh children: %.2f %% of a core; the hub minus the baseline: %.2f %% "
              "(about %.2f ms of hub CPU per remote heartbeat line, one per machine per 5 s)" % (
                  hub_share + ssh_share, 100 * extra, 1e3 * extra * 5.0 / machines))
        states = [m["state"] for m in world.state()["machines"]]
        print("  machines online at the end: %d of %d" % (states.count("online"), machines))

        # 4. remote events -> the hub's stream, alternating with local ones
        plan = []
        for k in range(runs):
            name, j = names[k % machines], (k // machines) % sessions
            plan += [(name, sids[name][j], j), (LOCAL, sids[LOCAL][k % sessions], k % sessions)]
        print_latency(latency(world, plan), lat0, machines)
        rss, hwm = b.proc_memory(world.hub.pid)
        hub_log = world.hub_log(0).splitlines()
        print("\nhub RSS %.0f MB (peak %.0f MB); hub log %d lines, %d warnings/errors; whole bench "
              "%.0f s" % (rss, hwm, len(hub_log), sum(1 for line in hub_log if " WARNING " in line
                                                      or " ERROR " in line),
                          time.monotonic() - started))
    finally:
        keep = os.environ.get("KEEP_LOGS")
        for name in ("hub.log", "sshd.log") if keep and world.many.tmp else ():
            if os.path.exists(os.path.join(world.many.tmp, name)):
                os.makedirs(keep, exist_ok=True)
                shutil.copy(os.path.join(world.many.tmp, name), keep)
        world.stop()


if __name__ == "__main__":
    main()
