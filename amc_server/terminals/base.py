"""What every terminal backend shares: its errors, the command runner and the binary finder.

A backend (tmux.py, zellij.py, noop.py) builds argv with pure functions and runs them through a
`Runner`, so tests can record the exact commands and the server can put a timeout on each one. The
server may have been started by launchd or systemd with a minimal PATH, so binaries are looked up
with `shutil.which` and then in the usual Homebrew, Nix, Cargo and system locations.
"""
import os
import shutil
import subprocess
from http import HTTPStatus
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence

from ..errors import ApiError

COMMAND_TIMEOUT_S = 5.0
FALLBACK_DIRS = ("/opt/homebrew/bin", "/usr/local/bin", "/home/linuxbrew/.linuxbrew/bin",
                 "~/.nix-profile/bin", "/run/current-system/sw/bin", "~/.cargo/bin",
                 "~/.local/bin", "/snap/bin", "/usr/bin", "/bin")


class DeliveryError(ApiError):
    """The answer could not be delivered; the message says why, for a person."""
    status = HTTPStatus.BAD_GATEWAY


class NoPane(DeliveryError):
    """AMC does not know which terminal pane the session runs in."""
    status = HTTPStatus.CONFLICT


class PaneGone(DeliveryError):
    """The recorded pane (or its multiplexer server) no longer exists."""
    status = HTTPStatus.GONE


class MultiplexerMissing(DeliveryError):
    """The multiplexer binary (or a plugin it needs) is not installed where AMC can find it."""
    status = HTTPStatus.SERVICE_UNAVAILABLE


class CommandFailed(DeliveryError):
    """A multiplexer command failed or timed out."""
    status = HTTPStatus.BAD_GATEWAY


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


# runner(argv, stdin bytes or None, timeout seconds, extra environment) -> Result
Runner = Callable[[Sequence[str], Optional[bytes], float, Optional[Mapping[str, str]]], Result]


def run(argv: Sequence[str], stdin: Optional[bytes] = None, timeout: float = COMMAND_TIMEOUT_S,
        env: Optional[Mapping[str, str]] = None) -> Result:
    """Run `argv` (never through a shell) and return its result; raise on timeout or no binary."""
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        proc = subprocess.run(list(argv), input=stdin if stdin is not None else b"",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              env=full_env, close_fds=True)
    except FileNotFoundError as e:
        raise MultiplexerMissing("%s is not installed (or not executable): %s"
                                 % (os.path.basename(argv[0]), e)) from e
    except subprocess.TimeoutExpired as e:
        raise CommandFailed("%s did not finish within %.0f s"
                            % (" ".join(_brief(a) for a in argv[:4]), timeout)) from e
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                  proc.stderr.decode("utf-8", "replace"))


def _brief(arg: str) -> str:
    return arg if len(arg) <= 40 else arg[:37] + "..."


def find_binary(name: str, env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """Return the absolute path of `name`: PATH first, then the usual install locations."""
    env = os.environ if env is None else env
    found = shutil.which(name, path=env.get("PATH") or os.defpath)
    if found:
        return os.path.abspath(found)
    home = env.get("HOME") or os.path.expanduser("~")
    for directory in FALLBACK_DIRS:
        if directory.startswith("~"):
            directory = home + directory[1:]
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_binary(name: str, env: Optional[Mapping[str, str]] = None) -> str:
    """Return the path of `name` or raise MultiplexerMissing naming where AMC looked."""
    path = find_binary(name, env)
    if path is None:
        raise MultiplexerMissing(
            "%s is not installed where AMC can find it (looked on PATH and in %s)"
            % (name, ", ".join(FALLBACK_DIRS)))
    return path


class Backend:
    """A terminal backend: `applies` to a session, `deliver`s a plan to its pane."""

    name = "base"

    def __init__(self, runner: Runner = run, env: Optional[Mapping[str, str]] = None) -> None:
        self.runner = runner
        self.env: Dict[str, str] = dict(os.environ if env is None else env)

    def applies(self, session: Mapping[str, object]) -> bool:
        """Tell whether the session's recorded pane belongs to this multiplexer."""
        raise NotImplementedError

    def where(self, session: Mapping[str, object]) -> str:
        """Return where answers go, for messages ("tmux pane %3")."""
        raise NotImplementedError

    def check(self, session: Mapping[str, object]) -> None:
        """Raise a DeliveryError unless the pane exists and can take keys (types nothing)."""
        raise NotImplementedError

    def deliver(self, session: Mapping[str, object], plan: List) -> None:
        """Carry out `plan` (keystrokes.Step list) in the session's pane, or raise DeliveryError."""
        raise NotImplementedError

    def capture(self, session: Mapping[str, object]) -> str:
        """Return the pane's visible text, or '' when this multiplexer cannot show it."""
        return ""


def sleep_ms(ms: int) -> None:
    """Pause between steps (a function so tests can see it is honoured)."""
    import time
    time.sleep(ms / 1000.0)
