"""Several machines for tests: a hub and two remote machines over a real OpenSSH server.

`RemoteWorld` is tests/support/sshd.py's `SshWorld` (a private `sshd` on a loopback port, one local
user per machine) plus the hub: `bin/amc serve` run as the client user on a free port, whose
`remotes.json` names `m1` and `m2` (`add()` runs the real `bin/amc remote add`). Each remote
machine is its own user with its own HOME, so its own data dir; `hook(role, payload)` runs the
real `bin/amc-hook` there as that user, as that machine's Claude Code would. Nothing on the remotes
but `python3`: the hub ships its zipapp itself on first contact.
"""
import json
import os
import pwd
import shutil
import subprocess
import time
import urllib.request
from typing import Any, Callable, Dict, List, Optional

from tests.support.helpers import copy_transcript_as_of
from tests.support.sshd import ROOT, USER_PATH, SshWorld, free_port, require_root_sshd  # noqa: F401

HOOK = os.path.join(ROOT, "bin", "amc-hook")
AMC = os.path.join(ROOT, "bin", "amc")
ROLES = {"m1": "remote", "m2": "remote2"}
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "claude-code-2.1.329")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class RemoteWorld:
    """A hub (the client user) and machines m1, m2 (their own users), all on this host."""

    def __init__(self, sshd: str) -> None:
        self.sshd = sshd
        self.ssh = SshWorld()
        self.hub: Optional[subprocess.Popen] = None
        self.port = 0

    def start(self) -> "RemoteWorld":
        self.ssh.start(self.sshd)
        return self

    # -- the users ------------------------------------------------------------------------------

    def env(self, role: str, **extra: str) -> Dict[str, str]:
        entry = pwd.getpwnam(self.ssh.users[role])
        env = {"HOME": entry.pw_dir, "PATH": USER_PATH, "LANG": "C.UTF-8",
               "USER": entry.pw_name, "LOGNAME": entry.pw_name}
        env.update(extra)
        return env

    def _ids(self, role: str) -> Dict[str, Any]:
        entry = pwd.getpwnam(self.ssh.users[role])
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def run_as(self, role: str, argv: List[str], stdin: bytes = b"",
               timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout,
                              env=self.env(role, **env), cwd=self.home(role),
                              **self._ids(role))

    def home(self, role: str) -> str:
        return pwd.getpwnam(self.ssh.users[role]).pw_dir

    def data_dir(self, machine: str) -> str:
        return os.path.join(self.home(ROLES[machine]), ".local", "share", "amc")

    def cache_dir(self, machine: str) -> str:
        return os.path.join(self.home(ROLES[machine]), ".cache", "amc")

    def hook(self, machine: str, payload: Dict[str, Any]) -> None:
        """Run the real hook on `machine` (as its user) with `payload` on stdin."""
        done = self.run_as(ROLES[machine], ["python3", "-S", HOOK],
                           json.dumps(payload).encode())
        assert done.returncode == 0, done.stderr

    def feed(self, machine: str, scenario: str, session_id: str, upto: Optional[int] = None,
             project: str = "demo-proj", pane: str = "") -> str:
        """Replay a recorded Claude Code scenario on `machine`: its transcript where that
        machine's Claude keeps it, its hook payloads through that machine's hook. Return the
        transcript's path there."""
        role = ROLES[machine]
        folder = os.path.join(self.home(role), ".claude", "projects", "-home-dev-work-" + project)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, session_id + ".jsonl")
        with open(os.path.join(FIXTURES, scenario, "hooks.jsonl")) as f:
            payloads = [json.loads(line)["payload"] for line in f if line.strip()]
        copy_transcript_as_of(os.path.join(FIXTURES, scenario, "transcript.jsonl"), path,
                              payloads, upto)
        self.chown(role)
        extra = {"TMUX": "/tmp/tmux-0/default,1,0", "TMUX_PANE": pane} if pane else {}
        for p in payloads[:upto]:
            p = dict(p, session_id=session_id, transcript_path=path,
                     cwd="/home/dev/work/" + project)
            done = self.run_as(role, ["python3", "-S", HOOK], json.dumps(p).encode(), **extra)
            assert done.returncode == 0, done.stderr
        return path

    def chown(self, role: str) -> None:
        self.ssh._chown(role)

    # -- the hub --------------------------------------------------------------------------------

    def add(self, *names: str) -> None:
        for name in names:
            done = self.ssh.run_amc("remote", "add", name)
            assert done.returncode == 0, done.stderr + self.ssh.log()

    def start_hub(self, timeout: float = 20.0) -> None:
        self.port = self.port or free_port()
        log = open(os.path.join(self.ssh.tmp, "hub.log"), "ab")
        self.hub = subprocess.Popen(
            ["python3", AMC, "serve", "--port", str(self.port)], stdin=subprocess.DEVNULL,
            stdout=log, stderr=log, env=self.env("client"), cwd=self.home("client"),
            start_new_session=True, **self._ids("client"))
        log.close()
        self.wait(lambda: self.get("/api/state") is not None, timeout, "the hub answers")

    def stop_hub(self) -> None:
        if self.hub is not None and self.hub.poll() is None:
            self.hub.terminate()
            try:
                self.hub.wait(10)
            except subprocess.TimeoutExpired:
                self.hub.kill()
                self.hub.wait()
        self.hub = None

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    def token(self) -> str:
        with open(self.ssh.data_file("token")) as f:
            return f.read().strip()

    def get(self, path: str) -> Optional[Any]:
        try:
            with _OPENER.open(self.url + path, timeout=60) as r:
                return json.loads(r.read())
        except OSError:
            return None

    def request(self, method: str, path: str, body: Any = None) -> tuple:
        """Return (status, JSON answer) of one hub request, errors included."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "X-AMC-Token": self.token(), "Content-Type": "application/json"})
        try:
            with _OPENER.open(req, timeout=120) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def state(self) -> Dict[str, Any]:
        state = self.get("/api/state")
        assert state is not None, "the hub does not answer: " + self.hub_log()
        return state

    def sessions(self) -> Dict[str, Dict[str, Any]]:
        return {s["session_id"]: s for s in self.state()["sessions"]}

    def machines(self) -> Dict[str, Dict[str, Any]]:
        return {m["name"]: m for m in self.state()["machines"]}

    def wait(self, pred: Callable[[], Any], timeout: float = 20.0, what: Any = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            got = pred()
            if got:
                return got
            if time.monotonic() > deadline:
                what = what() if callable(what) else what
                raise AssertionError("timed out waiting for %s\nhub log:\n%s\nsshd log:\n%s" % (
                    what or pred, self.hub_log(), self.ssh.log()))
            time.sleep(0.05)

    def hub_log(self, tail: int = 4000) -> str:
        """Return the end of the hub's log (all of it with `tail=0`)."""
        try:
            with open(os.path.join(self.ssh.tmp, "hub.log"), errors="replace") as f:
                return f.read()[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        self.stop_hub()
        self.ssh.stop()


def start_world(add_cleanup: Callable[..., None]) -> RemoteWorld:
    """Start a world (stopped through `add_cleanup`, a test's or a class's): m1 and m2 added,
    the hub up."""
    world = RemoteWorld(require_root_sshd()).start()
    add_cleanup(world.stop)
    world.add("m1", "m2")
    world.start_hub()
    return world


def remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
