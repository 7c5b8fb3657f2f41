"""tmux: type into the session's recorded pane on its recorded server socket.

The hook records `$TMUX_PANE` and the socket path from `$TMUX`, so `tmux -S <socket> ... -t <pane>`
reaches the pane from a server started outside tmux (launchd, systemd, another terminal). One-line
text goes in with `send-keys -l` (literal: no key-name lookup, so "Enter" typed by a user stays five
letters); multi-line text as one bracketed paste (`load-buffer` from stdin, then `paste-buffer -p`)
so a TUI sees one paste rather than lines each followed by Enter; named keys with `send-keys`.
Everything here is tmux syntax; what to type comes from agents/ as a keystrokes plan.
"""
import os
import re
import uuid
from typing import List, Mapping, Optional

from .. import keystrokes
from .base import Backend, CommandFailed, NoPane, PaneGone, require_binary, sleep_ms

_PANE = re.compile(r"^%\d+$")


def base_argv(tmux: str, socket: str) -> List[str]:
    """Return the argv prefix addressing the server at `socket` (the default one when empty)."""
    return [tmux, "-S", socket] if socket else [tmux]


def probe_argv(tmux: str, socket: str, pane: str) -> List[str]:
    """Return argv printing `<pane id> <dead flag> <pid>` of `pane` (fails if it is gone)."""
    return base_argv(tmux, socket) + ["display-message", "-p", "-t", pane,
                                      "#{pane_id} #{pane_dead} #{pane_pid}"]


def literal_argv(tmux: str, socket: str, pane: str, text: str) -> List[str]:
    """Return argv typing `text` literally into `pane`."""
    return base_argv(tmux, socket) + ["send-keys", "-t", pane, "-l", "--", text]


def key_argv(tmux: str, socket: str, pane: str, key: str) -> List[str]:
    """Return argv pressing the named `key` in `pane`."""
    return base_argv(tmux, socket) + ["send-keys", "-t", pane, key]


def load_buffer_argv(tmux: str, socket: str, buffer: str) -> List[str]:
    """Return argv loading stdin into the named paste buffer."""
    return base_argv(tmux, socket) + ["load-buffer", "-b", buffer, "-"]


def paste_buffer_argv(tmux: str, socket: str, pane: str, buffer: str) -> List[str]:
    """Return argv pasting (bracketed, `-p`) and deleting (`-d`) the named buffer into `pane`."""
    return base_argv(tmux, socket) + ["paste-buffer", "-p", "-d", "-r", "-b", buffer, "-t", pane]


def capture_argv(tmux: str, socket: str, pane: str) -> List[str]:
    """Return argv printing the visible screen of `pane` as plain text."""
    return base_argv(tmux, socket) + ["capture-pane", "-p", "-t", pane]


class Tmux(Backend):
    name = "tmux"

    def applies(self, session: Mapping[str, object]) -> bool:
        return bool(session.get("tmux_pane"))

    def where(self, session: Mapping[str, object]) -> str:
        socket = str(session.get("tmux_socket") or "")
        return "tmux pane %s%s" % (session.get("tmux_pane"),
                                    " on %s" % socket if socket else "")

    def _target(self, session: Mapping[str, object]):
        pane = str(session.get("tmux_pane") or "")
        socket = str(session.get("tmux_socket") or "")
        if not _PANE.match(pane):
            raise NoPane("the session's tmux pane %r is not a pane id like %%3" % pane)
        if socket and not os.path.exists(socket):
            raise PaneGone("the tmux server of %s is gone (no socket at %s); answer in the "
                           "session's terminal" % (pane, socket))
        return require_binary("tmux", self.env), socket, pane

    def _run(self, argv: List[str], stdin: Optional[bytes] = None) -> str:
        result = self.runner(argv, stdin, 5.0, None)
        if result.returncode != 0:
            error = result.stderr.strip() or "exit status %d" % result.returncode
            if re.search(r"can't find (pane|window|session)|no server running|error connecting|"
                         r"no such file", error, re.I):
                raise PaneGone("tmux cannot reach the session's pane: %s" % error)
            raise CommandFailed("tmux %s failed: %s" % (argv[3 if "-S" in argv else 1], error))
        return result.stdout

    def check(self, session: Mapping[str, object]) -> None:
        tmux, socket, pane = self._target(session)
        out = self._run(probe_argv(tmux, socket, pane)).split()
        if not out or out[0] != pane:
            raise PaneGone("tmux has no pane %s (it answered %r)" % (pane, " ".join(out)))
        if len(out) > 1 and out[1] == "1":
            raise PaneGone("the program in tmux pane %s has exited" % pane)

    def deliver(self, session: Mapping[str, object], plan: List[keystrokes.Step]) -> None:
        tmux, socket, pane = self._target(session)
        for step in plan:
            if step.kind == keystrokes.TEXT:
                self._run(literal_argv(tmux, socket, pane, str(step.value)))
            elif step.kind == keystrokes.KEY:
                self._run(key_argv(tmux, socket, pane, str(step.value)))
            elif step.kind == keystrokes.PASTE:
                buffer = "amc-%s" % uuid.uuid4().hex[:12]
                self._run(load_buffer_argv(tmux, socket, buffer), str(step.value).encode("utf-8"))
                self._run(paste_buffer_argv(tmux, socket, pane, buffer))
            elif step.kind == keystrokes.PAUSE:
                sleep_ms(int(step.value))
            else:
                raise ValueError("unknown step %r" % (step,))

    def capture(self, session: Mapping[str, object]) -> str:
        tmux, socket, pane = self._target(session)
        return self._run(capture_argv(tmux, socket, pane))
