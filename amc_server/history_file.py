"""One session file read for the History: its usage, title, project directory and times.

Place in the flow: history.py scans the agents' directories and reads each file once with a
`HistoryFile` (a usage.UsageFile, so incremental and needle-filtered), which also decodes every
line until it has seen the first prompt and the working directory, and after that only the
lines that can hold numbers or a title (or a `/clear`, after which it decodes every line again
until the next prompt). The user messages come from the agent's own conversation reader
(the agent's `AGENT.transcript`); which of them, or which title record, names the session is
agents/titles.py's rule.
"""
from typing import Any, Dict, Optional, Tuple

from .. import agents as agent_family, model, store
from ..agents.titles import CLEAR_NEEDLE, Titles, is_clear
from ..agents.usage import UsageFile, local_day


class HistoryFile(UsageFile):
    """A transcript or rollout read for the history: its usage, title, project and times."""

    def reset_state(self) -> None:
        super().reset_state()
        self.titles = Titles(self.kind)
        self.cwd = ""
        self.started_at = self.last_at = ""
        self._conv: Optional[Any] = self._reader()

    def _reader(self) -> Any:
        agent = agent_family.get(self.kind)
        return agent.transcript(self.path, self.session_id, clip=True) if agent else None

    @property
    def prompt(self) -> str:
        """The prompt the title would come from (titles.Titles.prompt)."""
        return self.titles.prompt

    def every_line(self) -> bool:
        return self._conv is not None or not self.cwd  # until the title prompt and the cwd

    def needles(self) -> Tuple[bytes, ...]:
        return self.acc.NEEDLES + self.titles.needles()

    def _block(self, block: bytes) -> None:
        """Decode as usage.UsageFile does, cut after each `/clear` line (from there every line
        is decoded again, until the next prompt), and note the block's last record uuid."""
        rest = block
        while rest:
            i = rest.find(CLEAR_NEEDLE) if self.kind == "claude" else -1
            end = rest.index(b"\n", i) + 1 if i >= 0 else len(rest)
            super()._block(rest[:end])
            rest = rest[end:]
        if self.kind == "claude":
            self._leaf(block)

    def _leaf(self, block: bytes) -> None:
        """Note the uuid of the block's last record that has one (the chain's leaf so far: a
        `summary` in another file may name it, history.py), one line decoded per block."""
        i = block.rfind(b'"uuid":"')
        if i < 0:
            return
        start = block.rfind(b"\n", 0, i) + 1
        end = block.find(b"\n", i)
        try:
            record = store.loads(block[start:end if end >= 0 else len(block)])
        except ValueError:
            return
        if isinstance(record, dict) and isinstance(record.get("uuid"), str) and record["uuid"]:
            self.titles.leaf = record["uuid"]

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
        self.titles.feed(record)
        conv = self._conv
        if conv is None and self.kind == "claude" and record.get("type") == "user" and \
                is_clear(record):
            conv = self._conv = self._reader()  # a /clear: the next prompt is the topic
        if conv is not None:
            seen = len(conv.messages)
            conv.feed(record, where)
            for msg in conv.messages[seen:]:
                self.titles.message(msg)
            if self.titles.has_prompt():
                self._conv = None  # found: the rest is read for numbers and titles only

    def _claude(self, record: Dict[str, Any], where: str) -> None:
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

    def title(self) -> str:
        """Return the session's title (agents/titles.py), "untitled — <project>" at worst."""
        return self.titles.title(model.project_name(self.cwd) if self.cwd else "")
