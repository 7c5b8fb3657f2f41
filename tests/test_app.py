"""One composition root (app.py): a session reads the same from every process that serves it.

A permission prompt in a real tmux pane (the screen Claude Code 2.1.337 shows, printed by the
pane's program) and a recorded transcript: `/api/state` and `/api/stream` of a running server,
`amc stream` with no server (what a hub receives from a remote machine that runs none) and `amc
request` with no server each carry the session field by field the same, its `usage` and its
prompt's `attention.options` included.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
from typing import Any, Dict, List

from tests.support import tools
from tests.support.agentenv import PrivateTmux
from tests.support.helpers import AMC, ROOT, ServerTestCase, copy_transcript_as_of
from tests.support.sse import SSEClient
from tests.test_stream_cli import StreamProcess

from amc_server import app as app_module
from amc_server.core.live import Core

SCENARIO = os.path.join(ROOT, "tests", "fixtures", "claude-code-2.1.337", "permission-prompt")
SID = "a1b2c3d4-0000-4000-8000-00000000a99e"
PROJECT = "/home/dev/work/demo-proj"


def dialog_screen() -> str:
    """Return the first recorded screen of the scenario (the permission dialog)."""
    with open(os.path.join(SCENARIO, "screens.txt"), encoding="utf-8") as f:
        first = f.read().split("\n=====\n", 1)[0]
    return first.split("\n", 1)[1]


def payloads() -> List[Dict[str, Any]]:
    with open(os.path.join(SCENARIO, "hooks.jsonl")) as f:
        return [json.loads(line)["payload"] for line in f if line.strip()]


def ready(s: Dict[str, Any]) -> bool:
    """The session as it is once the consumers are done: usage and the prompt's options."""
    attention = s.get("attention") or {}
    return s.get("usage") is not None and bool(attention.get("options"))


class OneSessionEverywhere(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmux = PrivateTmux(tools.require("tmux"), env=dict(self.env))
        self.addCleanup(self.tmux.kill)
        screen = os.path.join(self.home, "screen.txt")
        with open(screen, "w", encoding="utf-8") as f:
            f.write(dialog_screen())
        self.tmux.new_session(["sh", "-c", 'cat "$0"; exec sleep 600', screen], self.home,
                              height=60)
        self.tmux.wait_for("Do you want to proceed?")
        folder = os.path.join(self.paths.claude_projects, PROJECT.replace("/", "-"))
        os.makedirs(folder)
        self.transcript = os.path.join(folder, SID + ".jsonl")
        steps = payloads()
        upto = [p["hook_event_name"] for p in steps].index("Notification") + 1
        copy_transcript_as_of(os.path.join(SCENARIO, "transcript.jsonl"), self.transcript, steps,
                              upto)
        pane_env = {"TMUX": "%s,1,0" % self.tmux.socket_path, "TMUX_PANE": self.tmux.pane}
        for p in steps[:upto]:
            done = self.run_hook(dict(p, session_id=SID, transcript_path=self.transcript,
                                      cwd=PROJECT), pane_env)
            self.assertEqual(done.returncode, 0, done.stderr)

    def from_state(self) -> Dict[str, Any]:
        deadline = time.monotonic() + 15
        while True:
            found = [s for s in self.get_json("/api/state")["sessions"] if s["session_id"] == SID]
            if found and ready(found[0]):
                return found[0]
            self.assertLess(time.monotonic(), deadline, "the server's session: %s" % found)
            time.sleep(0.1)

    def from_server_stream(self) -> Dict[str, Any]:
        sse = SSEClient(self.port, headers={"X-AMC-Token": self.token})
        self.addCleanup(sse.close)
        snap = sse.until(lambda e: e["event"] == "snapshot", timeout=10)
        return [s for s in snap["data"]["sessions"] if s["session_id"] == SID][0]

    def from_stream_without_server(self) -> Dict[str, Any]:
        proc = StreamProcess(self.env)
        self.addCleanup(proc.close)
        latest: Dict[str, Any] = {}

        def done(e: Dict[str, Any]) -> bool:
            if e["event"] == "snapshot":
                found = [s for s in e["data"]["sessions"] if s["session_id"] == SID]
                latest.update(found[0] if found else {})
            elif e["event"] == "session" and e["data"]["session_id"] == SID:
                latest.clear()
                latest.update(e["data"])
            return ready(latest)
        proc.until(done, timeout=20)
        return dict(latest)

    def from_request_without_server(self) -> Dict[str, Any]:
        req = {"method": "GET", "path": "/api/state", "query": {}, "body": None}
        done = subprocess.run([sys.executable, AMC, "request"], input=json.dumps(req).encode(),
                              env=self.env, capture_output=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        answer = json.loads(done.stdout)
        self.assertEqual(answer["status"], 200, answer)
        return [s for s in answer["body"]["sessions"] if s["session_id"] == SID][0]

    def test_a_session_reads_the_same_from_state_stream_amc_stream_and_amc_request(self):
        self.assertFalse(os.path.exists(self.paths.pid_file))  # no server that the CLIs follow
        state = self.from_state()
        self.assertEqual(state["status"], "needs_attention")
        self.assertEqual(state["attention"]["kind"], "permission")
        self.assertEqual(state["attention"]["options_count"], 4)
        self.assertEqual(state["attention"]["options"][3], "No")
        self.assertGreater(state["usage"]["output_tokens"], 0, state["usage"])
        readings = {"/api/stream": self.from_server_stream(),
                    "amc stream (no server)": self.from_stream_without_server(),
                    "amc request (no server)": self.from_request_without_server()}
        for where, s in readings.items():
            self.assertEqual(sorted(s), sorted(state), where)
            for key in state:
                self.assertEqual(s[key], state[key], "%s: %s" % (where, key))


class Roles(unittest.TestCase):
    """What each role builds; the consumers register through the core's typed interface."""

    def setUp(self) -> None:
        from tests.support.helpers import isolated_env
        from amc_server.paths import get_paths
        import tempfile
        self.home = tempfile.mkdtemp(prefix="amc-test-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.paths = get_paths(isolated_env(self.home))

    def test_every_role_has_the_consumers_that_shape_a_session(self):
        for role in app_module.ROLES:
            app = app_module.App(self.paths, role)
            self.assertIn(app.usage.enrich, app.core._enrichers, role)
            self.assertIn(app.delivery.enrich, app.core._enrichers, role)
            # usage hears of every read of a live transcript (core/tails.py), which the core's
            # transcript changes start
            self.assertIn(app.usage._read, app.core.tails._listeners, role)
            self.assertIn(app.core.tails.poke, app.core._transcript_listeners, role)
            self.assertEqual(app.hub is not None, role == app_module.SERVER, role)
            app.stop()

    def test_an_unknown_role_is_refused(self):
        with self.assertRaises(ValueError):
            app_module.App(self.paths, "client")

    def test_nothing_is_attached_to_the_core_by_assignment(self):
        """Every attribute a core has is one it made itself."""
        made = set(vars(Core(self.paths)))
        for role in app_module.ROLES:
            app = app_module.App(self.paths, role)
            app.start()
            self.assertEqual(set(vars(app.core)) - made, set(), role)
            app.stop()


if __name__ == "__main__":
    unittest.main()
