"""The pane of a session seen without hooks, from its process (procenv.py, agents/codex/process.py),
and what AMC types into the Codex TUI (agents/codex/screen.py).

The process tests run real child processes: a Python that names itself like Codex (prctl), holds a
rollout and a thread lock open and carries a chosen tmux/Zellij environment, as the native Codex
0.169 binary does. The screens are the approval dialog as the real 0.169.0 TUI drew it in tmux.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from http import HTTPStatus

from tests.support.helpers import FIXTURES, IsolatedTestCase

from amc_server import keystrokes, model
from amc_server.terminals import procenv
from amc_server.agents.codex import process as codex_process
from amc_server.agents.codex import screen as codex_screen
from amc_server.agents.answers import Answer, Refused
from amc_server.core.live import Core

LINUX = os.path.isdir("/proc/self/fd")
THREAD = "01a1fbff-2bc1-7190-b6de-12b504de52b8"
PANE_ENV = {"TMUX": "/tmp/tmux-1000/amc-unit,4242,0", "TMUX_PANE": "%7",
            "ZELLIJ_SESSION_NAME": "", "ZELLIJ_PANE_ID": ""}

# The child: optionally rename itself (comm), open the given files, say so, then sleep.
CHILD = r"""
import ctypes, sys, time
name = sys.argv[1]
if name:
    ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)   # PR_SET_NAME
held = [open(path, "a") for path in sys.argv[2:]]
print("ready", flush=True)
time.sleep(60)
"""

# The approval dialog of Codex 0.169.0 (tmux, 200 columns), below the transcript it follows.
APPROVAL = """\
\u203a hello there

\u2022 Hello from the fake model! You said: hello there

  Worked for <1s \u2022 02:46

\u203a ESCALATE: touch /tmp/cx-exp/esc1.txt && echo escalated-ok

\u2022 Running touch /tmp/cx-exp/esc1.txt && echo escalated-ok

  Would you like to run the following command?

  Environment: local

  Reason: Do you want to run this test command?

  $ touch /tmp/cx-exp/esc1.txt && echo escalated-ok

\u203a 1. Yes, proceed (y)
  2. Yes, and don't ask again for commands that start with `touch /tmp/cx-exp/esc1.txt` (p)
  3. No, and tell Codex what to do differently (esc)

  Press enter to confirm or esc to cancel
"""
# The same dialog in a 60-column pane: option 2 wraps.
APPROVAL_NARROW = """\
  $ touch /tmp/cx-exp/esc4.txt
\u203a 1. Yes, proceed (y)
  2. Yes, and don't ask again for commands that start with
     `touch /tmp/cx-exp/esc4.txt` (p)
  3. No, and tell Codex what to do differently (esc)
  Press enter to confirm or esc to cancel
"""
IDLE = """\
\u203a 1. do the first thing

\u2022 Hello from the fake model! You said: 1. do the first thing

\u203a Ask Codex to do anything

  fake-model default \u00b7 /tmp/proj
"""


@unittest.skipUnless(LINUX, "reads /proc (Linux)")
class ProcessTestCase(unittest.TestCase):

    def setUp(self) -> None:
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="amc-proc-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def child(self, name: str = "", files=(), env=None) -> subprocess.Popen:
        """Start a child named `name` holding `files` open with `env` added; wait till ready."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TMUX", "ZELLIJ"))}
        full_env.update(env or {})
        proc = subprocess.Popen([sys.executable, "-c", CHILD, name] + list(files),
                                env=full_env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.addCleanup(self._end, proc)
        self.assertEqual(proc.stdout.readline().strip(), b"ready")
        return proc

    @staticmethod
    def _end(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()

    def rollout(self, codex_home: str = "", thread: str = THREAD) -> str:
        day = os.path.join(codex_home or os.path.join(self.tmp, ".codex"), "sessions", "2026",
                           "11", "21")
        os.makedirs(day, exist_ok=True)
        path = os.path.join(day, "rollout-2026-11-21T02-46-06-%s.jsonl" % thread)
        open(path, "a").close()
        return path

    def thread_lock(self, thread: str = THREAD) -> str:
        directory = os.path.join(self.tmp, ".codex", codex_process.LOCK_DIR)
        os.makedirs(directory, exist_ok=True)
        return os.path.join(directory, thread + ".lock")


class ProcEnv(ProcessTestCase):

    def test_environment_open_files_and_pane_of_a_child(self):
        held = os.path.join(self.tmp, "held.txt")
        proc = self.child("", [held], dict(PANE_ENV, AMC_UNIT_MARK="x y=z"))
        self.assertEqual(procenv.environ(proc.pid)["AMC_UNIT_MARK"], "x y=z")
        self.assertIn(held, procenv.open_files(proc.pid))
        self.assertEqual(procenv.pane_of(proc.pid),
                         {"tmux_pane": "%7", "tmux_socket": "/tmp/tmux-1000/amc-unit"})
        self.assertIn(proc.pid, procenv.pids())
        self.assertTrue(procenv.cmdline(proc.pid)[0].startswith(sys.executable[:10]))

    def test_zellij_pane_of_a_child(self):
        proc = self.child("", [], {"ZELLIJ_SESSION_NAME": "work", "ZELLIJ_PANE_ID": "3"})
        self.assertEqual(procenv.pane_of(proc.pid), {"zellij_session": "work",
                                                     "zellij_pane": "3"})

    def test_start_time_names_one_process(self):
        first, second = self.child(), self.child()
        self.assertGreater(procenv.start_time(first.pid), 0)
        self.assertEqual(procenv.start_time(first.pid), procenv.start_time(first.pid))
        self.assertLessEqual(procenv.start_time(first.pid), procenv.start_time(second.pid))

    def test_a_process_that_exited_gives_nothing(self):
        proc = subprocess.Popen([sys.executable, "-c", "pass"], env=dict(os.environ, **PANE_ENV))
        proc.wait()
        for read in (procenv.environ, procenv.pane_of, procenv.open_files, procenv.cmdline):
            self.assertFalse(read(proc.pid), read.__name__)
        self.assertEqual(procenv.start_time(proc.pid), 0)
        self.assertEqual(procenv.comm(proc.pid), "")

    def test_without_proc_everything_is_empty(self):
        missing = os.path.join(self.tmp, "no-proc")
        self.assertFalse(procenv.available(missing))
        self.assertEqual(procenv.pids(missing), [])
        self.assertEqual(procenv.pane_of(os.getpid(), missing), {})
        panes = procenv.Panes({"codex": lambda s: os.getpid()}, proc=missing)
        self.assertEqual(panes.lookup({"agent": "codex", "pid": os.getpid()}), {})

    def test_panes_use_a_known_pid_or_the_agents_matcher(self):
        proc = self.child("", [], PANE_ENV)
        asked = []
        panes = procenv.Panes({"codex": lambda s: asked.append(s) or proc.pid})
        want = {"pid": proc.pid, "tmux_pane": "%7", "tmux_socket": "/tmp/tmux-1000/amc-unit"}
        self.assertEqual(panes.lookup({"agent": "claude", "pid": proc.pid}), want)
        self.assertEqual(asked, [])
        self.assertEqual(panes.lookup({"agent": "codex", "pid": 0}), want)
        self.assertEqual(len(asked), 1)
        self.assertEqual(panes.lookup({"agent": "claude", "pid": 0}), {})   # no matcher, no pid

    def test_panes_of_a_process_outside_any_multiplexer_is_just_its_pid(self):
        proc = self.child()
        self.assertEqual(procenv.Panes().lookup({"agent": "claude", "pid": proc.pid}),
                         {"pid": proc.pid})


class CodexProcess(ProcessTestCase):

    def finder(self, **kw) -> codex_process.Finder:
        return codex_process.Finder(**kw)

    def test_codex_holding_the_rollout_is_found(self):
        rollout = self.rollout()
        proc = self.child("codex", [rollout], PANE_ENV)
        self.assertEqual(self.finder().find(rollout, "other-id"), proc.pid)

    def test_release_binary_name_counts_as_codex(self):
        rollout = self.rollout()
        proc = self.child("codex-x86_64-unknown-linux-musl", [rollout])
        self.assertEqual(procenv.comm(proc.pid), "codex-x86_64-un")
        self.assertEqual(self.finder().find(rollout), proc.pid)

    def test_thread_lock_finds_a_session_whose_rollout_is_not_open(self):
        proc = self.child("codex", [self.thread_lock()])
        self.assertEqual(self.finder().find(self.rollout(), THREAD), proc.pid)
        self.assertEqual(self.finder().find("", "another-thread"), 0)

    def test_other_programs_holding_the_rollout_are_not_codex(self):
        rollout = self.rollout()
        self.child("tail", [rollout])      # e.g. `tail -f` on the rollout
        self.child("node", [rollout])      # the npm wrapper's name
        self.assertEqual(self.finder().find(rollout, THREAD), 0)

    def test_scans_at_most_every_rescan_interval(self):
        rollout = self.rollout()
        now = [100.0]
        finder = self.finder(clock=lambda: now[0])
        self.assertEqual(finder.find(rollout), 0)
        proc = self.child("codex", [rollout])
        for _ in range(20):
            self.assertEqual(finder.find(rollout), 0)   # not seen until the next scan
        self.assertEqual(finder.scans, 1)
        now[0] += codex_process.RESCAN_S
        self.assertEqual(finder.find(rollout), proc.pid)
        self.assertEqual(finder.scans, 2)

    def test_a_codex_that_exited_is_not_returned_from_the_cache(self):
        rollout = self.rollout()
        proc = self.child("codex", [rollout])
        finder = self.finder(clock=lambda: 0.0)    # never rescans after the first
        self.assertEqual(finder.find(rollout), proc.pid)
        proc.kill()
        proc.wait()
        self.assertEqual(finder.find(rollout), 0)

    def test_a_scan_costs_one_small_read_per_process(self):
        finder = self.finder()
        started = time.perf_counter()
        finder.find(self.rollout())
        elapsed = time.perf_counter() - started
        self.assertLess(elapsed, 1.0, "a /proc scan of %d processes took %.3f s"
                        % (len(procenv.pids()), elapsed))


class StateFillsThePane(ProcessTestCase, IsolatedTestCase):
    """state.py fills pid and pane of a rollout session from the Codex process holding it."""

    def setUp(self) -> None:
        ProcessTestCase.setUp(self)
        IsolatedTestCase.setUp(self)

    def test_rollout_session_gets_the_pane_of_its_codex(self):
        sid = "01a1fb4f-8ba9-7b03-b177-2af74a622fa9"
        day = os.path.join(self.paths.codex_sessions, time.strftime("%Y/%m/%d"))
        os.makedirs(day)
        path = os.path.join(day, "rollout-%s-%s.jsonl" % (time.strftime("%Y-%m-%dT%H-%M-%S"), sid))
        shutil.copy(os.path.join(FIXTURES, "codex-0.169.0", "codex-0.169.0-exec-text-only.jsonl"),
                    path)
        core = Core(self.paths)
        core.rescan()
        [s] = core.sessions()
        self.assertEqual((s["session_id"], s["pid"], s["tmux_pane"]), (sid, 0, ""))
        proc = self.child("codex", [path], PANE_ENV)
        core = Core(self.paths)                      # a fresh finder: no waiting for a rescan
        core.rescan()
        [s] = core.sessions()
        self.assertEqual((s["pid"], s["tmux_pane"], s["tmux_socket"], s["source"]),
                         (proc.pid, "%7", "/tmp/tmux-1000/amc-unit", "rollout"))


class CodexScreen(unittest.TestCase):

    def session(self, status=model.DONE, attention=None):
        return model.new_session("s1", "codex", status=status, attention=attention)

    def permission(self, **extra):
        return self.session(model.NEEDS_ATTENTION, dict(
            {"kind": model.ATTN_PERMISSION, "tool": "exec_command", "summary": "touch x"}, **extra))

    def test_reads_the_approval_options_off_the_screen(self):
        want = ["Yes, proceed",
                "Yes, and don't ask again for commands that start with "
                "`touch /tmp/cx-exp/esc1.txt`",
                "No, and tell Codex what to do differently"]
        self.assertEqual(codex_screen.permission_options(APPROVAL), want)
        self.assertEqual(codex_screen.permission_options(APPROVAL_NARROW),
                         [w.replace("esc1", "esc4") for w in want])
        self.assertEqual(codex_screen.permission_options(IDLE), [])
        self.assertEqual(codex_screen.permission_options(APPROVAL.replace(
            "  Press enter to confirm or esc to cancel\n", "")), [])  # not fully drawn yet

    def test_dialog_ready_waits_for_the_footer_only_when_approval_is_pending(self):
        self.assertTrue(codex_screen.dialog_ready(self.permission(), APPROVAL))
        self.assertFalse(codex_screen.dialog_ready(self.permission(), IDLE))
        self.assertTrue(codex_screen.dialog_ready(self.session(), IDLE))

    def test_an_option_number_is_one_digit_without_enter(self):
        for text in ("1", "2", " 3 "):
            self.assertEqual(codex_screen.answer_plan(self.permission(), Answer(text), 200,
                                                      APPROVAL),
                             [keystrokes.text(text.strip())])

    def test_wrong_answers_to_an_approval_are_refused(self):
        for text, status in (("4", HTTPStatus.BAD_REQUEST), ("0", HTTPStatus.BAD_REQUEST),
                             ("yes", HTTPStatus.BAD_REQUEST), ("1,2", HTTPStatus.BAD_REQUEST)):
            with self.assertRaises(Refused) as cm:
                codex_screen.answer_plan(self.permission(), Answer(text), 200, APPROVAL)
            self.assertEqual(cm.exception.status, status, text)

    def test_without_a_screen_the_known_options_check_the_range(self):
        session = self.permission(options=["Yes", "No"])
        self.assertEqual(codex_screen.answer_plan(session, Answer("2"), 200, ""),
                         [keystrokes.text("2")])
        with self.assertRaises(Refused):
            codex_screen.answer_plan(session, Answer("3"), 200, "")

    def test_a_prompt_is_typed_then_entered_after_a_pause(self):
        self.assertEqual(codex_screen.answer_plan(self.session(), Answer("hello"), 200, IDLE),
                         [keystrokes.text("hello"), keystrokes.pause(200), keystrokes.key("Enter")])
        # Enter right after the text would be a newline in Codex's paste burst
        self.assertEqual(codex_screen.answer_plan(self.session(), Answer("hello"), 0, IDLE)[1],
                         keystrokes.pause(codex_screen.MIN_ENTER_DELAY_MS))
        self.assertEqual(codex_screen.answer_plan(self.session(), Answer("a\nb"), 300, IDLE),
                         [keystrokes.paste("a\nb"), keystrokes.pause(300), keystrokes.key("Enter")])

    def test_a_prompt_while_codex_works_or_an_empty_one_is_refused(self):
        with self.assertRaises(Refused):
            codex_screen.answer_plan(self.session(model.ACTIVE), Answer("more"), 200, IDLE)
        with self.assertRaises(Refused) as cm:
            codex_screen.answer_plan(self.session(), Answer("  "), 200, IDLE)
        self.assertEqual(cm.exception.status, HTTPStatus.BAD_REQUEST)

    def test_other_attention_kinds_take_a_new_prompt(self):
        s = self.session(model.NEEDS_ATTENTION, {"kind": model.ATTN_ERROR, "text": "boom"})
        self.assertEqual(codex_screen.answer_plan(s, Answer("try again"), 200, IDLE)[-1],
                         keystrokes.key("Enter"))


if __name__ == "__main__":
    unittest.main()
