"""How AMC runs the user's own `ssh`: the fixed options, the argv, and ssh's failures in words.

Place in the flow (several machines): every connection AMC makes to another machine (the probe of
`amc remote add`, shipping the zipapp, the hub's stream, answer calls) is built here. AMC invents
no network protocol and no auth: it runs the system `ssh` with the user's keys, agent,
`known_hosts` and `~/.ssh/config`, and adds only options that make it fail fast and never prompt.
Trade-offs, on purpose:
- `BatchMode=yes`: no password or host-key prompt can hang a background process, so an unknown
  host key is an error the user fixes once with a plain `ssh NAME` (AMC never accepts keys for them
  and never weakens `StrictHostKeyChecking` or `UserKnownHostsFile`);
- `ControlMaster=no`, `ControlPath=none`: a connection of AMC's own, so a user's multiplexed master
  (and its `MaxSessions`) is neither borrowed nor kept alive by AMC;
- names and targets that start with `-` are refused (they would be read as ssh options), and the
  remote command is fixed words only: ssh joins its remote argv with spaces for the remote shell,
  so user text (and anything a remote sent) never goes there; bodies go on stdin.
"""
import re
import shlex
import subprocess
from typing import Any, List, Mapping, NamedTuple, Optional, Sequence

from ..terminals.base import Result, find_binary

MIN_PYTHON = (3, 9)
PROBE_TIMEOUT_S = 30.0  # ConnectTimeout covers the TCP connect; this bounds the whole call
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


def run(argv: Sequence[str], timeout: float = PROBE_TIMEOUT_S,
        stdin: Optional[bytes] = None) -> Result:
    """Run `argv` (no shell) with `stdin` (default empty) and return its result; a timeout is
    exit code -1."""
    try:
        proc = subprocess.run(list(argv), input=stdin if stdin is not None else b"",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              close_fds=True)
    except subprocess.TimeoutExpired:
        return Result(-1, "", "no answer within %.0f s" % timeout)
    except OSError as e:
        raise RemoteError("cannot run %s: %s" % (argv[0], e)) from e
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                  proc.stderr.decode("utf-8", "replace"))


def find_ssh(env: Mapping[str, str]) -> str:
    """Return the path of `ssh` (PATH, then the usual places) or raise RemoteError."""
    path = find_binary("ssh", env)
    if path is None:
        raise RemoteError("ssh (OpenSSH's client) is not installed where AMC can find it "
                          "(looked on PATH and in the usual install locations)")
    return path


def ssh_failure(stderr: str, target: str) -> Optional[str]:
    """Return what ssh's own failure (exit 255) means, in words; None when nothing matched."""
    for needle, words in _SSH_FAILURES:
        if needle in stderr:
            return words.format(target=target)
    return None


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


def last_line(text: str) -> str:
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
        return Probe(False, ssh_failure(result.stderr, target) or
                     "ssh failed: %s" % (last_line(result.stderr) or "exit 255"))
    err = result.stderr
    if result.returncode == 127 or "command not found" in err or "python3: not found" in err:
        return Probe(False, "no python3 there (not on the PATH of the remote user's "
                     "non-interactive shell; AMC needs python3 %d.%d or newer)" % MIN_PYTHON)
    if result.returncode == 0:
        return Probe(False, "python3 there answered something AMC does not understand: %r"
                     % (last_line(result.stdout) or "(nothing)"))
    return Probe(False, "python3 there failed (exit %d): %s"
                 % (result.returncode, last_line(err) or "no message"))


