"""Zellij: type into the session's recorded pane, by pane id, from outside the session.

The hook records `$ZELLIJ_SESSION_NAME` and `$ZELLIJ_PANE_ID`. Zellij before 0.44 can only type
into the focused pane, so AMC prefers, in this order (docs/answering.md has the sources):
1. the zellij-send-keys plugin (`action pipe --plugin file:<wasm> --name send_keys`), when its
   .wasm file is installed: it writes to a pane by id on any Zellij with pipes;
2. Zellij 0.44+'s own pane-targeted actions (`write-chars`/`paste`/`send-keys --pane-id`);
3. `write-chars` into whatever pane has focus, only when AMC_ALLOW_UNSAFE_WRITE_CHARS_FALLBACK=1.
Every command names the session with `--session` (Zellij then refuses a session it does not
know instead of picking the only running one) and also carries ZELLIJ_SESSION_NAME, which the
plugin's README uses. A plan is compiled to commands before anything runs, so a step no route can
send fails the whole answer with nothing typed. On 0.44+ the pane's screen is read with
`dump-screen --pane-id` (into a private temp file), so AMC can see dialogs as it does in tmux.
Everything here is Zellij syntax.
"""
import os
import re
import shutil
import tempfile
import threading
import time
from http import HTTPStatus
from typing import Callable, Dict, List, Mapping, Optional, Tuple, Union

from .. import keystrokes, store
from ..paths import zellij_plugin
from . import base
from .base import Backend, CommandFailed, DeliveryError, MultiplexerMissing, NoPane, PaneGone, Runner, find_binary, require_binary

LIST_TTL_S = 5.0             # how long a `list-sessions` answer is reused
VERSION_TTL_S = 300.0
PANE_ACTIONS = (0, 44, 0)    # first Zellij with write-chars/paste/send-keys --pane-id
PLUGIN_MAX_TEXT = 65536      # zellij-send-keys refuses longer text (in its log, not to AMC)
MAX_ARG_BYTES = 131071       # Linux MAX_ARG_STRLEN less the NUL: longer argv elements fail
UNSAFE = "AMC_ALLOW_UNSAFE_WRITE_CHARS_FALLBACK"
MAX_SCREEN_CHARS = 1 << 20
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
# keystrokes.KEYS -> Zellij 0.44 `send-keys` names (zellij-utils BareKey::from_str, modifiers first)
SEND_KEYS = {"Enter": "Enter", "Escape": "Esc", "Tab": "Tab", "BTab": "Shift Tab", "Up": "Up",
             "Down": "Down", "Left": "Left", "Right": "Right", "BSpace": "Backspace",
             "Space": "Space"}
# Keys that are one fixed byte in every terminal encoding: what the plugin and `write` can send.
# Arrows and BTab are escape sequences that depend on the pane's modes, so those routes refuse them.
KEY_BYTES = {"Enter": 13, "Tab": 9, "Space": 32, "BSpace": 127, "Escape": 27}
_PANE = re.compile(r"^(?:terminal_)?(\d+)$")
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_GONE = re.compile(r"Session '.*' not found|There is no active session|No active zellij sessions",
                   re.I)

Command = Union[List[str], int]  # an argv to run, or milliseconds to pause


def version_argv(zellij: str) -> List[str]:
    """Return argv printing `zellij 0.44.0`."""
    return [zellij, "--version"]


def list_argv(zellij: str) -> List[str]:
    """Return argv listing sessions, one per line, exited ones marked `(EXITED ...)`."""
    return [zellij, "list-sessions", "--no-formatting"]


def action_argv(zellij: str, session: str, *args: str) -> List[str]:
    """Return argv running `zellij action <args>` in the named session."""
    return [zellij, "--session", session, "action", *args]


def pipe_argv(zellij: str, session: str, plugin: str, pane: int, text: str,
              send_enter: bool = False) -> List[str]:
    """Return argv asking the zellij-send-keys plugin to write `text` to terminal pane `pane`."""
    payload = store.dumps({"pane_id": pane, "text": text, "send_enter": send_enter},
                          ensure_ascii=False, separators=(",", ":"))
    return action_argv(zellij, session, "pipe", "--plugin", "file:" + plugin,
                       "--name", "send_keys", "--", payload)


def write_chars_argv(zellij: str, session: str, pane: Optional[int], text: str) -> List[str]:
    """Return argv typing `text` into terminal pane `pane` (None: the focused pane, unsafe)."""
    target = ["--pane-id", "terminal_%d" % pane] if pane is not None else []
    return action_argv(zellij, session, "write-chars", *target, "--", text)


def paste_argv(zellij: str, session: str, pane: int, text: str) -> List[str]:
    """Return argv pasting `text` (bracketed) into terminal pane `pane` (Zellij 0.44+)."""
    return action_argv(zellij, session, "paste", "--pane-id", "terminal_%d" % pane, "--", text)


def send_keys_argv(zellij: str, session: str, pane: int, key: str) -> List[str]:
    """Return argv pressing keystrokes.KEYS `key` in terminal pane `pane` (Zellij 0.44+)."""
    return action_argv(zellij, session, "send-keys", "--pane-id", "terminal_%d" % pane, "--",
                       SEND_KEYS[key])


def dump_screen_argv(zellij: str, session: str, pane: int, path: str) -> List[str]:
    """Return argv writing the visible screen of terminal pane `pane` to `path` (Zellij 0.44+)."""
    return action_argv(zellij, session, "dump-screen", "--pane-id", "terminal_%d" % pane, path)


def write_bytes_argv(zellij: str, session: str, key: str) -> List[str]:
    """Return argv writing the byte of `key` to the focused pane (the unsafe fallback)."""
    return action_argv(zellij, session, "write", str(KEY_BYTES[key]))


def parse_version(text: str) -> Optional[Tuple[int, int, int]]:
    """Return (major, minor, patch) from `zellij --version` output, None if there is none."""
    match = _VERSION.search(text)
    return tuple(int(n) for n in match.groups()) if match else None  # type: ignore


def parse_sessions(text: str) -> Dict[str, bool]:
    """Return {session name: live} from `list-sessions --no-formatting` output."""
    sessions = {}
    for line in text.splitlines():
        if line.strip():
            name, _, rest = line.rstrip().partition(" [Created ")
            sessions[name.strip()] = "(EXITED" not in rest
    return sessions


class Zellij(Backend):
    name = "zellij"

    def __init__(self, runner: Runner = base.run, env: Optional[Mapping[str, str]] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(runner=runner, env=env)
        self.clock = clock
        self._lock = threading.Lock()
        self._sessions: Optional[Tuple[float, Dict[str, bool]]] = None
        self._version: Dict[str, Tuple[float, Optional[Tuple[int, int, int]]]] = {}

    def applies(self, session: Mapping[str, object]) -> bool:
        return bool(session.get("zellij_pane") or session.get("zellij_session"))

    def where(self, session: Mapping[str, object]) -> str:
        return "Zellij pane %s in session %s" % (session.get("zellij_pane"),
                                                  session.get("zellij_session"))

    def _run(self, argv: List[str], session: str = "") -> str:
        """Run argv in this backend's environment; map a failure to the right DeliveryError."""
        env = dict(self.env, ZELLIJ_SESSION_NAME=session) if session else dict(self.env)
        result = self.runner(argv, None, base.COMMAND_TIMEOUT_S, env)
        if result.returncode != 0:
            error = result.stderr.strip() or "exit status %d" % result.returncode
            if session and _GONE.search(error):
                raise PaneGone("Zellij session %r is gone: %s" % (session, error))
            sub = argv[argv.index("action") + 1] if "action" in argv else argv[1]
            raise CommandFailed("zellij %s failed: %s" % (sub, error))
        return result.stdout

    def live_sessions(self, zellij: str, fresh: bool = False) -> Dict[str, bool]:
        """Return {name: live} of every session `list-sessions` knows (cached LIST_TTL_S)."""
        with self._lock:
            now = self.clock()
            if not fresh and self._sessions and now - self._sessions[0] < LIST_TTL_S:
                return self._sessions[1]
            result = self.runner(list_argv(zellij), None, base.COMMAND_TIMEOUT_S, dict(self.env))
            if result.returncode != 0 and not _GONE.search(result.stderr):
                raise CommandFailed("zellij list-sessions failed: %s"
                                    % (result.stderr.strip() or result.returncode))
            sessions = parse_sessions(result.stdout) if result.returncode == 0 else {}
            self._sessions = (now, sessions)
            return sessions

    def version(self, zellij: str) -> Optional[Tuple[int, int, int]]:
        """Return the installed Zellij's version (cached VERSION_TTL_S), None if unknown."""
        with self._lock:
            cached = self._version.get(zellij)
            if cached and self.clock() - cached[0] < VERSION_TTL_S:
                return cached[1]
        result = self.runner(version_argv(zellij), None, base.COMMAND_TIMEOUT_S, dict(self.env))
        found = parse_version(result.stdout) if result.returncode == 0 else None
        with self._lock:
            self._version[zellij] = (self.clock(), found)
        return found

    def session_alive(self, name: str) -> Optional[bool]:
        """Tell whether Zellij session `name` is running; None when AMC cannot tell."""
        zellij = find_binary("zellij", self.env)
        if not zellij or not name:
            return None
        try:
            return self.live_sessions(zellij).get(name, False)
        except DeliveryError:
            return None

    def _target(self, session: Mapping[str, object]) -> Tuple[str, str, int, str]:
        """Return (zellij, session name, pane number, route) or raise why AMC cannot type."""
        name = str(session.get("zellij_session") or "")
        match = _PANE.match(str(session.get("zellij_pane") or ""))
        if not match or not name:
            raise NoPane("AMC does not know the session's Zellij pane (session %r, pane %r; "
                         "expected ZELLIJ_SESSION_NAME and a ZELLIJ_PANE_ID like 3)"
                         % (name, session.get("zellij_pane")))
        zellij = require_binary("zellij", self.env)
        live = self.live_sessions(zellij)
        if not live.get(name):  # a cached list may predate the session: ask again before refusing
            live = self.live_sessions(zellij, fresh=True)
        if not live.get(name):
            raise PaneGone("Zellij session %r is %s; answer in the session's own terminal"
                           % (name, "exited" if name in live else "gone"))
        return zellij, name, int(match.group(1)), self._route(zellij)

    def _route(self, zellij: str) -> str:
        """Return "plugin", "pane" or "focused", or raise MultiplexerMissing saying what to do."""
        if os.path.isfile(zellij_plugin(self.env)):
            return "plugin"
        if self._has_pane_actions(zellij):
            return "pane"
        if self.env.get(UNSAFE) == "1":
            return "focused"
        plugin, version = zellij_plugin(self.env), self.version(zellij)
        raise MultiplexerMissing(
            "Zellij %s cannot type into a pane by id (that needs Zellij 0.44+) and the "
            "zellij-send-keys plugin is not installed at %s. Install it: download "
            "zellij-send-keys.wasm from https://github.com/atani/zellij-send-keys/releases to %s "
            "(or set AMC_ZELLIJ_PLUGIN to where it is), then grant its permissions once with "
            "`zellij plugin -- file:%s` inside Zellij; or upgrade Zellij to 0.44+. %s=1 would "
            "type into whichever pane has focus instead, which may not be the agent's."
            % (".".join(map(str, version)) if version else "(unknown version)", plugin, plugin,
               plugin, UNSAFE))

    def compile(self, zellij: str, name: str, pane: int, route: str,
                plan: List[keystrokes.Step]) -> List[Command]:
        """Return the commands (argv lists, pause ms) that carry out `plan`, or raise first."""
        out: List[Command] = []
        for step in plan:
            if step.kind == keystrokes.PAUSE:
                out.append(int(step.value))
                continue
            value = str(step.value)
            if step.kind not in (keystrokes.TEXT, keystrokes.PASTE, keystrokes.KEY) or \
                    (step.kind == keystrokes.KEY and value not in SEND_KEYS):
                raise ValueError("unknown step %r" % (step,))
            step_route = route
            if step.kind == keystrokes.KEY and value not in KEY_BYTES and route != "pane":
                if not self._has_pane_actions(zellij):
                    raise MultiplexerMissing(
                        "AMC cannot press %s in Zellij before 0.44 (send-keys --pane-id): the %s "
                        "types characters, and %s is an escape sequence that depends on the "
                        "pane's modes" % (value, "plugin" if route == "plugin" else "fallback",
                                          value))
                step_route = "pane"
            out.append(getattr(self, "_" + step_route)(zellij, name, pane, step.kind, value))
        for command in out:
            if isinstance(command, list) and any(len(a.encode("utf-8")) > MAX_ARG_BYTES
                                                 for a in command):
                raise DeliveryError("the text is too long to pass to zellij on its command line",
                                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        return out

    def _pane(self, zellij: str, name: str, pane: int, kind: str, value: str) -> List[str]:
        """Return the Zellij 0.44+ pane-targeted argv for one step."""
        if kind == keystrokes.TEXT:
            return write_chars_argv(zellij, name, pane, value)
        if kind == keystrokes.PASTE:
            return paste_argv(zellij, name, pane, value)
        return send_keys_argv(zellij, name, pane, value)

    def _plugin(self, zellij: str, name: str, pane: int, kind: str, value: str) -> List[str]:
        """Return the zellij-send-keys pipe argv for one step (Enter is its `send_enter`)."""
        enter = kind == keystrokes.KEY and value == "Enter"
        text = "" if enter else chr(KEY_BYTES[value]) if kind == keystrokes.KEY else \
            PASTE_START + value + PASTE_END if kind == keystrokes.PASTE else value
        if len(text.encode("utf-8")) > PLUGIN_MAX_TEXT:
            raise DeliveryError("the text is too long for the zellij-send-keys plugin (at most "
                                "%d bytes)" % PLUGIN_MAX_TEXT, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        return pipe_argv(zellij, name, zellij_plugin(self.env), pane, text, enter)

    def _focused(self, zellij: str, name: str, pane: int, kind: str, value: str) -> List[str]:
        """Return the focused-pane argv for one step (the unsafe fallback; `pane` is unused)."""
        if kind == keystrokes.KEY:
            return write_bytes_argv(zellij, name, value)
        text = PASTE_START + value + PASTE_END if kind == keystrokes.PASTE else value
        return write_chars_argv(zellij, name, None, text)

    def _has_pane_actions(self, zellij: str) -> bool:
        """Tell whether the installed Zellij has the 0.44 pane-targeted actions."""
        version = self.version(zellij)
        return bool(version and version >= PANE_ACTIONS)

    def check(self, session: Mapping[str, object]) -> None:
        self._target(session)

    def capture(self, session: Mapping[str, object]) -> str:
        """Return the pane's screen via `dump-screen --pane-id` (0.44+; '' on older Zellij)."""
        zellij, name, pane, _ = self._target(session)
        if not self._has_pane_actions(zellij):
            return ""
        directory = tempfile.mkdtemp(prefix="amc-zellij-")  # 0700: the screen is private
        try:
            path = os.path.join(directory, "screen.txt")
            self._run(dump_screen_argv(zellij, name, pane, path), name)
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read(MAX_SCREEN_CHARS)
        except OSError:
            return ""
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def deliver(self, session: Mapping[str, object], plan: List[keystrokes.Step]) -> None:
        zellij, name, pane, route = self._target(session)
        for command in self.compile(zellij, name, pane, route, plan):
            if isinstance(command, int):
                base.sleep_ms(command)
            else:
                try:
                    self._run(command, name)
                except CommandFailed as e:
                    if "pipe" not in command:
                        raise
                    raise CommandFailed(
                        "%s (the zellij-send-keys plugin must have been granted its permissions "
                        "once: run `zellij plugin -- file:%s` inside Zellij and answer y)"
                        % (e.message, zellij_plugin(self.env))) from e
