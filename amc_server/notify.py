"""Notify anywhere: the user's commands for "a session needs attention" and "a session is done".

Place in the flow: `bin/amc notify add "<command>" | list | remove` (cli.py) -> here ->
`<data dir>/notify.json` (atomic writes under a lock) -> the notifier (notifier.py), which runs
each command when a session's status changes. This module owns the file, the argv (shlex-split
once when added, never run through a shell), and what a command is told: its environment
(AMC_EVENT, AMC_SESSION_ID, ..., docs/notify.md), and an argument that is exactly `$AMC_X`
replaced by that value as one argument. So `ntfy`, `notify-send` or a chat webhook script works
without AMC knowing any of them.

The values are text a session wrote (on a hub, another machine's), so they are data, never code:
AMC never writes a value *into* an argument. Substituted into `sh -c 'echo "$AMC_QUESTION"'`, a
question holding `$(...)`, backticks or `";` would be run by that shell (issue 17). Inside a
longer argument `$AMC_X` stays as typed; a shell reads it from the environment, as data.
"""
import logging
import os
import re
import shlex
from typing import Any, Dict, List, Mapping, Optional, Set

from .. import model, store
from ..paths import Paths

log = logging.getLogger("amc.notify")

VERSION = 1            # notify.json's format
MAX_VALUE = 4000       # characters of one environment value
NAMES = ("AMC_EVENT", "AMC_SESSION_ID", "AMC_PROJECT", "AMC_PROJECT_DIR", "AMC_AGENT",
         "AMC_STATUS", "AMC_STATUS_SINCE", "AMC_QUESTION", "AMC_ATTENTION_KIND", "AMC_MESSAGE",
         "AMC_MACHINE", "AMC_URL")
# Programs that run an argument as shell code (`sh -c SCRIPT`): AMC never puts a value there.
SHELLS = frozenset(("sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "fish", "csh",
                    "tcsh"))


class NotifyError(Exception):
    """A command that cannot be stored or found (said to the user by `amc notify`)."""


# -- notify.json ------------------------------------------------------------------------------

def parse_command(text: str) -> List[str]:
    """Return the argv of a command as typed (shell-like quoting, no shell); refuse empty."""
    if not isinstance(text, str) or "\0" in text:
        raise NotifyError("a command must be text without NUL characters")
    try:
        argv = shlex.split(text)
    except ValueError as e:
        raise NotifyError("cannot read the command %r: %s" % (text, e)) from None
    if not argv:
        raise NotifyError('the command is empty: give one, e.g. amc notify add "notify-send AMC"')
    return argv


def read(paths: Paths) -> List[Dict[str, Any]]:
    """Return the stored commands ({command, argv, added_at}); a broken file reads as none."""
    doc = store.read_json(paths.notify_file)
    items = doc.get("commands") if isinstance(doc, dict) else None
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("command"), str):
            continue
        argv = item.get("argv")
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) and "\0" not in a
                                                        for a in argv)):
            continue
        out.append({"command": item["command"], "argv": list(argv),
                    "added_at": str(item.get("added_at") or "")})
    return out


def _locked(paths: Paths) -> store.Locked:
    return store.Locked(os.path.join(paths.data, "notify.lock"))


def _save(paths: Paths, commands: List[Dict[str, Any]]) -> None:
    store.write_json_atomic(paths.notify_file, {"version": VERSION, "commands": commands},
                            indent=2)


def add(paths: Paths, text: str) -> Dict[str, Any]:
    """Store a command (its argv parsed now); return it. The same command twice is refused."""
    argv = parse_command(text)
    for i in shell_scripts(argv):
        if _whole(argv[i]):  # `sh -c '$AMC_QUESTION'`: the shell would run the question
            raise NotifyError("%s would run what a session wrote as a command: use it as data "
                              "inside the script, e.g. sh -c 'notify-send \"%s\"'" % (
                                  " ".join(shlex.quote(a) for a in argv[:i + 1]), argv[i]))
    with _locked(paths):
        commands = read(paths)
        if any(c["command"] == text for c in commands):
            raise NotifyError("already there: %s" % text)
        entry = {"command": text, "argv": argv, "added_at": model.now_iso()}
        _save(paths, commands + [entry])
    return entry


def remove(paths: Paths, which: str) -> Dict[str, Any]:
    """Forget a command: its number in `amc notify list` (1, 2, ...) or the command itself."""
    with _locked(paths):
        commands = read(paths)
        gone = [c for c in commands if c["command"] == which]
        if not gone and which.isdigit() and 1 <= int(which) <= len(commands):
            gone = [commands[int(which) - 1]]
        if not gone:
            raise NotifyError("no notify command %r (see `amc notify list`)" % which)
        _save(paths, [c for c in commands if c is not gone[0]])
    return gone[0]


class Commands:
    """notify.json as last read; read again only when the file changed (stat)."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self._sig: Any = "unread"
        self._commands: List[Dict[str, Any]] = []

    def current(self) -> List[Dict[str, Any]]:
        try:
            st = os.stat(self.paths.notify_file)
            sig: Any = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            sig = None
        if sig != self._sig:
            self._sig = sig
            self._commands = read(self.paths) if sig is not None else []
            for command in self._commands:  # a file from before issue 17, or edited by hand
                for note in notes(command["argv"]):
                    log.warning("notify: %s", note)
        return self._commands


# -- what a command is told -------------------------------------------------------------------

def _value(value: Any) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text.replace("\0", "")[:MAX_VALUE]


def question_of(session: Mapping[str, Any]) -> str:
    """Return what the session waits for: the question or the attention text, else ''."""
    attention = session.get("attention") if isinstance(session.get("attention"), dict) else {}
    text = attention.get("text") if isinstance(attention.get("text"), str) else ""
    questions = session.get("pending_questions")
    if not text and isinstance(questions, list) and questions and isinstance(questions[0], dict):
        text = str(questions[0].get("question") or "")
    return text


def environment(session: Mapping[str, Any], event: str, url: str = "",
                base: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """Return the environment of a notify command: `base` plus what happened (docs/notify.md)."""
    env = dict(os.environ if base is None else base)
    attention = session.get("attention") if isinstance(session.get("attention"), dict) else {}
    env.update({
        "AMC_EVENT": event,
        "AMC_SESSION_ID": _value(session.get("session_id")),
        "AMC_PROJECT": _value(session.get("project")),
        "AMC_PROJECT_DIR": _value(session.get("project_dir")),
        "AMC_AGENT": _value(session.get("agent")),
        "AMC_STATUS": _value(session.get("status")),
        "AMC_STATUS_SINCE": _value(session.get("status_since")),
        "AMC_QUESTION": _value(question_of(session) if event == "needs_attention" else ""),
        "AMC_ATTENTION_KIND": _value(attention.get("kind") if event == "needs_attention"
                                     else ""),
        "AMC_MESSAGE": _value(session.get("last_message_preview")),
        "AMC_MACHINE": _value(session.get("machine")),
        "AMC_URL": _value(url),
    })
    return env


_VARIABLE = re.compile(r"\$(?:\{(AMC_[A-Z_]+)\}|(AMC_[A-Z_]+))")


def _whole(arg: str) -> str:
    """Return X's name when `arg` is exactly `$AMC_X` or `${AMC_X}` of a known X, else ''."""
    m = _VARIABLE.fullmatch(arg)
    name = m and (m.group(1) or m.group(2))
    return name if name in NAMES else ""


def shell_scripts(argv: List[str]) -> Set[int]:
    """Return the indices of the arguments a shell in `argv` runs as its script: `sh -c S`,
    `bash -ec S`, `timeout 5 sh -c S`, `busybox sh -c S`."""
    scripts = set()
    for i, arg in enumerate(argv):
        if os.path.basename(arg) not in SHELLS:
            continue
        j, script = i + 1, False
        while j < len(argv) and len(argv[j]) > 1 and argv[j][0] in "-+" and argv[j] != "--":
            script = script or (argv[j][0] == "-" and "c" in argv[j][1:]
                                and not argv[j].startswith("--"))
            j += 2 if argv[j] in ("-o", "+o", "-O", "+O") else 1
        j += 1 if j < len(argv) and argv[j] == "--" else 0
        if script and j < len(argv):
            scripts.add(j)
    return scripts


def expand(argv: List[str], env: Mapping[str, str]) -> List[str]:
    """Return `argv` with each argument that is exactly `$AMC_X` / `${AMC_X}` replaced by X's
    value, one argument whatever it holds. Nothing is ever put inside a longer argument or a
    shell's script: there `$AMC_X` stays as typed, for a shell to expand from the environment."""
    scripts = shell_scripts(argv)
    out = []
    for i, arg in enumerate(argv):
        name = _whole(arg)
        out.append(env[name] if name and name in env and i not in scripts else arg)
    return out


def notes(argv: List[str]) -> List[str]:
    """Return what to tell the user about `$AMC_X` in `argv` that reaches the program as typed
    (inside a longer argument of a program that is not a shell reading its script)."""
    scripts = shell_scripts(argv)
    out = []
    for i, arg in enumerate(argv[1:], 1):
        found = [m.group(1) or m.group(2) for m in _VARIABLE.finditer(arg)]
        if i in scripts or _whole(arg) or not any(n in NAMES for n in found):
            continue
        out.append("%s reaches %s as typed: AMC puts a value only in an argument that is "
                   "exactly $AMC_X, never inside one (docs/notify.md); or let a shell read it "
                   "from the environment: sh -c '... \"$%s\"'" % (
                       shlex.quote(arg), os.path.basename(argv[0]),
                       next(n for n in found if n in NAMES)))
    return out
