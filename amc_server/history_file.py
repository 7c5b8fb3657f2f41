"""One session file read for the History: its usage, title, project directory and times.

Place in the flow: history.py scans the agents' directories and reads each file once with a
`HistoryFile` (a usage.UsageFile, so incremental and needle-filtered), which also decodes every
line until it has seen the first prompt and the working directory, and after that only the
lines that can hold numbers or a title. The prompt is taken with the agent's own conversation
reader (agents/claude.py, agents/codex.py), so the title is the prompt the conversation shows.
"""
from typing import Any, Dict, Optional, Tuple

from . import model
from .agents.claude import ClaudeTranscript
from .agents.codex import CodexTranscript
from .usage import UsageFile, local_day

TITLE_CHARS = 200


class HistoryFile(UsageFile):
    """A transcript or rollout read for the history: its usage, title, project and times."""

    def reset_state(self) -> None:
        super().reset_state()
        self.titles: Dict[str, str] = {}   # custom-title / ai-title / summary / thread_name
        self.prompt = ""
        self.cwd = ""
        self.started_at = self.last_at = ""
        conv = ClaudeTranscript if self.kind == "claude" else CodexTranscript
        self._conv: Optional[Any] = conv(self.path, self.session_id, clip=True)

    def every_line(self) -> bool:
        return self._conv is not None or not self.cwd  # until the first prompt and the cwd

    def needles(self) -> Tuple[bytes, ...]:
        return self.acc.NEEDLES + ((b'-title"', b'"summary"') if self.kind == "claude"
                                   else (b"thread_name",))

    def wants(self, raw: bytes) -> bool:
        return self.every_line() or any(n in raw for n in self.needles())

    def feed(self, record: Dict[str, Any], where: str) -> None:
        super().feed(record, where)
        ts = record.get("timestamp")
        if local_day(ts):  # an ISO time (cached per minute; strptime per line is slow)
            self.started_at = min(self.started_at or ts, ts)
            self.last_at = max(self.last_at, ts)
        if self.kind == "claude":
            self._claude(record, where)
        else:
            self._codex(record, where)
        conv = self._conv
        if conv is not None:
            conv.feed(record, where)
            first = next((m for m in conv.messages if m.get("role") == "user" and
                          (m.get("content") or "").strip()), None)
            if first is not None:
                self.prompt = first["content"]
                self._conv = None  # found: the rest of the file is read for numbers only

    def _claude(self, record: Dict[str, Any], where: str) -> None:
        kind = record.get("type")
        for key, field in (("custom-title", "customTitle"), ("ai-title", "aiTitle"),
                           ("summary", "summary")):
            if kind == key and isinstance(record.get(field), str) and record[field].strip():
                self.titles[key] = record[field]
        if not self.cwd and isinstance(record.get("cwd"), str):
            self.cwd = record["cwd"]

    def _codex(self, record: Dict[str, Any], where: str) -> None:
        payload = record.get("payload") if isinstance(record.get("payload"), dict) else {}
        kind = record.get("type")
        if kind == "session_meta":
            if isinstance(payload.get("cwd"), str) and not self.cwd:
                self.cwd = payload["cwd"]
            ts = payload.get("timestamp")
            if local_day(ts):
                self.started_at = min(self.started_at or ts, ts)
        elif kind == "turn_context" and isinstance(payload.get("cwd"), str) and not self.cwd:
            self.cwd = payload["cwd"]
        elif kind == "event_msg" and payload.get("type") == "thread_name_updated" and \
                isinstance(payload.get("thread_name"), str) and payload["thread_name"].strip():
            self.titles["thread_name"] = payload["thread_name"]

    def title(self) -> str:
        for key in ("custom-title", "thread_name", "ai-title", "summary"):
            if self.titles.get(key):
                return model.preview(self.titles[key], TITLE_CHARS)
        return model.preview(self.prompt, TITLE_CHARS) if self.prompt else ""
