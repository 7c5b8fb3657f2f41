"""Conversations: cached transcript readers, deltas after a message, and followed sessions.

Place in the flow: transcripts -> agents/ readers (incremental) -> here -> `/api/conversation` and
`messages` events on the stream. A reader parses a file once and then only appended bytes; up to
MAX_READERS stay cached. A followed session (a stream client asked `?follow=<id>`) is refreshed on
its own worker thread whenever the core sees its transcript change, and each refresh publishes one
`messages` event with the new messages plus earlier ones whose content changed (a tool result
arriving), under their same ids; a transcript that was replaced or truncated is re-read and sent
whole with `reset: true`. The worker is not the core's thread, so parsing a huge transcript never
holds up other sessions' events.

What leaves here is the wire form of a message: a tool input or output over MAX_PART_BYTES is a
placeholder with its size (`input: null, input_omitted: N` / `result: <preview>, result_omitted:
N`), fetched whole with `part()`; images were never kept (agents/ make `{media_type, bytes}`):
`image()` reads one from its record when the page shows it (agents/claude/images.py).
Subagents (agents/claude/subagents.py): a Task/Agent call's `subagent` object is completed from the
subagent's own files on the way out (`annotate`), and `subagent=<agent id>` on any of these
reads that subagent's transcript instead, with its own cached reader.
"""
import collections
import copy
import logging
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from .. import store
from ..agents.claude import images as claude_images
from ..agents.claude import subagent_reader
from ..agents.claude import subagents
from ..agents.base import CLIPPED
from ..errors import BadRequest, NotFound
from ..core.sources import transcript_refusal

log = logging.getLogger("amc.core")

MAX_READERS = 64
MAX_PART_BYTES = 64 * 1024
PREVIEW_CHARS = 2000
TAIL = 24                # earlier messages re-checked for changes on every refresh
AFTER_OVERLAP = 24       # earlier messages sent again with ?after= (the client upserts by id)
FOLLOW_GRACE_S = 60.0    # a followed session stays followed this long after its last follower
MESSAGE_PARTS = ("content", "thinking")
CALL_PARTS = ("input", "result")
RESET_LIMIT = 200        # a reset sends at most the last RESET_LIMIT messages (and `total`)


def _size(value: Any) -> int:
    """Return the size in bytes of a part as the agent wrote it (clipped parts included)."""
    if value is None:
        return 0
    if not isinstance(value, str):
        try:
            value = store.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            return 0
    left_out = 0
    if CLIPPED.search(value):  # the reader kept only the start of it (agents/base.py)
        left_out = sum(int(n) for n in CLIPPED.findall(value))  # characters, not bytes
        value = CLIPPED.sub("", value)
    size = len(value) if len(value) * 4 <= MAX_PART_BYTES else len(value.encode("utf-8"))
    return size + left_out


def wire(msg: Dict[str, Any]) -> Dict[str, Any]:
    """Return a copy of `msg` fit to send: big texts, tool inputs and outputs become placeholders."""
    out = dict(msg)
    for key in MESSAGE_PARTS:
        text = out.get(key)
        size = _size(text) if isinstance(text, str) else 0
        if size > MAX_PART_BYTES:
            out[key], out[key + "_omitted"] = text[:PREVIEW_CHARS], size
    calls = []
    for call in msg.get("tool_calls") or []:
        c = dict(call)
        size = _size(c.get("input"))
        if size > MAX_PART_BYTES:
            c["input"], c["input_omitted"] = None, size
        result = c.get("result")
        size = _size(result)
        if size > MAX_PART_BYTES:
            c["result"] = result[:PREVIEW_CHARS] if isinstance(result, str) else None
            c["result_omitted"] = size
        calls.append(c)
    out["tool_calls"] = calls
    return out


def shape(msg: Dict[str, Any]) -> tuple:
    """Return a cheap fingerprint of what can change in a message after it first appears."""
    return (len(msg.get("content") or ""), len(msg.get("thinking") or ""),
            tuple((c.get("id"), "result" in c, len(str(c.get("result", "")))
                   if c.get("result") is not None else -1, c.get("is_error"),
                   (c.get("subagent") or {}).get("status"))  # a subagent that finished
                  for c in msg.get("tool_calls") or ()),
            bool(msg.get("interrupted")), bool(msg.get("is_error")), len(msg.get("images") or ()))


def index_of(messages: List[Dict[str, Any]], message_id: str) -> int:
    """Return the position of `message_id` (ids end in their position; searched otherwise)."""
    tail = message_id.rsplit("-", 1)[-1]
    if tail.isascii() and tail.isdigit() and len(tail) < 19 and int(tail) < len(messages) \
            and messages[int(tail)]["id"] == message_id:  # not "²", not 5000 digits
        return int(tail)
    for i, m in enumerate(messages):
        if m["id"] == message_id:
            return i
    return -1


def _pick(messages: List[Dict[str, Any]], message_id: str, call_id: str, field: str) -> Any:
    i = index_of(messages, message_id)
    if i < 0:
        raise NotFound("no message %s" % message_id)
    if field in MESSAGE_PARTS:
        return messages[i].get(field)
    for call in messages[i].get("tool_calls") or []:
        if call.get("id") == call_id:
            return call.get(field)
    raise NotFound("no tool call %s in message %s" % (call_id, message_id))


class Follower:
    """What was last sent for one followed transcript, to compute the next delta."""

    def __init__(self) -> None:
        self.generation = -1
        self.count = 0
        self.shapes: Dict[int, tuple] = {}
        self.followers = 0
        self.idle_since = 0.0
        self.send_tail = True   # a new follower: send the last messages once (fills the gap
        #                         between the client's GET and its follow; it upserts by id)

    def delta(self, reader: Any, messages: List[Dict[str, Any]]
              ) -> Optional[Tuple[List[Dict[str, Any]], bool]]:
        """Return (messages to send, reset) since the last call, or None when nothing changed."""
        reset = reader.generation != self.generation
        first_read = self.generation == -1
        if reset and not first_read:
            out = messages[-RESET_LIMIT:]
        elif self.send_tail or first_read:
            out = messages[-TAIL:]
        else:
            changed = [i for i, sh in self.shapes.items()
                       if i < min(self.count, len(messages)) and shape(messages[i]) != sh]
            out = [messages[i] for i in sorted(changed)] + messages[self.count:]
        self.send_tail = False
        self.generation = reader.generation
        self.count = len(messages)
        # Track the last TAIL messages and any still waiting for a tool result (or for a
        # background subagent to finish: its call has a result, the launch, long before).
        keep = {i for i in self.shapes if i < len(messages)
                and any("result" not in c or (c.get("subagent") or {}).get("status") == "running"
                        for c in messages[i].get("tool_calls") or ())}
        keep |= set(range(max(0, len(messages) - TAIL), len(messages)))
        self.shapes = {i: shape(messages[i]) for i in keep}
        if not out and not (reset and not first_read):
            return None
        return out, reset and not first_read


class Conversations:
    """Transcript readers for the API and the stream; `core` supplies sessions and the log."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self._lock = threading.Lock()
        self._readers: "collections.OrderedDict[Tuple[str, str], Any]" = collections.OrderedDict()
        self._reader_locks: Dict[Tuple[str, str], threading.Lock] = {}
        self._follow: Dict[str, Follower] = {}
        self._pending: Set[str] = set()
        self._wake = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        core.on_transcripts(self.poke)

    # -- reading ------------------------------------------------------------------------------

    def locate(self, session_id: str, agent: str = "") -> Tuple[str, str]:
        """Return (agent, transcript path) of a session, or raise NotFound."""
        s = self.core.session(session_id)
        src = self.core.src
        path = ""
        if s is not None:
            agent = agent or s["agent"]
            path = self._allowed(str(s.get("transcript_path") or ""), session_id)
        else:
            hook = src.hooks.get(session_id)
            if isinstance(hook, dict):
                agent = agent or str(hook.get("agent") or "")
                path = self._allowed(str(hook.get("transcript_path") or ""), session_id)
        for name in [agent] if agent else list(self.core.agents):
            if name not in self.core.agents:
                continue
            found = path or self._allowed((src.transcripts if name == "claude" else
                                           src.rollout_paths).get(session_id) or "", session_id) \
                or self._allowed(self._find(name, session_id), session_id)
            if found:
                return name, found
        raise NotFound("no transcript found for session %s" % session_id)

    def _find(self, agent: str, session_id: str) -> str:
        return self.core.agents[agent].find_transcript(self.core.paths, session_id) or ""

    def _allowed(self, path: str, session_id: str) -> str:
        # Never read an arbitrary file because a session file (or a symlink) says so: the one
        # rule, sources.transcript_refusal (exact name, real path inside the agent's directory).
        return "" if transcript_refusal(self.core.paths, path, session_id) else path

    def _reader(self, agent: str, path: str, session_id: str) -> Tuple[Any, threading.Lock]:
        key = (agent, path)
        with self._lock:
            reader = self._readers.pop(key, None)
            if reader is None:
                reader = self.core.agents[agent].transcript(path, session_id)
            self._readers[key] = reader
            lock = self._reader_locks.setdefault(key, threading.Lock())
            while len(self._readers) > MAX_READERS:
                old, _ = self._readers.popitem(last=False)
                self._reader_locks.pop(old, None)
            return reader, lock

    def _read(self, session_id: str, agent: str, pick: Callable[[List[Dict[str, Any]], Any], Any],
              subagent: str = "") -> Any:
        """Refresh the session's reader and return `pick(messages, reader)`, under its lock.

        `pick` must copy what it returns (`wire` does): a later refresh mutates messages (tool
        results arrive late). Only what is picked is copied, not the whole conversation.
        With `subagent`, the reader is that subagent's (agents/claude/subagents.py).
        """
        name, path = self.locate(session_id, agent)
        if subagent:
            reader, lock = self._subagent_reader(name, path, session_id, subagent)
        else:
            reader, lock = self._reader(name, path, session_id)
        with lock:
            return pick(reader.refresh(), reader)

    def messages(self, session_id: str, agent: str = "", limit: int = 0, subagent: str = ""
                 ) -> Tuple[List[Dict[str, Any]], int]:
        """Return the last `limit` messages (0: all) in wire form, and how many there are."""
        return self._annotated(session_id, agent, self._read(session_id, agent, lambda ms, _: (
            [wire(m) for m in (ms[-limit:] if limit else ms)], len(ms)), subagent))

    def after(self, session_id: str, message_id: str, agent: str = "", limit: int = 0,
              subagent: str = "") -> Tuple[List[Dict[str, Any]], int]:
        """Return the messages after `message_id` (plus the few before it, which may have
        changed since) and the total; all of them when the id is unknown (a reset)."""
        def pick(messages: List[Dict[str, Any]], _: Any) -> Tuple[List[Dict[str, Any]], int]:
            i = index_of(messages, message_id)
            start = max(0, i + 1 - AFTER_OVERLAP) if i >= 0 else 0
            if limit:
                start = max(start, len(messages) - limit)
            return [wire(m) for m in messages[start:]], len(messages)
        return self._annotated(session_id, agent, self._read(session_id, agent, pick, subagent))

    # -- subagents and images (agents/claude/subagents.py, agents/claude/images.py) ------------------

    def _annotated(self, session_id: str, agent: str, found: Tuple[List[Dict[str, Any]], int]
                   ) -> Tuple[List[Dict[str, Any]], int]:
        """Complete the `subagent` objects of Task/Agent calls in wire messages (outside any
        reader lock: it stats the subagents' files)."""
        out = found[0]
        if any("subagent" in c for m in out for c in m.get("tool_calls") or ()):
            name, path = self.locate(session_id, agent)
            if name == "claude":
                subagents.annotate(out, path, session_id)
        return found

    def _subagent_reader(self, agent: str, path: str, session_id: str, agent_id: str
                         ) -> Tuple[Any, threading.Lock]:
        if agent != "claude":
            raise BadRequest("only Claude Code sessions have subagents")
        if not subagents.valid_agent_id(agent_id):
            raise BadRequest("invalid subagent id")
        key = ("claude:" + agent_id, path)
        with self._lock:
            reader = self._readers.get(key)
        if reader is None:
            reader = subagent_reader.open_transcript(path, session_id, agent_id)
            if reader is None:
                raise NotFound("no subagent %s in session %s" % (agent_id, session_id))
        with self._lock:
            reader = self._readers.pop(key, None) or reader
            self._readers[key] = reader
            lock = self._reader_locks.setdefault(key, threading.Lock())
            while len(self._readers) > MAX_READERS:
                old, _ = self._readers.popitem(last=False)
                self._reader_locks.pop(old, None)
            return reader, lock

    def image(self, session_id: str, message_id: str, index: int, call_id: str = "",
              agent: str = "", subagent: str = "") -> Tuple[str, bytes]:
        """Return (media type, bytes) of image `index` of a message (or of one tool call's
        result in it), read from its record in the transcript."""
        def pick(messages: List[Dict[str, Any]], reader: Any) -> Tuple[str, int]:
            i = index_of(messages, message_id)
            if i < 0:
                raise NotFound("no message %s" % message_id)
            owner: Optional[Dict[str, Any]] = messages[i]
            if call_id:
                owner = next((c for c in messages[i].get("tool_calls") or ()
                              if c.get("id") == call_id), None)
                if owner is None:
                    raise NotFound("no tool call %s in message %s" % (call_id, message_id))
            if not 0 <= index < len(owner.get("images") or ()):
                raise NotFound("no image %d in %s" % (index, call_id or message_id))
            end = getattr(reader, "image_lines", {}).get(call_id or message_id)
            if end is None:
                raise NotFound("this agent's transcripts keep no images")
            return reader.path, end
        path, end = self._read(session_id, agent, pick, subagent)
        return claude_images.extract(path, end, index, call_id)

    def part(self, session_id: str, message_id: str, call_id: str, field: str,
             agent: str = "", subagent: str = "") -> Any:
        """Return a message's whole text or thinking, or one tool call's whole input or result
        (what `wire` left out)."""
        if field not in MESSAGE_PARTS + CALL_PARTS:
            raise BadRequest("field must be one of %s" % ", ".join(MESSAGE_PARTS + CALL_PARTS))
        if field in CALL_PARTS and not call_id:
            raise BadRequest("call is required for a tool call's %s" % field)
        value = self._read(session_id, agent, lambda ms, _: copy.deepcopy(
            _pick(ms, message_id, call_id, field)), subagent)
        if CLIPPED.search(store.dumps(value, ensure_ascii=False) if not isinstance(value, str)
                          else value):
            # The cached reader kept only the start: read the file once more, keeping everything.
            name, path = self.locate(session_id, agent)
            if subagent:
                reader = subagent_reader.open_transcript(path, session_id, subagent, clip=False)
                if reader is None:
                    raise NotFound("no subagent %s in session %s" % (subagent, session_id))
            else:
                reader = self.core.agents[name].transcript(path, session_id, clip=False)
            value = _pick(reader.refresh(), message_id, call_id, field)
        return value

    # -- following ----------------------------------------------------------------------------

    def follow(self, session_ids: Set[str]) -> None:
        """Start (or keep) following sessions for a stream client."""
        with self._wake:
            for sid in session_ids:
                f = self._follow.setdefault(sid, Follower())
                f.followers += 1
                f.send_tail = True
                self._pending.add(sid)   # the baseline, read on the worker
            self._ensure_worker()
            self._wake.notify()

    def unfollow(self, session_ids: Set[str]) -> None:
        with self._wake:
            for sid in session_ids:
                f = self._follow.get(sid)
                if f is not None:
                    f.followers -= 1
                    if f.followers <= 0:
                        f.idle_since = time.monotonic()

    def followed(self) -> Set[str]:
        with self._wake:
            return set(self._follow)

    def poke(self, session_ids: Set[str]) -> None:
        """The core saw these sessions' transcripts change: refresh the followed ones."""
        with self._wake:
            hit = {s for s in session_ids if s in self._follow}
            if hit:
                self._pending |= hit
                self._wake.notify()

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="amc-follow", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        stop = self.core._stop
        while not stop.is_set():
            with self._wake:
                if not self._pending:
                    self._wake.wait(5.0)
                pending, self._pending = self._pending, set()
                now = time.monotonic()
                for sid, f in list(self._follow.items()):
                    if f.followers <= 0 and now - f.idle_since > FOLLOW_GRACE_S:
                        del self._follow[sid]
                followers = {s: self._follow[s] for s in pending if s in self._follow}
            for sid, follower in followers.items():
                try:
                    self._publish(sid, follower)
                except NotFound:
                    pass  # no transcript yet: the first lines will poke us
                except Exception:
                    log.exception("following %s failed", sid)

    def _publish(self, sid: str, follower: Follower) -> None:
        def pick(messages: List[Dict[str, Any]], reader: Any) -> Any:
            delta = follower.delta(reader, messages)
            return None if delta is None else ([wire(m) for m in delta[0]], delta[1],
                                               len(messages))
        found = self._read(sid, "", pick)
        if found is None:
            return
        out, reset, total = found
        self._annotated(sid, "", (out, total))
        data = {"session_id": sid, "messages": out, "total": total}
        if reset:
            data["reset"] = True
        self.core.log.publish("messages", store.dumps(data, ensure_ascii=False,
                                                      separators=(",", ":")), session_id=sid)
