"""The Claude Code scenarios of `tests/record_fixtures.py`: SCENARIOS, name -> record(out).

Each scenario drives the real TUI (tests/recording/claude_session.py) against
tests/support/fakemodel.py with the rules it needs in front of the default ones, and leaves
transcript.jsonl, hooks.jsonl, screens.txt and sessions-registry.json (plus its own extras) in
`out`; the channel scenario, with its throwaway MCP server, is in tests/recording/claude_channel.py.
tests/fixtures/README.md says per scenario what was typed and what the files show; the screens are
labelled as the 2.1.329 recordings were ("after '<prompt>'", "after keys '<keys>'").
"""
import os
import struct
import threading
import time
import zlib
from typing import Callable, Dict, Optional

from tests.support.fakemodel_rules import ClaudeReply, ClaudeTurn
from tests.recording.claude_channel import channel
from tests.recording.claude_session import PERMISSION, ClaudeSession, StepFailed
from tests.recording.common import Recording


def ask_dialog(screen: str) -> bool:
    """Tell whether the AskUserQuestion dialog is fully drawn (options and descriptions)."""
    return "Chat about this" in screen and "third" in screen


# ------------------------------------------------------------------ the 2.1.329 scenarios
def bash_tool(out: Recording) -> None:
    """A Bash call the default mode runs without asking (`echo`)."""
    with ClaudeSession(out, "bash-tool") as s:
        s.start()
        s.prompt("BASH: echo hello-from-bash")
        s.save()


def permission_prompt(out: Recording) -> None:
    """`--permission-mode default`: a Bash call's prompt, shown, then allowed with 1."""
    with ClaudeSession(out, "permission-prompt") as s:
        s.start("--permission-mode", "default")
        s.prompt("BASH: touch made-by-agent.txt", until=PERMISSION)
        # its Notification hook ("Claude needs your permission") comes some seconds later (2.1.332:
        # about 6 s); wait for it, but a version that sends none is a change to record, not a failure
        deadline = time.monotonic() + 15
        while s.count("Notification") == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        s.keys("", label="after keys ''")  # the dialog, fully drawn
        s.keys("1", stop=True)
        s.save()


def ask_option(out: Recording) -> None:
    """AskUserQuestion answered with option 2 in the terminal."""
    with ClaudeSession(out, "ask-option") as s:
        s.start()
        s.prompt("ASK: Which database should we use?", until=ask_dialog, settle=0.5)
        s.keys("2", stop=True)
        s.save()


def ask_freeform(out: Recording) -> None:
    """AskUserQuestion answered in its "Type something." row (option 4)."""
    with ClaudeSession(out, "ask-freeform") as s:
        s.start()
        s.prompt("ASK: Which color should the button be?", until=ask_dialog, settle=0.5)
        s.keys("4", settle=0.5)
        s.tmux.send_literal("teal with a dark border")
        s.wait("teal with a dark border", "the typed answer")
        time.sleep(0.3)
        s.keys("Enter", stop=True, label="after keys 'teal with a dark border'")
        s.save()


def chat_and_prose_question(out: Recording) -> None:
    """A plain prompt, then a reply that ends in a question (no tool)."""
    with ClaudeSession(out, "chat-and-prose-question") as s:
        s.start()
        s.prompt("hello there")
        s.prompt("PROSE? what next")
        s.save()


def png(width: int, height: int) -> bytes:
    """Return a small RGB gradient PNG."""
    rows = b"".join(b"\x00" + b"".join(bytes([x * 255 // width, y * 255 // height, 160])
                                       for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                               0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def tool_views(out: Recording) -> None:
    """Write, Edit, Read (text and a PNG), a coloured Bash and a WebFetch that fails offline."""
    steps: Dict[str, tuple] = {}

    def step_rule(turn: ClaudeTurn) -> Optional[ClaudeReply]:
        key = turn.prompt.split(":", 1)[0].strip()
        if turn.tool_results or key not in steps:
            return None
        name, tool_input = steps[key]
        return ClaudeReply([("text", "Running %s." % name), ("tool_use", name, tool_input)])

    with ClaudeSession(out, "tool-views", [step_rule]) as s:
        notes = os.path.join(s.project, "notes.txt")
        with open(os.path.join(s.project, "chart.png"), "wb") as f:
            f.write(png(48, 32))
        steps.update({
            "WRITE": ("Write", {"file_path": notes, "content": "".join(
                "line %d of the notes\n" % i for i in range(1, 13))}),
            "EDIT": ("Edit", {"file_path": notes,
                              "old_string": "line 3 of the notes\nline 4 of the notes\n",
                              "new_string": "line 3 was changed\nline 3b is new\n"
                                            "line 4 of the notes\n", "replace_all": False}),
            "READ": ("Read", {"file_path": notes}),
            "IMAGE": ("Read", {"file_path": os.path.join(s.project, "chart.png")}),
            "COLOR": ("Bash", {"command": "printf '\\033[31mred\\033[0m plain \\033[1;32mbold "
                                          "green\\033[0m \\033[38;5;208morange\\033[0m\\n'; "
                                          "printf 'second line\\n' >&2",
                               "description": "Print coloured text"}),
            "FETCH": ("WebFetch", {"url": "https://example.com/docs?page=1",
                                   "prompt": "Summarise the page"}),
        })
        s.start("--permission-mode", "acceptEdits", "--allowedTools", "Bash(printf *)", "Read",
                "WebFetch")
        for key in steps:
            stops = s.count("Stop")
            s.tmux.type_line("%s: please" % key)

            def ended() -> bool:
                screen = s.tmux.capture()
                if PERMISSION in screen or "proceed?" in screen:  # should not be asked; say so
                    s.snap("%s (prompt)" % key)
                    s.tmux.send_enter()
                    time.sleep(1)
                return s.count("Stop") > stops
            s.wait_for(ended, "the Stop after %s" % key, 40)
            time.sleep(1.5)
            s.snap("after '%s: please'" % key)
        s.save(exit=False)


def subagents(out: Recording) -> None:
    """Two parallel Agent calls; files copied to running/ while the first one's reply is held."""
    gate = threading.Event()

    def agents_rule(turn: ClaudeTurn) -> Optional[ClaudeReply]:
        if not turn.prompt.startswith("AGENTS:"):
            return None
        return ClaudeReply([
            ("text", "Starting two subagents."),
            ("tool_use", "Agent", {"description": "Slow look around",
                                   "prompt": "GATED: look around",
                                   "subagent_type": "general-purpose"}),
            ("tool_use", "Agent", {"description": "Echo in a shell",
                                   "prompt": "BASH: echo from-subagent",
                                   "subagent_type": "general-purpose"})])

    def gated(turn: ClaudeTurn) -> Optional[ClaudeReply]:
        if turn.prompt.startswith("GATED:") and not turn.tool_results:
            return ClaudeReply.text("Looked around: nothing odd.", gate=gate)
        return None

    def notified(turn: ClaudeTurn) -> Optional[ClaudeReply]:
        if any("<task-notification>" in t for t in turn.texts):
            return ClaudeReply.text("SUBAGENT-NOTED")
        return None

    with ClaudeSession(out, "subagents", [agents_rule, gated, notified]) as s:
        try:
            s.start("--permission-mode", "acceptEdits", "--allowedTools", "Bash(echo *)", "Agent")
            s.snap("start")
            s.tmux.type_line("AGENTS: run two")
            s.wait_for(lambda: any(p.startswith("GATED:") for p in s.prompts()),
                       "the gated subagent's request")
            s.wait_for(lambda: s.replies("TOOL-DONE") >= 1, "the other subagent's end")
            time.sleep(2.0)
            s.snap("while the first subagent runs (its reply held)")
            s.copy_state("running/")
        finally:
            gate.set()
        # each background agent's end is a task-notification turn of its own
        s.wait_for(lambda: s.count("SubagentStop") >= 2 and s.replies("SUBAGENT-NOTED") >= 2
                   and s.count("Stop") >= 3, "both subagents' ends", 40)
        time.sleep(3)
        s.snap("after both subagents finished")
        s.save(exit=False)  # as 2.1.329's was: the files of a session still open


# ------------------------------------------------------------------ new in 2.1.332's set
def parallel_tools(out: Recording) -> None:
    """One assistant message with two Bash tool_use blocks; both results in one user turn."""
    def parallel(turn: ClaudeTurn) -> Optional[ClaudeReply]:
        if not turn.prompt.startswith("PARALLEL:") or turn.tool_results:
            return None
        return ClaudeReply([("text", "Running two commands."),
                            ("tool_use", "Bash", {"command": "echo one",
                                                  "description": "Print one"}),
                            ("tool_use", "Bash", {"command": "echo two",
                                                  "description": "Print two"})])

    with ClaudeSession(out, "parallel-tools", [parallel]) as s:
        s.start("--allowedTools", "Bash(echo *)")
        s.prompt("PARALLEL: run two")
        s.save()


def interrupt(out: Recording) -> None:
    """Esc while a pre-allowed `sleep 5` runs, then one more prompt.

    2.1.332 refuses a long sleep (`sleep 30`, also chained: a tool_use_error "Blocked: standalone
    sleep 30...", no PreToolUse): the first step records that refusal, the second a sleep it runs.
    """
    with ClaudeSession(out, "interrupt") as s:
        s.start("--allowedTools", "Bash(sleep *)")
        s.prompt("BASH: sleep 30")
        pre = s.count("PreToolUse")
        s.tmux.type_line("BASH: sleep 5")
        s.wait_for(lambda: s.count("PreToolUse") > pre, "the sleep's PreToolUse")
        time.sleep(1.5)
        s.snap("while `sleep 5` runs")
        s.keys("Escape", until=lambda screen: "nterrupted" in screen)
        s.prompt("after the interrupt")
        s.save()


SUMMARY_ASK = "Your task is to create a detailed summary"
SUMMARY = ("<analysis>\nThe user greeted me once; nothing else happened.\n</analysis>\n\n"
           "<summary>\n1. Primary Request and Intent: the user said \"hello there\".\n"
           "2. Pending Tasks: none.\n3. Current Work: none.\n</summary>")


def compact(out: Recording) -> None:
    """`/compact` typed in the TUI after one exchange, then one more prompt."""
    def summary(turn: ClaudeTurn) -> Optional[ClaudeReply]:
        texts = turn.texts + [turn.system]
        return ClaudeReply.text(SUMMARY) if any(SUMMARY_ASK in t for t in texts) else None

    with ClaudeSession(out, "compact", [summary]) as s:
        s.start()
        s.prompt("hello there")
        s.prompt("/compact", until=lambda screen: "ompacted" in screen, timeout=60)
        s.prompt("after the compaction")
        s.save()
        asked = [r for r in s.fake.requests_to("/v1/messages")
                 if any(SUMMARY_ASK in t for t in ClaudeTurn(r["body"]).texts)]
        if not asked:
            raise StepFailed("compact: no request asked for a summary")
        out.write_json("summary-request.json", summary_request(asked[0]["body"]))


def summary_request(body: dict) -> dict:
    """Return what the compaction's request asked: its shape, and the summary prompt's text."""
    turn = ClaudeTurn(body)
    return {"model": body.get("model"), "max_tokens": body.get("max_tokens"),
            "stream": body.get("stream"), "tools": turn.tools,
            "thinking": body.get("thinking"), "messages": len(turn.messages),
            "roles": [m.get("role") for m in turn.messages if isinstance(m, dict)],
            "system_chars": len(turn.system), "system_start": turn.system[:200],
            "prompt": next(t for t in turn.texts if SUMMARY_ASK in t)}


SCENARIOS: Dict[str, Callable[[Recording], None]] = {
    "bash-tool": bash_tool,
    "permission-prompt": permission_prompt,
    "ask-option": ask_option,
    "ask-freeform": ask_freeform,
    "chat-and-prose-question": chat_and_prose_question,
    "tool-views": tool_views,
    "subagents": subagents,
    "channel": channel,
    "parallel-tools": parallel_tools,
    "interrupt": interrupt,
    "compact": compact,
}
