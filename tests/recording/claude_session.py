"""One recorded Claude Code TUI session: the sandbox, the steps, and the files it leaves behind.

A scenario in tests/recording/claude.py opens a `ClaudeSession` (a fresh AgentHome, the scripted
fake model with the scenario's rules in front, AMC's hooks installed by `bin/amc hooks install`,
a private tmux), starts the CLI, types prompts and keys, and calls `save()`: the session's
transcript, its hook payloads as AMC's event log holds them, the screens captured at each step and
the CLI's live-session file go to the Recording with every temporary path rewritten to /home/dev.
The session id is fixed per scenario (`--session-id`, a uuid5 of the scenario name) and the fake
model numbers its ids from 1, so two versions' recordings differ where the CLI changed.
"""
import json
import os
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from tests.support import tools
from tests.support.agentenv import AgentHome, PrivateTmux
from tests.support.amcproc import run_amc
from tests.support.fakemodel import FakeModel
from tests.support.fakemodel_rules import DEFAULT_CLAUDE_RULES, ClaudeRule
from tests.support.helpers import ROOT
from tests.recording.common import HOME, Recording

PROMPT_MARK = "\u276f"  # the ❯ of the input line
PERMISSION = "Do you want to proceed?"  # the permission dialog
Until = Union[None, str, Callable[[str], bool]]


class StepFailed(AssertionError):
    """A step of a scenario did not happen in time (the message says which and shows the screen)."""


def session_id_for(scenario: str) -> str:
    """Return the stable session id a scenario's CLI is started with."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "amc-fixture:claude:" + scenario))


def map_sandbox(out: Recording, home: AgentHome, tmpdir: str) -> None:
    """Rewrite the sandbox's paths in `out`: HOME, AMC's data dir, TMPDIR, the checkout."""
    # longest first at rewrite time: <root>/home and <root>/tmp before <root> itself
    out.map_path(home.home, HOME)
    out.map_path(home.data_dir, HOME + "/.local/share/amc")
    out.map_path(tmpdir, HOME + "/.tmp")
    out.map_path(home.root, HOME)
    out.rewrite[ROOT] = HOME + "/src/amc"  # the hook command (bin/amc-hook) shows on screens


class ClaudeSession:
    """The real CLI in a private tmux against the fake model; use as a context manager."""

    def __init__(self, out: Recording, scenario: str, rules: Sequence[ClaudeRule] = (),
                 channels: bool = False, project: str = "demo-proj") -> None:
        self.out = out
        self.scenario = scenario
        self.session_id = session_id_for(scenario)
        self.home = AgentHome(prefix="amc-rec-")
        # inside HOME, as a user's checkout is: the TUI shows it as ~/work/<project>
        self.project = os.path.join(self.home.home, "work", project)
        os.makedirs(self.project)
        # the CLI's and tmux's temporary files, rewritten to /home/dev/.tmp (no /tmp in a fixture)
        self.tmpdir = os.path.join(self.home.root, "tmp")
        os.makedirs(self.tmpdir, exist_ok=True)
        self.channels = channels
        self.fake = FakeModel(list(rules) + DEFAULT_CLAUDE_RULES)
        self.tmux = PrivateTmux(tools.require("tmux"))
        self.screens: List[str] = []
        map_sandbox(out, self.home, self.tmpdir)

    # -- lifecycle
    def __enter__(self) -> "ClaudeSession":
        self.fake.start()
        try:
            self.home.write_claude_json([self.project], channels=self.channels)
            proc = run_amc(["hooks", "install"], self.home.amc_env())
            if proc.returncode != 0:
                raise StepFailed("amc hooks install failed: %s%s" % (proc.stdout, proc.stderr))
        except BaseException:
            self.__exit__()  # `with` calls __exit__ only once __enter__ has returned
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.tmux.kill()
        self.fake.stop()
        self.home.cleanup()

    def env(self, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """Return the CLI's environment: the sandbox's, with TMPDIR inside it."""
        env = self.home.env(self.fake.url, channels=self.channels)
        env.update({"TMPDIR": self.tmpdir, "TMUX_TMPDIR": self.tmpdir,
                    "CLAUDE_CODE_TMPDIR": self.tmpdir})
        env.update(extra or {})
        return env

    def start(self, *args: str, ready: Until = PROMPT_MARK, timeout: float = 30) -> str:
        """Start `claude --session-id <id> <args>` in the pane and wait for `ready`; return it."""
        argv = [tools.require("claude"), "--session-id", self.session_id] + list(args)
        self.tmux.new_session(argv, self.project, self.env())
        # the private server's socket (amc-test-<pid>-<random>) as a user's default one
        self.out.rewrite[self.tmux.socket_path] = "%s/.tmp/tmux-%d/default" % (HOME, os.getuid())
        screen = self.wait(ready, "the CLI to start", timeout)
        time.sleep(1)  # the first paint drops keys; the logo settles
        return screen

    # -- looking
    def wait(self, until: Until, what: str, timeout: float = 30) -> str:
        """Poll the screen until `until` (text or predicate) holds; return the screen."""
        try:
            return self.tmux.wait_for(until, timeout=timeout) if until else self.tmux.capture()
        except AssertionError as e:
            raise StepFailed("%s: waiting for %s: %s" % (self.scenario, what, e)) from None

    def wait_for(self, check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
        """Poll `check()` until it returns something true; return it."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise StepFailed("%s: timed out after %.0fs waiting for %s; the screen:\n%s"
                                 % (self.scenario, timeout, what, self.tmux.capture()))
            time.sleep(0.1)

    def snap(self, label: str) -> str:
        """Capture the screen under `label` (screens.txt); return it."""
        screen = self.tmux.capture()
        self.screens.append("%s:\n\n%s" % (label, screen))
        return screen

    def events(self) -> List[Dict[str, Any]]:
        """Return AMC's event log of this session (one dict per hook call)."""
        path = os.path.join(self.home.data_dir, "events", self.session_id + ".jsonl")
        out = []
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass  # a line being written
        except OSError:
            pass
        return out

    def count(self, event: str) -> int:
        """Return how many `event` hooks (Stop, PreToolUse...) AMC has logged."""
        return sum(1 for e in self.events() if e.get("event") == event)

    def replies(self, text: str) -> int:
        """Return how many main-loop replies of the fake model began with `text`."""
        n = 0
        for r in self.fake.requests_to("/v1/messages"):
            blocks = r.get("reply") or []
            if blocks and blocks[0][0] == "text" and str(blocks[0][1]).startswith(text):
                n += 1
        return n

    def prompts(self) -> List[str]:
        """Return the prompts the fake model saw in main-loop requests, in order."""
        return [r.get("prompt") or "" for r in self.fake.requests_to("/v1/messages")
                if not r.get("side")]

    # -- acting
    def prompt(self, text: str, until: Until = None, label: str = "", timeout: float = 40,
               settle: float = 1.0) -> str:
        """Type `text` + Enter; wait for `until` (default: the turn's Stop hook); snap it."""
        stops = self.count("Stop")
        self.tmux.type_line(text)
        if until is None:
            self.wait_for(lambda: self.count("Stop") > stops, "the Stop after %r" % text, timeout)
        else:
            self.wait(until, "the screen after %r" % text, timeout)
        time.sleep(settle)
        return self.snap(label or "after '%s'" % text)

    def keys(self, keys: str, until: Until = None, label: str = "", literal: bool = False,
             stop: bool = False, timeout: float = 30, settle: float = 1.0) -> str:
        """Send `keys` (tmux key names, or literal text), wait for `until` or a Stop; snap it."""
        stops = self.count("Stop")
        if keys:
            if literal:
                self.tmux.send_literal(keys)
            else:
                self.tmux.send_keys(*keys.split())
        if stop:
            self.wait_for(lambda: self.count("Stop") > stops, "the Stop after keys %r" % keys,
                          timeout)
        if until is not None:
            self.wait(until, "the screen after keys %r" % keys, timeout)
        time.sleep(settle)
        return self.snap(label or "after keys '%s'" % keys)

    # -- the files
    def transcript_path(self) -> str:
        """Return the session's transcript path under the sandbox's Claude projects dir."""
        from tests.recording.common import claude_project_name
        return os.path.join(self.home.claude_dir, "projects", claude_project_name(self.project),
                            self.session_id + ".jsonl")

    def registry(self) -> Optional[str]:
        """Return the path of the CLI's live-session file (`sessions/<pid>.json`), if any."""
        folder = os.path.join(self.home.claude_dir, "sessions")
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    value = json.load(f)
            except (OSError, ValueError):
                continue
            if isinstance(value, dict) and value.get("sessionId") == self.session_id:
                return os.path.join(folder, name)
        return None

    def hooks_lines(self) -> List[str]:
        """Return hooks.jsonl's lines: `{"tmux_pane", "payload"}` per logged hook call."""
        return ['{"tmux_pane": %s, "payload": %s}\n' % (
            json.dumps((e.get("pane") or {}).get("tmux_pane", "")),
            json.dumps(e.get("payload"), ensure_ascii=False, separators=(",", ":")))
            for e in self.events()]

    def copy_state(self, prefix: str = "") -> None:
        """Write transcript.jsonl, hooks.jsonl and subagents/ (under `prefix`) as they are now."""
        transcript = self.transcript_path()
        if os.path.exists(transcript):
            self.out.write_file(prefix + "transcript.jsonl", transcript)
        self.out.write(prefix + "hooks.jsonl", "".join(self.hooks_lines()))
        subagents = os.path.join(transcript[:-len(".jsonl")], "subagents")
        for name in sorted(os.listdir(subagents)) if os.path.isdir(subagents) else []:
            self.out.write_file(prefix + "subagents/" + name, os.path.join(subagents, name))

    def settle(self, path: str, quiet: float = 1.5, timeout: float = 10) -> None:
        """Wait until `path` has not grown for `quiet` seconds (the CLI writes in batches)."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            size = os.path.getsize(path) if os.path.exists(path) else -1
            if size != last:
                last, since = size, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.1)

    def save(self, exit: bool = True) -> None:
        """Write the registry, then (after /exit when `exit`) transcript, hooks and screens."""
        registry = self.registry()
        if registry is not None:
            self.out.write_file("sessions-registry.json", registry)
        if exit and self.tmux.alive():
            self.tmux.type_line("/exit")
            try:
                self.tmux.wait_gone(timeout=15)
            except AssertionError as e:
                raise StepFailed("%s: /exit: %s" % (self.scenario, e)) from None
            deadline = time.monotonic() + 5  # SessionEnd's hook may finish after the pane
            while self.count("SessionEnd") == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
        else:
            self.settle(self.transcript_path())
        if not os.path.exists(self.transcript_path()):
            raise StepFailed("%s: no transcript at %s" % (self.scenario, self.transcript_path()))
        self.copy_state()
        self.out.write("screens.txt", "\n=====\n\n".join(self.screens))
        if self.fake.errors:
            raise StepFailed("%s: the fake model's rules failed:\n%s"
                             % (self.scenario, "\n".join(self.fake.errors)))
