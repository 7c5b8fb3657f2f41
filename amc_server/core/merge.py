"""One session's merged view from every source: which source wins, and who is shown at all.

Place in the flow: sources.py (tables) -> here -> live.py (publishes what changed). This is the
only place that decides:
1. `sessions/<id>.json` written by the hook wins on status, attention and questions;
2. Claude Code's registry fills the pane and pid the hook left empty, and proves a hook session
   stale when it turned idle after the last hook event (Esc fires no hook);
3. a Codex rollout written in the last 10 minutes fills what the hook left empty and proves a
   hook session stale when its turn ended after the last hook event.
A session whose process is known to be dead is not shown; a dismissed one only comes back when
its hook reports it live again. `merge` is a function of the tables plus a few lookups
(transcript paths, panes from /proc), so it runs for one session at a time, on change.
`subagents_running` comes from the hook's SubagentStart/Stop count when the hook keeps one,
else from the subagents' files (agents/claude/subagents.py; read when the session is merged).
"""
from typing import Any, Callable, Dict, Optional

from .. import model
from ..agents.claude import questions as claude_questions
from ..agents.claude import registry as claude_registry
from ..agents.codex import discovery as codex_discovery
from ..agents.claude import subagents
from .dismissed import Dismissed
from .sources import Sources, hook_session, transcript_refusal

STATUS_RANK = {status: i for i, status in enumerate(model.STATUSES)}
PANE_KEYS = ("tmux_pane", "tmux_socket", "zellij_session", "zellij_pane")

Lookup = Callable[[Dict[str, Any]], Dict[str, Any]]


def merge(sid: str, src: Sources, dismissed: Dismissed, panes: Optional[Lookup] = None
          ) -> Optional[Dict[str, Any]]:
    """Return the session `sid` as /api/state shows it, or None when it is not shown."""
    s: Optional[Dict[str, Any]] = None
    hook = src.hooks.get(sid)
    if hook is not None:
        s = hook_session(hook)
        if s.get("pid") and not claude_registry.pid_alive(s["pid"]):
            s = None  # the agent died without SessionEnd
    entry = src.live_entry(sid) if "claude" in src.agents else None
    if entry is not None:
        if s is not None:
            live = claude_registry.from_entry(entry)
            if live is not None:
                fill(s, {"pid": live["pid"], "tmux_pane": live["tmux_pane"]})
            claude_registry.reconcile(s, entry)
        else:
            s = claude_registry.from_entry(entry, src.transcripts.get(sid, ""))
    rollout = src.rollout_sessions.get(sid)
    if rollout is not None:
        if s is not None:
            codex_discovery.reconcile(s, rollout)
            fill(s, rollout)
        else:
            s = dict(rollout)
    if s is None or not visible(s, dismissed):
        return None
    complete(s, src, panes)
    close_question(s, src)
    return s


def close_question(s: Dict[str, Any], src: Sources) -> None:
    """Take a question off the card when the transcript holds its result (answered or skipped in
    the terminal, or resolved by itself after the user was away: agents/claude/questions.py).

    The hook's PostToolUse says so too; this covers a lost or missing hook, and runs on the
    transcript's own change event. The file is read only while a question waits, and again only
    when it changed.
    """
    attention = s.get("attention") or {}
    path = s.get("transcript_path") or ""
    if s.get("agent") != "claude" or s.get("status") != model.NEEDS_ATTENTION or \
            attention.get("kind") != model.ATTN_QUESTION or not path or \
            transcript_refusal(src.paths, path, s["session_id"]):
        return
    gone = claude_questions.closed_cached(path, attention, str(s.get("status_since") or ""))
    if gone is not None:
        s.update(status=model.ACTIVE, status_since=gone["at"] or s["status_since"],
                 attention=None, pending_questions=[], last_event="transcript:question-closed")


def visible(s: Dict[str, Any], dismissed: Dismissed) -> bool:
    """Tell whether a session is shown: not dismissed, or reported live again since."""
    dismissed_at = dismissed.when(s["session_id"])
    if not dismissed_at:
        return True
    return s.get("source") == "hook" and s["status"] != model.DONE \
        and model.parse_iso(s.get("status_since", "")) > dismissed_at


def complete(s: Dict[str, Any], src: Sources, panes: Optional[Lookup]) -> None:
    """Fill what every shown session has: transcript path and mtime, project, pane."""
    if not s.get("transcript_path"):
        table = src.transcripts if s["agent"] == "claude" else src.rollout_paths
        s["transcript_path"] = table.get(s["session_id"], "")
    path = s["transcript_path"]
    mtime = src.mtimes.get(path) if path else 0
    if mtime is None:
        from .sources import stat_sig  # a transcript outside the watched dirs: stat it
        sig = stat_sig(path)
        mtime = sig[2] if sig else 0
    s["conversation_mtime_ns"] = mtime
    s["project"] = s.get("project") or model.project_name(s.get("project_dir", ""))
    if panes is not None and not (s.get("tmux_socket") or s.get("zellij_session")):
        fill(s, panes(s))  # no pane from a hook: read it off the agent's process
    s["subagents_running"] = subagents_running(s)


def subagents_running(s: Dict[str, Any]) -> int:
    """Return how many subagents of the session run now: the hook's count when it keeps one
    (SubagentStart/SubagentStop, hook.py), else the subagent files written lately."""
    hooked = s.get("running_subagents")
    if isinstance(hooked, list):
        return len(hooked)
    if s.get("agent") != "claude" or not s.get("transcript_path"):
        return 0
    return subagents.running_count(s["transcript_path"], s["session_id"])


def fill(target: Dict[str, Any], extra: Dict[str, Any]) -> None:
    """Copy fields from `extra` that `target` does not know yet (hook data wins)."""
    for key, value in extra.items():
        if value and not target.get(key):
            target[key] = value


def sort_key(s: Dict[str, Any]) -> tuple:
    """Order of /api/state: needs attention, active, starting, done; newest first; then id."""
    return (STATUS_RANK.get(s["status"], 9), -model.parse_iso(s["started_at"]), s["session_id"])
