"""What the search index holds: one document per Message, and which files are transcripts.

Place in the flow: transcripts -> agents/ readers (the same classes `/api/conversation` uses, so
`message_id` is the id the conversation gives) -> `document()` here -> indexer.py. A document has
three columns: `text` (the prompt or reply, and a channel reply), `tools` (each tool call's name,
the strings of its input, its output) and `thinking`. Strings the reader clipped (over 64 KB:
agents/base.py keeps the first 4000 characters) are indexed as the reader kept them, without its
marker. The two private-use characters that mark hits in snippets are replaced in the text, so a
transcript cannot fake a highlight.
"""
import os
import zlib
from typing import Any, Dict, Iterator, List, Tuple

from .. import agents as agent_family
from ..agents.base import CLIPPED, Transcript
from ..core.sources import transcript_refusal
from ..model import project_name
from ..paths import Paths

MARK_START, MARK_END = "\ue000", "\ue001"  # around each hit in a snippet (query.py)
_MARKS = {ord(MARK_START): "\ufffd", ord(MARK_END): "\ufffd"}
MAX_DEPTH = 8




def reader_for(agent: str, path: str, session_id: str) -> Transcript:
    """Return a fresh reader of `path` for `agent` (ids: <agent>-<first 8 of session_id>-<n>)."""
    member = agent_family.get(agent)
    if member is None:
        raise ValueError("no reader for agent %r" % agent)
    return member.transcript(path, session_id)


def project_dir_of(reader: Transcript) -> str:
    """Return the working directory the transcript says the session ran in ("" if none)."""
    meta = getattr(reader, "meta", None)
    cwd = (meta.get("cwd") if isinstance(meta, dict) else None) or getattr(reader, "cwd", "")
    return cwd if isinstance(cwd, str) else ""


def project_of(project_dir: str) -> str:
    return project_name(project_dir) if project_dir else ""


def _clean(text: str) -> str:
    if "\u2026 [" in text:
        text = CLIPPED.sub("", text)
    return text.translate(_MARKS)


def _strings(value: Any, out: List[str], depth: int = 0) -> None:
    """Append the strings inside a tool input (values, not keys: what a person would search)."""
    if isinstance(value, str):
        if value:
            out.append(value)
    elif depth < MAX_DEPTH and isinstance(value, dict):
        for v in value.values():
            _strings(v, out, depth + 1)
    elif depth < MAX_DEPTH and isinstance(value, list):
        for v in value:
            _strings(v, out, depth + 1)


def document(msg: Dict[str, Any]) -> Tuple[str, str, str]:
    """Return the (text, tools, thinking) of one message as indexed."""
    text = msg.get("content") or ""
    reply = msg.get("channel_reply")
    if isinstance(reply, str) and reply:
        text = text + "\n\n" + reply if text else reply
    parts: List[str] = []
    for call in msg.get("tool_calls") or ():
        parts.append(str(call.get("name") or ""))
        _strings(call.get("input"), parts)
        result = call.get("result")
        if isinstance(result, str) and result:
            parts.append(result)
    return (_clean(text if isinstance(text, str) else ""), _clean("\n".join(parts)),
            _clean(msg.get("thinking") or ""))


def fingerprint(msg: Dict[str, Any], doc: Tuple[str, str, str]) -> int:
    """Return a 32-bit fingerprint of what is indexed of a message (changed -> index again)."""
    head = "%s\0%s\0%s\0" % (msg.get("id"), msg.get("role"), msg.get("timestamp"))
    crc = zlib.crc32(head.encode("utf-8", "replace"))
    for part in doc:
        crc = zlib.crc32(part.encode("utf-8", "replace"), crc)
        crc = zlib.crc32(b"\0", crc)
    return crc


# -- which files are transcripts -----------------------------------------------------------------

def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def transcript_files(paths: Paths, agents: Any = None) -> List[Tuple[str, str, str]]:
    """Return (agent, path, session id) of every transcript on this machine, newest first
    (each agent's `session_files`; a session in several places: the newest, as
    /api/conversation picks)."""
    found: Dict[Tuple[str, str], Tuple[int, str]] = {}
    for agent, path, sid in walk(paths, agents):
        mtime = _mtime(path)
        key = (agent, sid)
        if key not in found or (mtime, path) > found[key]:
            found[key] = (mtime, path)
    rows = sorted(((m, agent, p, sid) for (agent, sid), (m, p) in found.items()), reverse=True)
    return [(agent, p, sid) for _, agent, p, sid in rows]


def walk(paths: Paths, agents: Any = None) -> Iterator[Tuple[str, str, str]]:
    """Yield (agent, path, session id) of every session file on this machine, agent by agent
    (each package's `session_files`; consumers/history.py too)."""
    for name in agents if agents is not None else agent_family.names():
        member = agent_family.get(name)
        if member is None:
            continue
        for path, sid, linked in member.session_files(paths):
            if _inside(paths, path, sid, linked):
                yield name, path, sid


def _inside(paths: Paths, path: str, sid: str, linked: bool) -> bool:
    """Tell whether a transcript found by the walk may be read (core.sources.transcript_refusal:
    no symlink out of the agent's directory). Only a symlinked file, or a file in a folder
    reached through a symlink (`linked`), is looked at closely: one lstat per file."""
    if linked or os.path.islink(path):
        return not transcript_refusal(paths, path, sid)
    return True


def session_of(paths: Paths, path: str) -> Tuple[str, str]:
    """Return (agent, session id) of a transcript path, or ("", "") when it is none."""
    for name, member in agent_family.load().items():
        sid = member.session_of(paths, path)
        if sid:
            return name, sid
    return "", ""
