"""The Codex scenarios of the fixture recorder: `SCENARIOS`, scenario name -> `record(out)`.

Each scenario runs the real Codex CLI of this run's version (tests/support/tools.py: the pin or
AMC_TEST_CODEX_VERSION) in a fresh AgentHome against tests/support/fakemodel.py, as `codex exec` or
as the TUI in a private tmux, and hands `out` (tests/recording/common.py) what the run left behind:

    rollout.jsonl   the session's rollout from $CODEX_HOME/sessions/
    hooks.jsonl     every hook payload, `{"event": <hook_event_name>, "stdin": <payload>}`, in order
                    (a capture script registered in $CODEX_HOME/hooks.json for every event)
    notify.jsonl    every `notify` payload (the JSON Codex appends to the notify command's argv)
    screens.txt     the terminal at each step, each screen after a `<label>:` line (TUI only)

Hooks and notify are captured raw by our own scripts rather than through AMC's event log, so the
payloads are what Codex sends, uncut. The temporary root is rewritten as the 0.169.0 recordings
had it: `<root>/work` -> /home/dev/work, `<root>/home` -> /home/dev/work/home. `SCRIPTED` says what
each scenario typed and what a reader must make of its rollout (tests/test_recording_changes.py).
"""
import glob
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from amc_server.install import hooks as hooks_config
from tests.support import fakemodel, tools
from tests.support.agentenv import AgentHome, PrivateTmux
from tests.support.fakemodel import FakeModel
from tests.support.fakemodel_rules import (DEFAULT_CODEX_RULES, CodexReply, CodexRule, CodexTurn,
                                           codex_function_output)
from tests.recording import shapes
from tests.recording.common import Recording

READY = "Ask Codex to do anything"
TRUST_LABEL = "the folder-trust screen at start"
HOOK_EVENTS = hooks_config.CODEX_EVENTS + ("Interrupt", "PreCompact", "PostCompact",
                                           "SubagentStart", "SubagentStop")
NO_PROXY = {"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}
STEP_TIMEOUT = 30
ESCALATE_REASON = "Need to write outside the workspace for the test"
REASONING = "**Thinking** about the fake answer"
CUT_ID = "rs_cut_stream"  # marks a reply sent as response.created alone: the stream is cut
PATCH = """*** Begin Patch
*** Update File: app.py
@@ def greet(name):
-    return "Hello " + name
+    greeting = "Hello, " + name + "!"
+    return greeting
@@ def main():
-    print(greet("world"))
+    print(greet("Codex"))
*** Add File: NOTES.md
+# Notes
+
+Greeting changed.
*** Delete File: old.txt
*** End Patch
"""
APP_PY = ('import sys\n\n\ndef greet(name):\n    return "Hello " + name\n\n\ndef main():\n'
          '    print(greet("world"))\n\n\nif __name__ == "__main__":\n    main()\n')
PATCH_REPLY = "Patched app.py, added NOTES.md, removed old.txt."
MULTITURN = ["delay test 0.05", "delay test 0.1", "delay test 0.2", "paste test one",
             "typed then Enter in same call"]


def echo(prompt: str) -> str:
    """Return the fake model's default reply to `prompt`."""
    return "Hello from the fake model! You said: " + prompt


# What each scenario typed and what its rollout must read as (prompts, replies, tool calls).
SCRIPTED: Dict[str, Dict[str, Any]] = {
    "exec-text-only": {"prompts": ["say hi"], "replies": [echo("say hi")], "tools": []},
    "exec-apply-patch": {"prompts": ["PATCH: update the greeting"], "replies": [PATCH_REPLY],
                         "tools": [("apply_patch", "*** Update File: app.py")]},
    "tui-multiturn-interrupt": {"prompts": MULTITURN + ["SLOW interrupt me"],
                                "replies": [echo(p) for p in MULTITURN], "tools": [],
                                "interrupted": True},
    "tui-approval-reasoning-stream-error": {
        "prompts": ["ASKESC please", "REASON then answer", "REASON then answer, try 2"],
        "replies": ["The command returned: ", echo("REASON then answer, try 2")],
        "tools": [("exec_command", "touch /home/dev/work/escalated.txt && echo escalated")],
        "error": "stream disconnected", "thinking": REASONING},
    "tui-trust-screen": {"prompts": [], "replies": [], "tools": []},
}


# ------------------------------------------------------------------------------- model rules
def patch_rule(turn: CodexTurn) -> Optional[CodexReply]:
    """"PATCH..." -> one apply_patch custom tool call (Update/Add/Delete); its output -> a reply."""
    if turn.items and turn.items[-1].get("type") == "custom_tool_call_output":
        return CodexReply.text(PATCH_REPLY)
    if turn.wants_json or not turn.prompt.startswith("PATCH"):
        return None
    return CodexReply([{"type": "custom_tool_call", "name": "apply_patch", "input": PATCH,
                        "call_id": "call_patch_1", "status": "completed"}])


def slow_rule(gate: threading.Event) -> CodexRule:
    """"SLOW..." -> a reply held until `gate` is set (the scenario interrupts it first)."""
    def rule(turn: CodexTurn) -> Optional[CodexReply]:
        if turn.wants_json or not turn.prompt.startswith("SLOW"):
            return None
        return CodexReply(CodexReply.text("too late").items, gate=gate)
    return rule


def askesc_rule(target: str) -> CodexRule:
    """"ASKESC..." -> an exec_command outside the sandbox, which on-request must approve."""
    def rule(turn: CodexTurn) -> Optional[CodexReply]:
        if turn.wants_json or turn.function_output is not None or \
                not turn.prompt.startswith("ASKESC"):
            return None
        return CodexReply([{"type": "function_call", "name": "exec_command", "arguments": json.dumps({
            "cmd": "touch %s && echo escalated" % target,
            "sandbox_permissions": "require_escalated", "justification": ESCALATE_REASON})}])
    return rule


def reason_rule(turn: CodexTurn) -> Optional[CodexReply]:
    """"REASON..." -> reasoning + the echo; without "try 2" the stream is cut before its end."""
    if turn.wants_json or turn.function_output is not None or \
            not turn.prompt.startswith("REASON"):
        return None
    if "try 2" not in turn.prompt:
        return CodexReply([{"type": "reasoning", "id": CUT_ID, "summary": [], "content": None,
                            "encrypted_content": None}])
    return CodexReply([
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": REASONING}],
         "content": None, "encrypted_content": None},
        {"type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": echo(turn.prompt), "annotations": []}]}])


class CuttingModel(FakeModel):
    """The fake model, but a reply holding CUT_ID ends right after `response.created`."""

    def start(self) -> "CuttingModel":
        base = fakemodel._make_handler(self)

        class Handler(base):  # type: ignore[misc, valid-type]
            def _send(self, status: Any, content_type: str, data: bytes) -> None:
                if CUT_ID.encode() in data:
                    data = data.split(b"event: response.output_item.done", 1)[0]
                super()._send(status, content_type, data)

        self._server = fakemodel.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self


# ------------------------------------------------------------------------------- one run
HOOK_SCRIPT = """import json, sys
data = sys.stdin.read()
try:
    payload = json.loads(data)
except ValueError:
    payload = {"_raw": data}
name = payload.get("hook_event_name") if isinstance(payload, dict) else None
with open(sys.argv[1], "a", encoding="utf-8") as f:
    f.write(json.dumps({"event": name, "stdin": payload}) + "\\n")
"""
NOTIFY_SCRIPT = """import json, sys
try:
    payload = json.loads(sys.argv[-1])
except ValueError:
    payload = {"_raw": sys.argv[-1]}
with open(sys.argv[1], "a", encoding="utf-8") as f:
    f.write(json.dumps(payload) + "\\n")
"""


class Run:
    """One scenario's sandbox: home, project, fake model, capture scripts, maybe a tmux."""

    def __init__(self, out: Recording, project: str, rules: List[CodexRule],
                 approval_policy: str = "never", trusted: bool = True, capture: bool = True,
                 git: bool = False) -> None:
        self.out = out
        self.codex = tools.require("codex")
        self.home = AgentHome(prefix="amc-rec-codex-")
        self.fake = CuttingModel(codex_rules=rules + list(DEFAULT_CODEX_RULES)).start()
        self.project = self.home.project(project, git=git)
        self.capture_dir = os.path.join(self.home.root, "capture")
        os.makedirs(self.capture_dir)
        self.hooks_log = os.path.join(self.capture_dir, "hooks.jsonl")
        self.notify_log = os.path.join(self.capture_dir, "notify.jsonl")
        config = self.home.write_codex_config(self.fake.url, [self.project] if trusted else [],
                                              approval_policy=approval_policy)
        if capture:
            self._install_capture(config)
        self.env = self.home.env(self.fake.url, NO_PROXY)
        self.tmux: Optional[PrivateTmux] = None
        self.screens: List[str] = []
        out.map_path(os.path.join(self.home.root, "work"), "/home/dev/work")
        out.map_path(self.home.home, "/home/dev/work/home")
        out.map_path(self.home.root, "/home/dev/work/tmp")

    def _install_capture(self, config: str) -> None:
        hook, notify = (os.path.join(self.capture_dir, n) for n in ("hook.py", "notify.py"))
        for path, text in ((hook, HOOK_SCRIPT), (notify, NOTIFY_SCRIPT)):
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        hooks_config.edit_json_hooks(os.path.join(self.home.codex_home, "hooks.json"),
                                     HOOK_EVENTS, "%s %s %s" % (sys.executable, hook,
                                                                 self.hooks_log), True)
        with open(config, encoding="utf-8") as f:  # notify is a top-level key: before any table
            text = f.read()
        with open(config, "w", encoding="utf-8") as f:
            f.write("notify = %s\n%s" % (json.dumps([sys.executable, notify, self.notify_log]),
                                         text))

    def close(self) -> None:
        if self.tmux is not None:
            self.tmux.kill()
        self.fake.stop()
        self.home.cleanup()

    # -- codex exec
    def exec(self, prompt: str, *flags: str) -> str:
        """Run one `codex exec` turn in the project; return its output (fails on a non-zero exit)."""
        proc = subprocess.run([self.codex, "exec", "--skip-git-repo-check",
                               "--dangerously-bypass-hook-trust"] + list(flags) + [prompt],
                              cwd=self.project, env=self.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        text = proc.stdout.decode("utf-8", "replace")
        if proc.returncode != 0:
            raise RuntimeError("codex exec %r exited %d:\n%s" % (prompt, proc.returncode,
                                                                  text[-3000:]))
        return text

    # -- the TUI
    def tui(self, *args: str, ready: str = READY) -> str:
        """Start the Codex TUI in a private tmux (200x50); return the screen showing `ready`."""
        self.tmux = PrivateTmux(tools.require("tmux"), self.env)
        self.tmux.new_session([self.codex] + list(args), self.project, self.env)
        return self.tmux.wait_for(ready, timeout=STEP_TIMEOUT)

    def screen(self, label: str, screen: Optional[str] = None) -> str:
        """Keep the current screen (or `screen`) under `label`; return it."""
        assert self.tmux is not None
        text = self.tmux.capture() if screen is None else screen
        self.screens.append("%s:\n%s" % (label, text if text.endswith("\n") else text + "\n"))
        return text

    def prompt(self, text: str, wait: str = "", delay: float = 0.3) -> str:
        """Type `text`, wait `delay`, press Enter; then wait for `wait` (default: its echo)."""
        assert self.tmux is not None
        self.tmux.send_literal(text)
        self.tmux.wait_for(text[-40:], timeout=STEP_TIMEOUT)
        time.sleep(delay)
        self.tmux.send_enter()
        return self.tmux.wait_for(wait or "You said: " + text, timeout=STEP_TIMEOUT)

    def wait_request(self, prompt: str) -> None:
        """Wait until the fake model got a turn whose prompt is `prompt`."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while prompt not in [r.get("prompt") for r in self.fake.requests_to("/v1/responses")]:
            if time.monotonic() > deadline:
                raise AssertionError("the fake model never got %r; it got %r\n%s" % (
                    prompt, [r.get("prompt") for r in self.fake.requests_to("/v1/responses")],
                    self.tmux_screen()))
            time.sleep(0.1)

    def wait_rollout(self, check: Callable[[List[Dict[str, Any]]], bool]) -> None:
        """Wait until the session's rollout passes `check(records)`."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while not check(read_jsonl(self.rollout())):
            if time.monotonic() > deadline:
                raise AssertionError("the rollout never got there:\n%s" % self.tmux_screen())
            time.sleep(0.2)

    def tmux_screen(self) -> str:
        return self.tmux.capture() if self.tmux is not None else ""

    def quit(self) -> None:
        """Leave the TUI with /quit (so SessionEnd runs); kill it if it does not go."""
        assert self.tmux is not None
        self.tmux.send_literal("/quit")
        time.sleep(0.5)
        self.tmux.send_enter()
        try:
            self.tmux.wait_gone(timeout=15)
        except AssertionError:
            self.tmux.kill()
        time.sleep(0.5)  # the SessionEnd hook and the last rollout lines

    # -- what the run left
    def rollout(self) -> str:
        """Return the session's rollout ('' before there is one): the newest, biggest one."""
        found = glob.glob(os.path.join(self.home.codex_home, "sessions", "*", "*", "*",
                                       "rollout-*.jsonl"))
        return max(found, key=lambda p: (os.path.getsize(p), p)) if found else ""

    def write(self) -> None:
        """Hand the rollout, hook and notify payloads and screens to the recording."""
        rollout = self.rollout()
        if rollout:
            self.out.write_file("rollout.jsonl", rollout)
        for name, path in (("hooks.jsonl", self.hooks_log), ("notify.jsonl", self.notify_log)):
            if os.path.exists(path) and os.path.getsize(path):
                self.out.write_file(name, path)
        if self.screens:
            self.out.write("screens.txt", "\n".join(self.screens))


def read_jsonl(path: str) -> List[Dict[str, Any]]:
    """Return the JSON objects of a JSONL file ([] when absent); torn lines are skipped."""
    return shapes.read_jsonl(path)


def _has_event(kind: str) -> Callable[[List[Dict[str, Any]]], bool]:
    return lambda records: any(r.get("type") == "event_msg" and isinstance(r.get("payload"), dict)
                               and r["payload"].get("type") == kind for r in records)


# ------------------------------------------------------------------------------- scenarios
def exec_text_only(out: Recording) -> None:
    """`codex exec "say hi"`: one prompt, one text reply."""
    run = Run(out, "proj", [], git=True)
    try:
        run.exec("say hi")
        run.write()
    finally:
        run.close()


def exec_apply_patch(out: Recording) -> None:
    """`codex exec -m gpt-5.5` applying an Update/Add/Delete patch (gpt-5.5 gets apply_patch)."""
    run = Run(out, "patch-proj", [patch_rule])
    try:
        for name, text in (("app.py", APP_PY), ("old.txt", "obsolete\n")):
            with open(os.path.join(run.project, name), "w", encoding="utf-8") as f:
                f.write(text)
        run.exec("PATCH: update the greeting", "-m", "gpt-5.5")
        if os.path.exists(os.path.join(run.project, "old.txt")):
            raise AssertionError("the patch did not apply: old.txt is still there")
        run.write()
    finally:
        run.close()


def tui_multiturn_interrupt(out: Recording) -> None:
    """The TUI: prompts typed with Enter after 0.05/0.1/0.2 s, pasted, typed with Enter in one
    tmux call (Enter again when that did not send it); then a turn held by the model and
    interrupted with Esc."""
    gate = threading.Event()
    run = Run(out, "proj", [slow_rule(gate)], git=True)
    try:
        run.screen("ready", run.tui("--dangerously-bypass-hook-trust"))
        assert run.tmux is not None
        for prompt, delay in zip(MULTITURN[:3], (0.05, 0.1, 0.2)):
            run.screen("after %r (Enter %.2f s after typing)" % (prompt, delay),
                       run.prompt(prompt, delay=delay))
        run.tmux.run("set-buffer", "--", MULTITURN[3])
        run.tmux.run("paste-buffer", "-p", "-t", run.tmux.pane)
        run.tmux.wait_for(MULTITURN[3])
        time.sleep(0.3)
        run.tmux.send_enter()
        run.screen("after %r (bracketed paste, then Enter)" % MULTITURN[3],
                   run.tmux.wait_for("You said: " + MULTITURN[3], timeout=STEP_TIMEOUT))
        run.tmux.send_keys(MULTITURN[4], "Enter")
        time.sleep(2.0)
        label = "after %r (text and Enter in one send-keys)" % MULTITURN[4]
        if "You said: " + MULTITURN[4] not in run.screen(label):
            # 0.171.0 takes an Enter that arrives with the text as part of a paste (a newline)
            run.tmux.send_enter()
            run.screen("after a second Enter", run.tmux.wait_for(
                "You said: " + MULTITURN[4], timeout=STEP_TIMEOUT))
        run.tmux.type_line("SLOW interrupt me")
        run.wait_request("SLOW interrupt me")
        time.sleep(1.0)
        run.screen("while 'SLOW interrupt me' runs (the model holds its reply)")
        run.tmux.send_keys("Escape")
        run.wait_rollout(_has_event("turn_aborted"))
        time.sleep(1.0)
        run.screen("after Esc: the turn interrupted")
        gate.set()
        run.quit()
        run.write()
    finally:
        gate.set()
        run.close()


def tui_approval_reasoning_stream_error(out: Recording) -> None:
    """The TUI with approval_policy on-request: an escalated command approved with 1, a turn
    whose stream is cut before response.completed, then reasoning and a reply."""
    run = Run(out, "proj", [reason_rule, codex_function_output], approval_policy="on-request",
              git=True)
    target = os.path.join(run.home.root, "work", "escalated.txt")  # outside the workspace
    run.fake.codex_rules.insert(0, askesc_rule(target))
    try:
        run.screen("ready", run.tui("--sandbox", "workspace-write",
                                    "--dangerously-bypass-hook-trust"))
        assert run.tmux is not None
        run.screen("after 'ASKESC please': the approval prompt",
                   run.prompt("ASKESC please", wait="Press enter to confirm"))
        run.tmux.send_literal("1")
        run.screen("after keys '1': approved, the command ran",
                   run.tmux.wait_for("The command returned", timeout=STEP_TIMEOUT))
        if not os.path.exists(target):
            raise AssertionError("the approved command did not run")
        run.prompt("REASON then answer", wait="REASON then answer")
        run.wait_rollout(lambda rs: sum(1 for r in rs if isinstance(r.get("payload"), dict)
                                        and r["payload"].get("type") == "task_complete") >= 2)
        time.sleep(1.0)
        run.screen("after 'REASON then answer': the stream cut before response.completed")
        run.screen("after 'REASON then answer, try 2': reasoning, then the reply",
                   run.prompt("REASON then answer, try 2"))
        run.quit()
        run.write()
    finally:
        run.close()


def tui_trust_screen(out: Recording) -> None:
    """The TUI started with no arguments in a fresh `git init` project it does not trust."""
    run = Run(out, "fresh-proj", [], trusted=False, capture=False, git=True)
    try:
        run.screen(TRUST_LABEL, run.tui(ready="Trust this folder"))
        run.write()
    finally:
        run.close()


SCENARIOS: Dict[str, Callable[[Recording], None]] = {
    "exec-text-only": exec_text_only,
    "exec-apply-patch": exec_apply_patch,
    "tui-multiturn-interrupt": tui_multiturn_interrupt,
    "tui-approval-reasoning-stream-error": tui_approval_reasoning_stream_error,
    "tui-trust-screen": tui_trust_screen,
}
