"""Subagents of a Claude Code session: their transcripts, the Task/Agent call behind each, and
whether they still run.

Place in the flow: agents/claude/transcript.py marks each Task/Agent call of the parent with
`subagent: {agent_id, status}` from what the parent transcript says; this module adds what the
subagents' own files say, for consumers/conversations.py (the `subagent` object of a call, and
`?subagent=<agent id>`: that subagent's messages, read by agents/claude/subagent_reader.py) and
core/merge.py (`subagents_running` of a session without hooks).

Claude Code has kept a subagent's conversation three ways (fixtures under tests/fixtures):
  1.0.x  inline: in the parent transcript, records with `isSidechain: true`, one chain (by
         `parentUuid`) per subagent, rooted at a user record whose text is the call's prompt.
         The agent id AMC gives it is that root record's uuid.
  2.0.x  beside: `<project dir>/agent-<id>.jsonl`; its records carry the parent's `sessionId`
         and `agentId`; the first record may be the subagent's first reply (no prompt).
  2.1.x  `<project dir>/<session id>/subagents/agent-<id>.jsonl` and `agent-<id>.meta.json`
         (2.1.329: `{agentType, description, toolUseId, ..., "finished": true}` once done).
A call is linked to its file by the best evidence there is: the agent id the parent learnt (the
tool result's `agentId`), the meta's `toolUseId`, the prompt (the file's first user text), and
for a call still running without any of these, the first unclaimed file of this session that
started after it. Directory listings and file heads are cached by mtime/size, so asking again
costs a stat per file.
"""
import os
import re
import threading
import time
from urllib.parse import quote
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from ... import jsonl, store
from ...store import loads


ACTIVE_WINDOW_S = 120.0     # without hooks: a subagent file written this recently may be running
META_WINDOW_S = 1800.0      # ... one whose meta says it writes "finished" (2.1.329): this long
HEAD_LINES = 40             # lines read from a file's start to find its ids and prompt
HEAD_LINE_BYTES = 2 * 1024 * 1024
TAIL_BYTES = 256 * 1024     # read from a file's end to see whether its last record is final
META_BYTES = 64 * 1024      # an agent-*.meta.json is a few hundred bytes: a bigger one is not read
MAX_CACHED = 4096
_AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")

def valid_agent_id(agent_id: Any) -> bool:
    """Tell whether `agent_id` is safe in a file name and a URL (letters, digits, - and _)."""
    return isinstance(agent_id, str) and bool(_AGENT_ID.match(agent_id))


class SubagentFile(NamedTuple):
    agent_id: str
    path: str
    layout: str                 # "subagents" (2.1.x) or "beside" (2.0.x)
    meta: Dict[str, Any]        # agent-<id>.meta.json ({} when there is none)
    prompt: str                 # its first user text ("" when it has none)
    started: str                # timestamp of its first record
    session_id: str             # the parent session its records name ("" if none)
    mtime: float


class _Cache:
    """Heads of files and listings of directories, keyed by path, valid while the stat matches."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.heads: Dict[str, Tuple[tuple, Tuple[str, str, str, str]]] = {}
        self.dirs: Dict[str, Tuple[int, List[str]]] = {}
        self.metas: Dict[str, Tuple[tuple, Dict[str, Any]]] = {}
        self.owners: Dict[str, str] = {}  # 2.0.x file beside sessions -> the session it names
        self.grouped: Dict[str, Tuple[int, Dict[str, List[str]], bool]] = {}

    def owned(self, directory: str, session_id: str) -> List[str]:
        """Return the names of the 2.0.x subagent files in `directory` that belong to a session.

        Grouped by session once per change of the directory (its mtime moves when a file is
        added or removed; a file's session never changes), so a project dir with hundreds of
        other sessions' subagents costs one stat here.
        """
        try:
            mtime = os.stat(directory).st_mtime_ns
        except OSError:
            return []
        with self.lock:
            hit = self.grouped.get(directory)
        if hit is None or hit[0] != mtime or hit[2]:
            groups: Dict[str, List[str]] = {}
            unknown = False  # a file still empty: look again next time
            for name in self.listing(directory):
                owner = self.owner(os.path.join(directory, name))
                unknown = unknown or not owner
                groups.setdefault(owner, []).append(name)
            hit = (mtime, groups, unknown)
            with self.lock:
                if len(self.grouped) > MAX_CACHED:
                    self.grouped.clear()
                self.grouped[directory] = hit
        return hit[1].get(session_id, [])

    def owner(self, path: str) -> str:
        """Return the session a 2.0.x subagent file belongs to (its records' `sessionId`).

        Read once per file: a file's first record never changes, so the many subagent files of
        other sessions in a project dir cost a dict lookup each, not a stat.
        """
        with self.lock:
            hit = self.owners.get(path)
        if hit is not None:
            return hit
        found = _read_head(path)[0]
        if found:
            with self.lock:
                if len(self.owners) > MAX_CACHED:
                    self.owners.clear()
                self.owners[path] = found
        return found

    def listing(self, directory: str) -> List[str]:
        try:
            mtime = os.stat(directory).st_mtime_ns
        except OSError:
            return []
        with self.lock:
            hit = self.dirs.get(directory)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        try:
            names = sorted(n for n in os.listdir(directory)
                           if n.startswith("agent-") and n.endswith(".jsonl"))
        except OSError:
            return []
        with self.lock:
            if len(self.dirs) > MAX_CACHED:
                self.dirs.clear()
            self.dirs[directory] = (mtime, names)
        return names

    def head(self, path: str, st: os.stat_result) -> Tuple[str, str, str, str]:
        sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self.lock:
            hit = self.heads.get(path)
        if hit is not None and hit[0] == sig:
            return hit[1]
        found = _read_head(path)
        with self.lock:  # valid until the file changes (a growing file is read again: its start)
            if len(self.heads) > MAX_CACHED:
                self.heads.clear()
            self.heads[path] = (sig, found)
        return found

    def meta(self, jsonl: str) -> Dict[str, Any]:
        """Return the `agent-<id>.meta.json` beside a 2.1.x subagent file ({} when none)."""
        path = jsonl[:-len(".jsonl")] + ".meta.json"
        try:
            st = os.stat(path)
        except OSError:
            return {}
        sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self.lock:
            hit = self.metas.get(path)
        if hit is not None and hit[0] == sig:
            return hit[1]
        data = _read_meta(path) if st.st_size <= META_BYTES else {}
        with self.lock:
            if len(self.metas) > MAX_CACHED:
                self.metas.clear()
            self.metas[path] = (sig, data)
        return data


_cache = _Cache()


def _read_head(path: str) -> Tuple[str, str, str, str]:
    """Return (session id, agent id, first user text, first timestamp) from a file's start."""
    session_id = agent_id = prompt = started = ""
    try:
        with store.open_read(path) as f:
            for _ in range(HEAD_LINES):
                raw = f.readline(HEAD_LINE_BYTES)
                if not raw:
                    break
                if not raw.endswith(b"\n") and len(raw) >= HEAD_LINE_BYTES:
                    break  # a huge first line: enough
                try:
                    record = loads(raw)
                except ValueError:
                    continue
                if not isinstance(record, dict):
                    continue
                session_id = session_id or _str(record.get("sessionId"))
                agent_id = agent_id or _str(record.get("agentId"))
                started = started or _str(record.get("timestamp"))
                if record.get("type") == "user":
                    prompt = _first_text(record.get("message"))
                    if prompt:
                        break
                elif record.get("type") == "assistant" and session_id and agent_id:
                    break  # 2.0.x: the subagent's first reply; there is no prompt line
    except OSError:
        pass
    return session_id, agent_id, prompt, started


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _first_text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content.strip()
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "text" \
                and isinstance(block.get("text"), str):
            return block["text"].strip()
        if isinstance(block, dict) and block.get("type") == "tool_result":
            return ""
    return ""


def _read_meta(path: str) -> Dict[str, Any]:
    data = store.read_json(path, META_BYTES)
    return data if isinstance(data, dict) else {}


def _dirs(transcript_path: str, session_id: str) -> Tuple[str, str]:
    project = os.path.dirname(transcript_path)
    return os.path.join(project, session_id, "subagents"), project


def _file(path: str, layout: str, session_id: str) -> Optional[SubagentFile]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    sid, agent_id, prompt, started = _cache.head(path, st)
    name_id = os.path.basename(path)[len("agent-"):-len(".jsonl")]
    if layout == "beside" and sid != session_id:
        return None  # another session's subagent, in the same project dir
    return SubagentFile(agent_id if valid_agent_id(agent_id) else name_id, path, layout,
                        _cache.meta(path) if layout == "subagents" else {}, prompt, started, sid,
                        st.st_mtime)


def files(transcript_path: str, session_id: str) -> List[SubagentFile]:
    """Return the subagent files of a session, both file layouts, oldest first."""
    if not transcript_path:
        return []
    nested, project = _dirs(transcript_path, session_id)
    found = [f for f in (_file(os.path.join(nested, n), "subagents", session_id)
                         for n in _cache.listing(nested)) if f is not None]
    found += [f for f in (_file(os.path.join(project, n), "beside", session_id)
                          for n in _cache.owned(project, session_id)) if f is not None]
    found.sort(key=lambda f: (f.started, f.path))
    return found


def find(transcript_path: str, session_id: str, agent_id: str) -> Optional[SubagentFile]:
    """Return the file of subagent `agent_id` of this session (2.1.x, then 2.0.x), or None."""
    if not transcript_path or not valid_agent_id(agent_id):
        return None
    nested, project = _dirs(transcript_path, session_id)
    name = "agent-%s.jsonl" % agent_id
    return _file(os.path.join(nested, name), "subagents", session_id) or \
        _file(os.path.join(project, name), "beside", session_id)


# -- the `subagent` object of a call ------------------------------------------------------------

def messages_url(session_id: str, agent_id: str) -> str:
    """Return where a subagent's messages are read: `/api/conversation/<id>?subagent=<agent>`."""
    return "/api/conversation/%s?subagent=%s" % (quote(session_id, safe=""), agent_id)


def annotate(messages: List[Dict[str, Any]], transcript_path: str, session_id: str) -> None:
    """Complete the `subagent` object of every Task/Agent call in `messages` (wire copies).

    Adds `messages_url` when the subagent's transcript exists, `layout`, `agent_type`, and
    what the files know: the agent id of a call the parent has not named it for, and `done`
    once the meta says finished. Each object is replaced, never changed in place (the reader
    owns the originals).
    """
    calls = [(m, i, c) for m in messages for i, c in enumerate(m.get("tool_calls") or ())
             if isinstance(c.get("subagent"), dict)]
    if not calls:
        return
    listed: Optional[List[SubagentFile]] = None
    claimed = set()
    pending = []
    nested, project = _dirs(transcript_path, session_id)
    in_nested = set(_cache.listing(nested))   # one stat per directory, not per call
    in_project = set(_cache.owned(project, session_id))
    url = messages_url(session_id, "")
    for msg, i, call in calls:
        sub = dict(call["subagent"])
        args = call.get("input")
        kind = args.get("subagent_type") if isinstance(args, dict) else None
        if kind and isinstance(kind, str):
            sub.setdefault("agent_type", kind)
        agent_id = sub.get("agent_id")
        name = "agent-%s.jsonl" % agent_id
        if sub.get("inline"):
            sub.update(layout="inline", messages_url=url + agent_id)
        elif not agent_id or not valid_agent_id(agent_id):
            pending.append((msg, sub, call))
        elif name in in_nested:
            path = nested + os.sep + name
            claimed.add(path)
            sub.update(layout="subagents", messages_url=url + agent_id)
            if sub.get("status") == "running":  # only then is the meta worth a read
                meta = _cache.meta(path)
                if meta.get("finished") is True:
                    sub["status"] = "done"
                if isinstance(meta.get("agentType"), str) and meta["agentType"]:
                    sub["agent_type"] = meta["agentType"]
        elif name in in_project:
            found = _file(os.path.join(project, name), "beside", session_id)
            if found is not None:
                claimed.add(found.path)
                _apply(sub, found, session_id)
        msg["tool_calls"][i] = dict(call, subagent=sub)
    for msg, sub, call in pending:
        if listed is None:
            listed = files(transcript_path, session_id)
        found = _link(call, msg, [f for f in listed if f.path not in claimed])
        if found is not None:
            claimed.add(found.path)
            _apply(sub, found, session_id)


def _apply(sub: Dict[str, Any], found: SubagentFile, session_id: str) -> None:
    sub["agent_id"] = found.agent_id
    sub["layout"] = found.layout
    sub["messages_url"] = messages_url(session_id, found.agent_id)
    if isinstance(found.meta.get("agentType"), str) and found.meta["agentType"]:
        sub["agent_type"] = found.meta["agentType"]
    if found.meta.get("finished") is True:
        sub["status"] = "done"


def _link(call: Dict[str, Any], msg: Dict[str, Any], free: List[SubagentFile]
          ) -> Optional[SubagentFile]:
    """Return the unclaimed file that belongs to `call`: by toolUseId, prompt, then order."""
    for f in free:
        if call.get("id") and f.meta.get("toolUseId") == call["id"]:
            return f
    args = call.get("input") if isinstance(call.get("input"), dict) else {}
    prompt = args.get("prompt").strip() if isinstance(args.get("prompt"), str) else ""
    for f in free:
        if prompt and f.prompt == prompt:
            return f
    if call["subagent"].get("status") != "running":
        return None
    since = str(msg.get("timestamp") or "")
    for f in free:  # the first one that started after the call, with no prompt to tell
        if not f.meta.get("toolUseId") and (not f.prompt or not prompt) and f.started >= since:
            return f
    return None


# -- how many run now (sessions without hooks) ------------------------------------------------

def running_count(transcript_path: str, session_id: str, now: Optional[float] = None) -> int:
    """Return how many of a session's subagent files look like they are running now."""
    now = time.time() if now is None else now
    return sum(1 for f in files(transcript_path, session_id) if _running(f, now))


def _running(f: SubagentFile, now: float) -> bool:
    if f.meta.get("finished") is True:
        return False
    if "toolUseId" in f.meta:  # a meta that gets "finished" when the agent is done (2.1.329)
        return now - f.mtime < META_WINDOW_S
    return now - f.mtime < ACTIVE_WINDOW_S and not _ends_final(f.path)


def _ends_final(path: str) -> bool:
    """Tell whether a subagent file's last message is its final answer (text, no tool call)."""
    lines = jsonl.tail_lines(path, TAIL_BYTES)
    if not lines:
        return False
    for raw in reversed(lines):
        try:
            record = loads(raw)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("type") not in ("user", "assistant"):
            continue
        if record.get("type") == "user":
            return False
        message = record.get("message") if isinstance(record.get("message"), dict) else {}
        blocks = message.get("content") if isinstance(message.get("content"), list) else []
        return message.get("stop_reason") in (None, "end_turn") and not any(
            isinstance(b, dict) and b.get("type") == "tool_use" for b in blocks)
    return False
