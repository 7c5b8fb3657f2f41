"""Following the sessions AMC launched until their agent reports: start dialogs, Codex's own id.

Place in the flow: launch.py starts a session and hands its id here; one thread looks at the pane
of each such session every WATCH_S while it is `starting` and feeds the core through an enricher
(the core calls `enrich` on every merge) and `core.touch`:
- a dialog the CLI shows before any hook can fire (Claude Code's folder trust, the
  development-channels warning) is read off the screen by the agent's screen module
  (`agents/<agent>_screen.start_dialog`) and shown on the card as `needs_attention` with
  `attention.kind = "dialog"` and its options; it is answered through `/api/respond` like any
  dialog. AMC never answers one by itself;
- a launched pane that closed before the agent reported (the user chose "No, exit") removes the
  card;
- a Codex placeholder (`launch-<uuid>`, Codex picks its own id) is removed once another Codex
  session in the same pane appears (its rollout or hooks), so the card is never doubled.
What is followed lives in memory, so on start the server picks it up again (`resume`): every
session whose hook file the launcher marked (`launched`) and that is still `starting` (younger than
WATCH_TTL_S) is followed again, its dialog shown again. One whose pane is gone by then is let go
(an ordinary `starting` card for housekeeping): AMC removes a card only when it saw the pane close.
"""
import logging
import threading
import time
from typing import Any, Dict, List, Optional, Set

from .. import model, store, terminals
from .respond import screen_module
from ..errors import ApiError
from ..terminals.base import PaneGone

log = logging.getLogger("amc.launch")

WATCH_S = 0.3
WATCH_TTL_S = 3600.0
PANE_KEYS = ("tmux_pane", "tmux_socket", "zellij_session", "zellij_pane")


class Watcher:
    """Follows launched sessions; `enrich` is a core enricher (never waits)."""

    def __init__(self, core: Any, backends: Any) -> None:
        self.core = core
        self.backends = backends
        self._lock = threading.Lock()
        self._watched: Dict[str, float] = {}             # sid -> when it was launched
        self._resumed: Set[str] = set()                  # followed again, its pane not seen yet
        self._dialogs: Dict[str, Dict[str, Any]] = {}    # sid -> the dialog its screen shows
        self._thread: Optional[threading.Thread] = None
        core.add_enricher(self.enrich)

    def watch(self, sid: str) -> None:
        """Follow the launched session `sid` (its hook file exists) until its agent reports."""
        self.core.apply(self.core.paths.session_file(sid))
        self.core.flush()  # the card is in /api/state when the launch answers
        with self._lock:
            self._watched[sid] = time.monotonic()
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="amc-launch",
                                                daemon=True)
                self._thread.start()

    def resume(self) -> List[str]:
        """Follow again the launched sessions still `starting` (after a restart); return their ids."""
        now_wall, now = time.time(), time.monotonic()
        resumed = []
        for s in self.core.sessions():
            if s.get("machine"):
                continue  # another machine's: its own AMC follows its launches
            launched = s.get("launched")
            if not isinstance(launched, dict) or launched.get("by") != "amc" or \
                    s.get("status") != model.STARTING:
                continue
            age = now_wall - model.parse_iso(s.get("started_at") or s.get("status_since"))
            if not 0 <= age < WATCH_TTL_S:
                continue
            resumed.append(s["session_id"])
            with self._lock:
                self._watched.setdefault(s["session_id"], now - age)
                self._resumed.add(s["session_id"])
        if resumed:
            log.info("following %d launched session(s) again: %s", len(resumed),
                     ", ".join(resumed))
            self._start()
        return resumed

    def enrich(self, s: Dict[str, Any]) -> None:
        """Show a start dialog the pane shows as the card's attention."""
        with self._lock:
            dialog = self._dialogs.get(s["session_id"])
        if dialog is None or s.get("status") != model.STARTING:
            return
        s["status"] = model.NEEDS_ATTENTION
        s["status_since"] = dialog["since"]
        s["attention"] = {"kind": model.ATTN_DIALOG, "text": dialog["text"],
                          "options": list(dialog["options"]),
                          "options_count": len(dialog["options"]),
                          "selected": dialog["selected"]}

    def watching(self) -> Dict[str, Dict[str, Any]]:
        """Return the dialogs shown now, by session (for tests and debugging)."""
        with self._lock:
            return {sid: dict(d) for sid, d in self._dialogs.items()}

    # -- the thread ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                watched = dict(self._watched)
                if not watched:
                    self._thread = None
                    return
            for sid, since in watched.items():
                try:
                    keep = self._look(sid) and time.monotonic() - since < WATCH_TTL_S
                except Exception:
                    log.exception("following launched session %s failed", sid)
                    keep = False
                if not keep:
                    self._forget(sid)
            time.sleep(WATCH_S)

    def _forget(self, sid: str) -> None:
        with self._lock:
            self._watched.pop(sid, None)
            self._resumed.discard(sid)
            had = self._dialogs.pop(sid, None)
        if had is not None:
            self.core.touch(sid)

    def _look(self, sid: str) -> bool:
        """Look at one launched session once; return whether to keep following it."""
        s = self.core.session(sid)
        if s is None:  # hidden (dismissed, its agent died) or gone (SessionEnd)
            return False
        launched = s.get("launched") or {}
        if launched.get("placeholder") and self._joined(s):
            log.info("launched %s joined its agent's own session; placeholder removed", sid)
            self._remove(sid)
            return False
        dialog_shown = s.get("status") == model.NEEDS_ATTENTION and \
            (s.get("attention") or {}).get("kind") == model.ATTN_DIALOG
        if s.get("status") != model.STARTING and not dialog_shown:
            return False  # the agent reported: its hooks tell the rest
        backend = terminals.for_session(self.backends, s)
        try:
            screen = backend.capture(s)
        except PaneGone:
            with self._lock:
                resumed = sid in self._resumed
            if resumed:
                log.info("launched %s: its pane is gone (seen after a restart); let go", sid)
            elif not s.get("pid"):
                log.info("launched %s: its pane closed before the agent reported", sid)
                self._remove(sid)
            return False
        except ApiError:
            return True
        with self._lock:
            self._resumed.discard(sid)  # its pane was there after the restart
        finder = getattr(screen_module(s["agent"]), "start_dialog", None)
        found = finder(screen) if finder is not None and screen else None
        with self._lock:
            old = self._dialogs.get(sid)
            if found is None:
                changed = self._dialogs.pop(sid, None) is not None
            else:
                same = old is not None and (old["text"], old["options"]) == \
                    (found["text"], found["options"])
                found["since"] = old["since"] if same else model.now_iso()
                changed = old != found
                self._dialogs[sid] = found
        if changed:
            self.core.touch(sid)
        return True

    def _joined(self, s: Dict[str, Any]) -> bool:
        """Tell whether another session of the same agent runs in the placeholder's pane."""
        pane = {k: s[k] for k in PANE_KEYS if s.get(k)}
        if not pane.get("tmux_pane") and not pane.get("zellij_pane"):
            return False
        for other in self.core.sessions():
            if other["session_id"] != s["session_id"] and other.get("agent") == s["agent"] and \
                    not other.get("machine") and all(other.get(k) == v for k, v in pane.items()):
                return True
        return False

    def _remove(self, sid: str) -> None:
        path = self.core.paths.session_file(sid)
        store.remove(path)
        self.core.apply(path)
        self.core.flush()
