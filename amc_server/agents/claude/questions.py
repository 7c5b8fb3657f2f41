"""Whether a pending AskUserQuestion is still open, read from the Claude Code transcript itself.

Place in the flow: transcript file -> here -> core/merge.py (the card) and actions/respond.py (an answer).
A question can close without AMC: answered or skipped in the terminal, dismissed with Esc, or, from
Claude Code 2.1.337, resolved by itself after the user was away (the tool result then carries
`afkTimeoutMs` and `annotations[<question>].unanswered` = `skipped` | `replied_in_chat` |
`dismissed`; docs/claude-jsonl-reference/03-tool-lifecycle.md). The hook's PostToolUse usually
says so first, but a hook can be missing (not installed, lost, a slow disk), and an answer from
the page must be checked against what the file holds at that moment, not against a card.

Only the file's last TAIL_BYTES are read, and only lines that can be the question's call or its
result are decoded; the core caches the answer per (file size, mtime) while a question waits.
"""
import os
from typing import Any, Dict, List, Optional, Tuple

from ... import jsonl
from ... import model, store

TOOL = "AskUserQuestion"
TAIL_BYTES = 4 * 1024 * 1024
UNANSWERED = {"skipped": "skipped", "replied_in_chat": "the user replied in the chat instead",
              "dismissed": "dismissed"}

Closed = Dict[str, Any]   # {"how": str, "words": str, "at": ISO, "tool_use_id": str}


def _records(path: str) -> List[Dict[str, Any]]:
    """Return the tail's records that can be a question call or a tool result."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return []
    out = []
    try:
        with store.open_read(path, follow=True) as f:
            start = max(0, size - TAIL_BYTES)
            f.seek(start)
            lines = jsonl.iter_lines(f)
            if start:
                next(lines, None)  # the first line read from the middle is torn
            for raw in lines:
                if b'"tool_result"' not in raw and (b'"tool_use"' not in raw or
                                                     TOOL.encode() not in raw):
                    continue
                try:
                    obj = store.loads(raw)
                except ValueError:
                    continue
                if isinstance(obj, dict) and not obj.get("isSidechain"):
                    out.append(obj)
    except OSError:
        return []
    return out


def _blocks(record: Dict[str, Any], kind: str) -> List[Dict[str, Any]]:
    message = record.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind] \
        if isinstance(content, list) else []


def describe(result: Any, block: Dict[str, Any]) -> Tuple[str, str]:
    """Return (how, words) for a question's tool result: how it closed, for a person."""
    if not isinstance(result, dict):
        result = {}
    notes = result.get("annotations")
    marks = [v.get("unanswered") for v in notes.values() if isinstance(v, dict)] \
        if isinstance(notes, dict) else []
    mark = next((m for m in marks if m in UNANSWERED), "")
    afk = result.get("afkTimeoutMs")
    if isinstance(afk, (int, float)) and not isinstance(afk, bool) and afk > 0:
        idle = "%d min" % round(afk / 60000) if afk >= 60000 else "%d s" % round(afk / 1000)
        how = "afk_" + (mark or "timeout")
        words = "%s after the user was away (Claude Code closed it by itself after %s idle)" % (
            UNANSWERED.get(mark, "closed"), idle)
        return how, words
    if mark:
        return mark, UNANSWERED[mark] + " in the terminal" if mark != "replied_in_chat" \
            else UNANSWERED[mark]
    if block.get("is_error"):
        return "declined", "declined in the terminal"
    return "answered", "answered in the terminal"


def closed(path: str, attention: Optional[Dict[str, Any]], since: str) -> Optional[Closed]:
    """Return how the question pending since `since` closed, or None while it is still open.

    The question is the call named by `attention.tool_use_id` (the PreToolUse hook's), else the
    newest AskUserQuestion call; a result older than `since` belongs to an earlier question
    (the new call may not be written yet), so it does not count.
    """
    if not path:
        return None
    wanted = (attention or {}).get("tool_use_id") or ""
    calls: List[str] = []
    results: Dict[str, Tuple[Dict[str, Any], Dict[str, Any]]] = {}
    for record in _records(path):
        if record.get("type") == "assistant":
            calls += [str(b.get("id")) for b in _blocks(record, "tool_use")
                      if b.get("name") == TOOL and b.get("id")]
        elif record.get("type") == "user":
            for block in _blocks(record, "tool_result"):
                results[str(block.get("tool_use_id"))] = (record, block)
    if not wanted:
        if not calls:
            return None
        wanted = calls[-1]
    found = results.get(wanted)
    if found is None:
        return None
    record, block = found
    at = str(record.get("timestamp") or "")
    if not (attention or {}).get("tool_use_id") and since and \
            model.parse_iso(at) < model.parse_iso(since):
        return None
    how, words = describe(record.get("toolUseResult"), block)
    return {"how": how, "words": words, "at": at, "tool_use_id": wanted}


def latest(path: str) -> Optional[Closed]:
    """Return how the newest question of the transcript closed (None: none, or still open)."""
    return closed(path, None, "")


_cache: Dict[Tuple[str, str, str, int, int], Optional[Closed]] = {}


def closed_cached(path: str, attention: Optional[Dict[str, Any]], since: str
                  ) -> Optional[Closed]:
    """`closed`, read again only when the file's size or mtime moved (for the core's merges)."""
    try:
        st = os.stat(path) if path else None
    except OSError:
        st = None
    if st is None:
        return None
    key = (path, str((attention or {}).get("tool_use_id") or ""), since, st.st_size,
           st.st_mtime_ns)
    if key not in _cache:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = closed(path, attention, since)
    return _cache[key]
