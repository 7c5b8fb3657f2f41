"""Reading one subagent's conversation, with the same reader as any Claude Code transcript.

Place in the flow: consumers/conversations.py answers `?subagent=<agent id>` with one of these,
cached like a session's reader. A 2.0.x / 2.1.x subagent has its own file (agents/claude/subagents.py
finds it); a 1.0.x one is a sidechain inside its parent's transcript, read by following its
chain of `parentUuid`s from the root record whose uuid is the agent id AMC gave it. Message ids
name the agent (`claude-<first 8 of session>-<agent id>-<n>`), so they never collide with the
session's own.
"""
from typing import Any, Dict, Optional

from ... import jsonl
from ... import store
from ...store import loads
from .transcript import ClaudeTranscript
from .subagents import annotate, find, running_count, valid_agent_id  # noqa: F401
# (AGENT.subagents: conversations and the merge ask for annotate, running_count, valid_agent_id)


class SubagentTranscript(ClaudeTranscript):
    """A subagent's own file; message ids name the agent: `claude-<session 8>-<agent>-<n>`."""

    def __init__(self, path: str, session_id: str, clip: bool = True, agent_id: str = "") -> None:
        self.agent_id = agent_id
        super().__init__(path, session_id, clip)

    def reset_state(self) -> None:
        super().reset_state()
        self._subagent = True  # its records are all sidechain ones: they are the conversation

    def next_id(self) -> str:
        return "%s-%s-%s-%d" % (self.agent, self.session_id[:8], self.agent_id,
                                len(self.messages))


class InlineTranscript(SubagentTranscript):
    """A 1.0.x subagent inside its parent's transcript: the sidechain rooted at `agent_id`."""

    def reset_state(self) -> None:
        super().reset_state()
        self._members: set = set()

    def feed(self, record: Dict[str, Any], where: str) -> None:
        if record.get("isSidechain") is not True:
            return
        uuid, parent = record.get("uuid"), record.get("parentUuid")
        if (uuid == self.agent_id and parent is None) or (parent is not None
                                                          and parent in self._members):
            if isinstance(uuid, str):
                self._members.add(uuid)
            super().feed(record, where)


def open_transcript(transcript_path: str, session_id: str, agent_id: str,
                    clip: bool = True) -> Optional[SubagentTranscript]:
    """Return a reader of subagent `agent_id` of this session (not refreshed yet), or None."""
    found = find(transcript_path, session_id, agent_id)
    if found is not None:
        return SubagentTranscript(found.path, session_id, clip, agent_id)
    if valid_agent_id(agent_id) and _has_inline_root(transcript_path, agent_id):
        return InlineTranscript(transcript_path, session_id, clip, agent_id)
    return None


def _has_inline_root(path: str, agent_id: str) -> bool:
    """Tell whether the parent transcript holds a sidechain rooted at record `agent_id`."""
    needle = agent_id.encode("ascii")
    try:
        with store.open_read(path) as f:
            for raw in jsonl.iter_lines(f):  # a line over the cap is skipped, never held
                if needle not in raw or b"isSidechain" not in raw:
                    continue
                try:
                    record = loads(raw)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("uuid") == agent_id \
                        and record.get("isSidechain") is True and record.get("parentUuid") is None:
                    return True
    except OSError:
        return False
    return False
