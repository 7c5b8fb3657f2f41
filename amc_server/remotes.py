"""`amc remote add|remove|list|status`: the machines AMC reaches over the user's own `ssh`.

Place in the flow (several machines): this module keeps the list of remotes in
`<data dir>/remotes.json` and checks that each one answers; the hub's stream (issue 10) reads the
same list. AMC invents no network protocol and no auth: it runs the system `ssh` with the user's
keys, agent, `known_hosts` and `~/.ssh/config`, and adds only options that make it fail fast and
never prompt. Trade-offs, on purpose:
- `BatchMode=yes`: no password or host-key prompt can hang a background process, so an unknown
  host key is an error the user fixes once with a plain `ssh NAME` (AMC never accepts keys for them
  and never weakens `StrictHostKeyChecking` or `UserKnownHostsFile`);
- `ControlMaster=no`, `ControlPath=none`: a connection of AMC's own, so a user's multiplexed master
  (and its `MaxSessions`) is neither borrowed nor kept alive by AMC;
- names and targets that start with `-` are refused (they would be read as ssh options), and the
  remote command is fixed words only: ssh joins its remote argv with spaces for the remote shell,
  so user text must never go there.
"""
import fcntl
import os
import re
import shlex
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, List, Mapping, NamedTuple, Optional, Sequence

from . import store
from .paths import Paths
from .terminals.base import Result, find_binary

VERSION = 1  # remotes.json's format
MIN_PYTHON = (3, 9)
PROBE_TIMEOUT_S = 30.0  # ConnectTimeout covers the TCP connect; this bounds the whole call
STATUS_WORKERS = 8
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
SSH_OPTIONS = ("-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
               "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=2",
               "-o", "ControlMaster=no", "-o", "ControlPath=none")
# Runs in the remote user's shell after ssh joins the words: no ', \, $ or ! in it, so one pair of
# single quotes keeps it one word in sh, bash, zsh and fish.
PROBE_CODE = 'import sys; print("amc-python", *sys.version_info[:3])'
PROBE_COMMAND = ("python3", "-c", shlex.quote(PROBE_CODE))
_PROBE_ANSWER = re.compile(r"^amc-python (\d+) (\d+) (\d+)\s*$", re.M)

# runner(argv, timeout seconds) -> Result; tests record or replace it
Runner = Any


class RemoteError(Exception):
    """A remote cannot be added, found or reached; the message says why, for a person."""


class Remote(NamedTuple):
    name: str
    target: str
    added_at: str = ""
    python: str = ""


class Probe(NamedTuple):
    ok: bool
    message: str     # "Python 3.11.2", or what is wrong in words
    python: str = ""


def check_name(name: str) -> None:
    """Raise RemoteError unless `name` is a simple identifier (letters, digits, `-_.`)."""
    if name.startswith("-"):
        raise RemoteError("a remote's name must not start with '-' (ssh would read it as an "
                          "option): %r" % name)
    if not NAME_RE.match(name):
        raise RemoteError("a remote's name is letters, digits, '-', '_' and '.' (at most 64, "
                          "not starting with '.' or '-'): %r" % name)


def check_target(target: str) -> None:
    """Raise RemoteError when `target` could be read as an ssh option or is not one word."""
    if target.startswith("-"):
        raise RemoteError("an ssh target must not start with '-' (ssh would read it as an "
                          "option): %r" % target)
    if not target or any(c.isspace() or not c.isprintable() for c in target):
        raise RemoteError("an ssh target is one word (user@host, host, or a Host alias from "
                          "~/.ssh/config): %r" % target)


def ssh_argv(ssh: str, target: str, command: Sequence[str]) -> List[str]:
    """Return the argv that runs fixed `command` words on `target` over a connection of AMC's own."""
    check_target(target)
    return [ssh, *SSH_OPTIONS, target, "--", *command]


def probe_argv(ssh: str, target: str) -> List[str]:
    """Return the argv that asks `target`'s `python3` for its version."""
    return ssh_argv(ssh, target, PROBE_COMMAND)


def run(argv: Sequence[str], timeout: float = PROBE_TIMEOUT_S) -> Result:
    """Run `argv` (no shell, stdin empty) and return its result; a timeout is exit code -1."""
    try:
        proc = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, close_fds=True)
    except subprocess.TimeoutExpired:
        return Result(-1, "", "no answer within %.0f s" % timeout)
    except OSError as e:
        raise RemoteError("cannot run %s: %s" % (argv[0], e)) from e
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                  proc.stderr.decode("utf-8", "replace"))


_SSH_FAILURES = (  # (text in ssh's stderr, what it means); first match wins
    ("REMOTE HOST IDENTIFICATION HAS CHANGED",
     "the host key has CHANGED since you last connected (ssh refused it; if the change is "
     "expected, fix ~/.ssh/known_hosts, e.g. `ssh-keygen -R HOST`, then `ssh {target}` once)"),
    ("Host key verification failed",
     "unknown host key: ssh has not seen this machine before (run `ssh {target}` once "
     "yourself and check the fingerprint; AMC never accepts host keys for you)"),
    ("Permission denied", "authentication refused (no key or agent identity that this machine "
     "accepts; `ssh {target}` must log in without a password prompt)"),
    ("Could not resolve hostname", "unknown host name (not in DNS or ~/.ssh/config)"),
    ("Connection refused", "connection refused (no SSH server listening there)"),
    ("timed out", "host unreachable: connection timed out"),
    ("No route to host", "host unreachable: no route to host"),
    ("Network is unreachable", "host unreachable: network is unreachable"),
    ("Connection closed", "the connection was closed by the remote side"),
    ("Connection reset", "the connection was reset"),
)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def explain(result: Result, target: str) -> Probe:
    """Turn the probe's result into online (with the Python version) or what is wrong, in words."""
    found = _PROBE_ANSWER.search(result.stdout)
    if result.returncode == 0 and found:
        version = tuple(int(x) for x in found.groups())
        text = "%d.%d.%d" % version
        if version[:2] < MIN_PYTHON:
            return Probe(False, "python3 there is too old: %s (AMC needs %d.%d or newer)"
                         % ((text,) + MIN_PYTHON), text)
        return Probe(True, "Python " + text, text)
    if result.returncode == -1:
        return Probe(False, "host unreachable: " + result.stderr)
    if result.returncode == 255:  # ssh's own failure
        for needle, words in _SSH_FAILURES:
            if needle in result.stderr:
                return Probe(False, words.format(target=target))
        return Probe(False, "ssh failed: %s" % (_last_line(result.stderr) or "exit 255"))
    err = result.stderr
    if result.returncode == 127 or "command not found" in err or "python3: not found" in err:
        return Probe(False, "no python3 there (not on the PATH of the remote user's "
                     "non-interactive shell; AMC needs python3 %d.%d or newer)" % MIN_PYTHON)
    if result.returncode == 0:
        return Probe(False, "python3 there answered something AMC does not understand: %r"
                     % (_last_line(result.stdout) or "(nothing)"))
    return Probe(False, "python3 there failed (exit %d): %s"
                 % (result.returncode, _last_line(err) or "no message"))


def remotes_file(paths: Paths) -> str:
    """Return `<data dir>/remotes.json` (paths.py owns it)."""
    return paths.remotes_file


def load(paths: Paths) -> List[Remote]:
    """Return the stored remotes; a missing or broken file, or bad entries, read as none."""
    doc = store.read_json(remotes_file(paths))
    items = doc.get("remotes") if isinstance(doc, dict) else None
    out: List[Remote] = []
    seen = set()
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        name, target = item.get("name"), item.get("target")
        if not isinstance(name, str) or not isinstance(target, str) or name in seen:
            continue
        try:
            check_name(name)
            check_target(target)
        except RemoteError:
            continue
        seen.add(name)
        out.append(Remote(name, target, str(item.get("added_at") or ""),
                          str(item.get("python") or "")))
    return out


def _save(paths: Paths, remotes: List[Remote]) -> None:
    store.write_json_atomic(remotes_file(paths), {
        "version": VERSION, "remotes": [r._asdict() for r in remotes]}, indent=2)


class _Locked:
    """An exclusive flock on `<data dir>/remotes.lock` for a read-modify-write."""

    def __init__(self, paths: Paths) -> None:
        self.path = os.path.join(paths.data, "remotes.lock")
        self.fd = -1

    def __enter__(self) -> "_Locked":
        store.ensure_dir(os.path.dirname(self.path))
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing releases the lock


class Remotes:
    """The remotes of one data dir, reached through `ssh` found like the multiplexers."""

    def __init__(self, paths: Paths, env: Optional[Mapping[str, str]] = None,
                 runner: Runner = run) -> None:
        self.paths = paths
        self.env = dict(os.environ if env is None else env)
        self.runner = runner

    def ssh(self) -> str:
        """Return the path of `ssh` or raise RemoteError saying where AMC looked."""
        path = find_binary("ssh", self.env)
        if path is None:
            raise RemoteError("ssh (OpenSSH's client) is not installed where AMC can find it "
                              "(looked on PATH and in the usual install locations)")
        return path

    def probe(self, target: str) -> Probe:
        """Connect to `target` once and report whether AMC can work there."""
        return explain(self.runner(probe_argv(self.ssh(), target), PROBE_TIMEOUT_S), target)

    def add(self, name: str, target: Optional[str] = None) -> Remote:
        """Check `target` (default `name`) answers with python3 3.9+, then store it as `name`."""
        check_name(name)
        target = name if target is None else target
        check_target(target)
        result = self.probe(target)
        if not result.ok:
            raise RemoteError("cannot add %s (ssh %s): %s" % (name, target, result.message))
        remote = Remote(name, target, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        result.python)
        with _Locked(self.paths):
            kept = [r for r in load(self.paths) if r.name != name]
            _save(self.paths, kept + [remote])
        return remote

    def remove(self, name: str) -> Remote:
        """Forget the remote `name`; raise RemoteError when there is none."""
        with _Locked(self.paths):
            remotes = load(self.paths)
            gone = [r for r in remotes if r.name == name]
            if not gone:
                raise RemoteError("no remote named %r (see `amc remote list`)" % name)
            _save(self.paths, [r for r in remotes if r.name != name])
        return gone[0]

    def status(self) -> List[tuple]:
        """Probe every remote in parallel (bounded); return [(Remote, Probe)] in list order."""
        remotes = load(self.paths)
        if not remotes:
            return []
        self.ssh()  # one clear error instead of one per remote

        def one(remote: Remote) -> Probe:
            try:
                return self.probe(remote.target)
            except RemoteError as e:
                return Probe(False, str(e))
        with ThreadPoolExecutor(max_workers=min(STATUS_WORKERS, len(remotes))) as pool:
            return list(zip(remotes, pool.map(one, remotes)))


def main(paths: Paths, action: str, name: Optional[str] = None, target: Optional[str] = None,
         out: Any = None, err: Any = None, remotes: Optional[Remotes] = None) -> int:
    """Run `amc remote ACTION`; print to `out`/`err`; return the exit code."""
    import sys
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    remotes = Remotes(paths) if remotes is None else remotes
    try:
        if action in ("add", "remove") and not name:
            raise RemoteError("`amc remote %s` needs a NAME" % action)
        if action in ("list", "status", "remove") and target is not None:
            raise RemoteError("`amc remote %s` takes no TARGET" % action)
        if action in ("list", "status") and name is not None:
            raise RemoteError("`amc remote %s` takes no NAME" % action)
        if action == "add":
            remote = remotes.add(name, target)
            print("added %s (ssh %s): Python %s" % (remote.name, remote.target, remote.python),
                  file=out)
            return 0
        if action == "remove":
            remote = remotes.remove(name)
            print("removed %s (ssh %s)" % (remote.name, remote.target), file=out)
            return 0
        if action == "list":
            listed = load(paths)
            if not listed:
                print("no remotes (add one with `amc remote add NAME [TARGET]`)", file=out)
            for r in listed:
                print("%s\t%s" % (r.name, r.target), file=out)
            return 0
        if action == "status":
            rows = remotes.status()
            if not rows:
                print("no remotes (add one with `amc remote add NAME [TARGET]`)", file=out)
            for r, p in rows:
                print("%s\t%s\t%s" % (r.name, "online" if p.ok else "offline",
                                      p.message), file=out)
            return 0 if all(p.ok for _, p in rows) else 1
    except RemoteError as e:
        print("amc: %s" % e, file=err)
        return 1
    raise ValueError("unknown remote action %r" % action)
