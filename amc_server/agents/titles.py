"""A session's title: what the session was about, in one line, by one rule for every agent.

Place in the flow: a reader of a whole session file (history_file.HistoryFile for the History,
GET /api/history) feeds a `Titles` every record it decodes and every user message its agent's
conversation reader (agents/claude/transcript.py, agents/codex/transcript.py) makes of them; `Titles.title(project)`
then says the title. The rule, first that applies:

1. the agent's own title for the session: Claude Code's `custom-title` (the user named it), then
   Codex's `thread_name`, then Claude's `ai-title`, then a `summary` record whose `leafUuid` is a
   record of this file. 1.0.x-2.0.x wrote `summary` lines at the top of a file for the chains of
   *other* sessions (the leaves are never in the file they sit in: docs/claude-jsonl-reference
   02), so a summary titles this session only when its leaf is here;
2. the first prompt the person typed, with the context the CLI or an IDE wrapped around it taken
   off (`<ide_selection>`, `<ide_opened_file>`, `<system-reminder>` ...) and slash commands,
   `!` shell lines, caveats and injected text skipped. A `/clear` starts a new topic: everything
   before it was cleared, so the first prompt after the last `/clear` (when one follows) wins;
3. the arguments of a command of the user's own (`/orchestrator update CLAUDE.md` -> "update
   CLAUDE.md"; Claude Code's built-in commands take settings, not topics);
4. "untitled — <project>".

Agent knowledge stays here and in the agents' readers: which records carry titles, which text
is injected. Nothing here reads files.
"""
import collections
import re
from typing import Any, Dict, Iterable, Optional, Tuple

from ..model import preview
from .claude import transcript as claude
from .codex import transcript as codex

TITLE_CHARS = 200
UNTITLED = "untitled"
# Most telling first: the user's own name, the agent's, a summary of this session's chain.
OWN_TITLES = ("custom-title", "thread_name", "ai-title", "summary")
_CLAUDE_TITLE_FIELDS = (("custom-title", "customTitle"), ("ai-title", "aiTitle"))

# Context the CLI or an IDE puts around (or before) what the person typed, as whole elements:
# `<ide_selection>The user selected the lines ...</ide_selection>`, `<ide_opened_file>...`,
# `<system-reminder>...`, any `<name_with-separator ...>...</name_with-separator>` (the form
# every injected tag of Claude Code and Codex has; HTML a person types has no `_` or `-` in
# its tag names, and is left alone). A known one cut by the reader's clip runs to the end.
_KNOWN_OPEN = re.compile(r"<(ide_[a-z_]+|system-reminder)\b[^>]*>.*\Z", re.S)
_WRAPPED = re.compile(r"<([a-z][a-z0-9]*[_-][a-z0-9_-]*)\b[^>]*>.*?</\1\s*>", re.S)
_INJECTED_OPEN = re.compile(r"<[a-z][a-z0-9]*[_-][a-z0-9_-]*\b")
# Text that is not a topic even when it reaches a user message: injected notes and markers.
_NOT_TYPED = tuple(sorted(set(claude.HIDDEN_PREFIXES + codex.INJECTED + (
    claude.INTERRUPT_PREFIX,))))
# Claude Code's own slash commands: their arguments are settings, never what a session is about.
BUILTIN_COMMANDS = frozenset("""add-dir agents bashes bug clear compact config context cost doctor
    exit export help hooks ide init install-github-app login logout mcp memory model output-style
    permissions plugin pr-comments privacy-settings release-notes resume review rewind
    security-review status statusline terminal-setup todos upgrade usage vim""".split())
# What a line must hold to matter after the first prompt: a `/clear` (1.0.x wrote the name
# without its slash) starts a topic again.
CLEAR_NEEDLE = b"clear</command-name>"
MAX_SUMMARIES = 64   # other sessions' summaries kept per file (1.0.x wrote dozens at the top)
RECENT_UUIDS = 32    # uuids remembered for a summary written after the chain it titles


def typed_text(text: Any) -> str:
    """Return what the person typed in a user message's text, or "" when it holds no topic.

    `<ide_selection>...</ide_selection>\\n\\nexplain this` -> "explain this"; "/init",
    "<command-name>..." and a caveat -> "".
    """
    if not isinstance(text, str):
        return ""
    text = _KNOWN_OPEN.sub("", _WRAPPED.sub("", text)).strip()
    if not text or text.startswith(_NOT_TYPED) or _INJECTED_OPEN.match(text) or \
            _slash_command(text):
        return ""
    return text


def _slash_command(text: str) -> bool:
    """Tell whether `text` is a slash command as typed (`/init`, `/model opus`), not a path."""
    word = text.split(None, 1)[0]
    return word.startswith("/") and "/" not in word[1:] and len(word) > 1


def command_args(text: Any) -> str:
    """Return the arguments of a user-defined slash command (`/orchestrator fix X` -> "fix X")."""
    if not isinstance(text, str) or not _slash_command(text.strip()):
        return ""
    parts = text.strip().split(None, 1)
    if len(parts) < 2 or parts[0][1:].lower() in BUILTIN_COMMANDS:
        return ""
    return typed_text(parts[1])


_CLEAR = re.compile(r"<command-name>/?clear</command-name>")


def is_clear(record: Dict[str, Any]) -> bool:
    """Tell whether a Claude Code user record is the `/clear` command."""
    message = record.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    texts = [content] if isinstance(content, str) else \
        [b.get("text") for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    return any(isinstance(t, str) and _CLEAR.search(t) for t in texts)


def untitled(project: str = "") -> str:
    """Return the title of a session that says nothing about itself."""
    return "%s \u2014 %s" % (UNTITLED, project) if project else UNTITLED


class Titles:
    """What one session file says about its title, fed record by record (incrementally)."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.own: Dict[str, str] = {}          # OWN_TITLES key -> the newest such title
        self.summaries: Dict[str, str] = {}    # leafUuid -> summary, not (yet) seen in this file
        self.prompt = ""                       # the title prompt (see the module docstring)
        self.args = ""                         # the first user command's arguments
        self.cleared = False                   # a /clear came after self.prompt
        self.leaf = ""                         # the newest record uuid seen (decoded lines)
        self._recent: "collections.deque[str]" = collections.deque(maxlen=RECENT_UUIDS)

    @property
    def chained(self) -> bool:
        """Whether the agent's records form a chain of uuids that another file's `summary` may
        name by its leaf (Claude Code)."""
        return self.agent == "claude"

    def restarts(self, record: Dict[str, Any]) -> bool:
        """Tell whether a record starts a new topic (Claude Code's `/clear`): the next prompt
        names the session again."""
        return self.agent == "claude" and record.get("type") == "user" and is_clear(record)

    # -- feeding ---------------------------------------------------------------------------------

    def feed(self, record: Dict[str, Any]) -> None:
        """Take the title records of a transcript line (any line: the rest is ignored)."""
        kind = record.get("type")
        if self.agent == "codex":
            payload = record.get("payload") if isinstance(record.get("payload"), dict) else {}
            if kind == "event_msg" and payload.get("type") == "thread_name_updated":
                self._own("thread_name", payload.get("thread_name"))
            return
        for key, field in _CLAUDE_TITLE_FIELDS:
            if kind == key:
                self._own(key, record.get(field))
        if kind == "summary":
            leaf, text = record.get("leafUuid"), record.get("summary")
            if isinstance(leaf, str) and leaf and isinstance(text, str) and text.strip():
                if leaf in self._recent:
                    self.own["summary"] = text  # written after the chain it titles
                elif len(self.summaries) < MAX_SUMMARIES:
                    self.summaries[leaf] = text
            return
        for key in ("uuid", "parentUuid"):
            uid = record.get(key)
            if not isinstance(uid, str) or not uid:
                continue
            if uid in self.summaries:
                self.own["summary"] = self.summaries.pop(uid)  # a summary of this chain
            if key == "uuid":
                self.leaf = uid
                self._recent.append(uid)

    def _own(self, key: str, text: Any) -> None:
        if isinstance(text, str) and text.strip():
            self.own[key] = text

    def message(self, msg: Dict[str, Any]) -> None:
        """Take one user message of the agent's conversation reader (`content`, `kind`)."""
        if msg.get("role") != "user":
            return
        content, kind = msg.get("content"), msg.get("kind") or "prompt"
        if kind == "command":
            if isinstance(content, str) and content.split(None, 1)[:1] == ["/clear"]:
                self.cleared = bool(self.prompt)
            elif not self.args:
                self.args = command_args(content)
            return
        if kind not in ("prompt", "queued", "channel"):
            return  # `!` shell lines and anything else the person did not say to the agent
        text = typed_text(content)
        if text and (not self.prompt or self.cleared):
            self.prompt, self.cleared = text, False

    def has_prompt(self) -> bool:
        """Tell whether a prompt is known and no /clear waits for the next one."""
        return bool(self.prompt) and not self.cleared

    def needles(self) -> Tuple[bytes, ...]:
        """Return what a line must hold to matter once the prompt is known (usage.UsageFile)."""
        if self.agent == "codex":
            return (b"thread_name",)
        leaves = tuple(leaf.encode() for leaf in list(self.summaries)[:8])
        return (b'-title"', b'"summary"', CLEAR_NEEDLE) + leaves

    # -- the answer ------------------------------------------------------------------------------

    def source(self) -> str:
        """Return where the title comes from: an OWN_TITLES key, "prompt", "command" or ""."""
        for key in OWN_TITLES:
            if self.own.get(key):
                return key
        return "prompt" if self.prompt else ("command" if self.args else "")

    def title(self, project: str = "") -> str:
        """Return the session's title (module docstring), at most TITLE_CHARS characters."""
        source = self.source()
        text = self.own[source] if source in OWN_TITLES else \
            self.prompt if source == "prompt" else self.args
        return preview(text, TITLE_CHARS) if text else untitled(project)

    def other_leaves(self) -> Iterable[Tuple[str, str]]:
        """Return (leafUuid, summary) of the summaries here that title other sessions."""
        return list(self.summaries.items())


def summary_for(leaf: Optional[str], summaries: Dict[str, str]) -> str:
    """Return the summary another file wrote for the chain ending at `leaf`, or ""."""
    return summaries.get(leaf or "", "") if leaf else ""
