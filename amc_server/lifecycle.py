"""Housekeeping of the data dir, run by the server about once a minute (never by the hook).

- `starting` sessions that never got a prompt within STARTING_TTL_S are dropped (the agent was
  closed before SessionEnd could fire, or crashed at start);
- sessions whose agent process is known and dead are dropped (crash without SessionEnd);
- `starting` sessions whose Zellij session is gone are dropped ("zellij_gone": the pane was closed
  before the agent got a prompt, so no hook will ever end it), when the caller can ask Zellij and
  the session is older than ZELLIJ_GRACE_S (the caller's session list may be a few seconds old);
- event logs of sessions that no longer exist are kept ORPHAN_TTL_S (24 h), then removed;
- temp files left by a writer killed mid-write are removed after TMP_TTL_S.
Every removal is logged with its reason.
"""
import logging
import os
import time
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

from .. import model, store
from ..agents.claude.registry import pid_alive
from ..paths import Paths

log = logging.getLogger("amc.lifecycle")

STARTING_TTL_S = 3600
ORPHAN_TTL_S = 24 * 3600
TMP_TTL_S = 600
ZELLIJ_GRACE_S = 60


def _age(iso: str, now: float) -> float:
    stamp = model.parse_iso(iso)
    return now - stamp if stamp else 0.0


def clean(paths: Paths, now: Optional[float] = None,
          zellij_alive: Optional[Callable[[str], Optional[bool]]] = None,
          sessions: Optional[Iterable[Tuple[str, Any]]] = None) -> Dict[str, int]:
    """Apply the rules above once; return how many files each rule that ran removed.

    `zellij_alive(name)` says whether a Zellij session runs (None: cannot tell, keep the session);
    without it the "zellij_gone" rule does not run and is not counted. `sessions`: (path,
    contents) of the session files as the server's core last read them (`Core.hook_files`), so
    a quiet server reads none of them again; without it each file is read.
    """
    now = time.time() if now is None else now
    removed = {"starting": 0, "dead": 0, "orphan_events": 0, "tmp": 0}
    if zellij_alive is not None:
        removed["zellij_gone"] = 0
    live = set()
    if sessions is None:
        sessions = ((path, store.read_json(path, follow=False))
                    for path in store.list_json(paths.sessions))
    for path, s in sessions:
        if not isinstance(s, dict):
            continue
        sid = s.get("session_id")
        if s.get("status") == model.STARTING and \
                _age(s.get("status_since") or s.get("started_at", ""), now) > STARTING_TTL_S:
            reason = "starting"
        elif s.get("pid") and not pid_alive(s["pid"]):
            reason = "dead"
        elif zellij_alive is not None and s.get("status") == model.STARTING and \
                s.get("zellij_session") and \
                _age(s.get("status_since") or s.get("started_at", ""), now) > ZELLIJ_GRACE_S and \
                zellij_alive(str(s["zellij_session"])) is False:
            reason = "zellij_gone"
        else:
            live.add(sid)
            continue
        if store.remove(path):
            removed[reason] += 1
            log.info("removed session %s (%s)", sid, reason)
    for directory in (paths.sessions, paths.events):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            full = os.path.join(directory, name)
            try:
                age = now - os.stat(full).st_mtime
            except OSError:
                continue
            if name.startswith(".") and name.endswith(".tmp") and age > TMP_TTL_S:
                rule = "tmp"
            elif directory == paths.events and name.endswith(".jsonl") \
                    and name[:-6] not in live and age > ORPHAN_TTL_S:
                rule = "orphan_events"
            else:
                continue
            if store.remove(full):
                removed[rule] += 1
                log.info("removed %s (%s)", full, rule)
    return removed
