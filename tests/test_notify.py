"""Notify anywhere (amc_server/consumers/notify_commands.py and notifier.py, `bin/amc notify add|list|remove`): the
commands stored atomically, run as argv with what happened in AMC_* variables, on a real server
whose sessions are made by the real bin/amc-hook from the recorded Claude Code 2.1.329 payloads;
the command is a small script that writes its environment to a file. Plus the runner's bounds:
timeouts kill the whole process group, at most a few at once, failures logged, never raised.
"""
import functools
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from tests.support.helpers import AMC, FIXTURES, ROOT, IsolatedTestCase, ServerTestCase

from amc_server import model
from amc_server.consumers import notifier, notify_commands as notify
from amc_server.remote.feed import Feed, read_lines
from amc_server.http.server import make_server

RECORDED = os.path.join(FIXTURES, "claude-code-2.1.329")
QUESTION = "Which database should we use?"
# The notify command of these tests: appends {its AMC_* variables, its arguments} to a file.
RECORDER = r"""
import json, os, sys
seen = {k: v for k, v in os.environ.items() if k.startswith("AMC_")}
seen["argv"] = sys.argv[2:]
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(seen) + "\n")
"""


def payloads(scenario):
    with open(os.path.join(RECORDED, scenario, "hooks.jsonl")) as f:
        return [json.loads(line)["payload"] for line in f if line.strip()]


class Cli(IsolatedTestCase):
    def amc(self, *args):
        return subprocess.run([sys.executable, AMC, "notify", *args], env=self.env,
                              capture_output=True, text=True, timeout=30)

    def test_add_list_remove_store_the_argv_atomically(self):
        done = self.amc("add", "notify-send 'AMC says' \"$AMC_PROJECT needs you\"")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("runs as: notify-send 'AMC says' '$AMC_PROJECT needs you'", done.stdout)
        # $AMC_X inside an argument reaches the program as typed: said, not silently so
        self.assertIn("amc: note: '$AMC_PROJECT needs you' reaches notify-send as typed",
                      done.stderr)
        self.assertEqual(self.amc("add", "ntfy publish amc").returncode, 0)
        with open(self.paths.notify_file) as f:
            doc = json.load(f)
        self.assertEqual(doc["version"], 1)
        self.assertEqual([c["argv"] for c in doc["commands"]],
                         [["notify-send", "AMC says", "$AMC_PROJECT needs you"],
                          ["ntfy", "publish", "amc"]])
        self.assertEqual(oct(os.stat(self.paths.notify_file).st_mode & 0o777), "0o600")
        self.assertEqual([n for n in os.listdir(self.paths.data) if n.endswith(".tmp")], [])
        listed = self.amc("list")
        self.assertEqual(listed.stdout.splitlines(), [
            "1  notify-send 'AMC says' \"$AMC_PROJECT needs you\"", "2  ntfy publish amc"])
        self.assertEqual(self.amc("remove", "1").returncode, 0)
        self.assertEqual(self.amc("list").stdout.splitlines(), ["1  ntfy publish amc"])
        gone = self.amc("remove", "ntfy publish amc")
        self.assertEqual((gone.returncode, gone.stdout.strip()), (0, "removed: ntfy publish amc"))
        self.assertIn("no notify commands", self.amc("list").stdout)

    def test_whole_arguments_and_shell_scripts_get_no_note_a_script_of_only_a_value_is_refused(
            self):
        for text in ("notify-send -- $AMC_PROJECT ${AMC_QUESTION}",
                     "sh -c 'notify-send -- \"AMC: $AMC_PROJECT\" \"$AMC_QUESTION\"'",
                     "timeout 5 bash -ec 'echo \"$AMC_QUESTION\" >> \"$HOME/q\"'"):
            done = self.amc("add", text)
            self.assertEqual((done.returncode, done.stderr), (0, ""), text)
        for text in ("sh -c '$AMC_QUESTION'", "env X=1 bash -xc -- ${AMC_MESSAGE}"):
            done = self.amc("add", text)
            self.assertEqual(done.returncode, 1, text)
            self.assertIn("would run what a session wrote as a command", done.stderr)
        self.assertEqual(len(notify.read(self.paths)), 3)

    def test_empty_unreadable_doubled_or_unknown_commands_are_refused_in_words(self):
        for args, words in [(("add", ""), "the command is empty"),
                            (("add", "   "), "the command is empty"),
                            (("add", "echo 'unclosed"), "No closing quotation"),
                            (("add",), "needs a command"),
                            (("remove", "7"), "no notify command '7'"),
                            (("remove",), "needs a command")]:
            done = self.amc(*args)
            self.assertEqual(done.returncode, 1, args)
            self.assertIn(words, done.stderr, args)
        self.assertEqual(self.amc("add", "echo hi").returncode, 0)
        again = self.amc("add", "echo hi")
        self.assertEqual(again.returncode, 1)
        self.assertIn("already there", again.stderr)

    def test_a_broken_notify_json_reads_as_no_command(self):
        os.makedirs(self.paths.data, exist_ok=True)
        for text in ("{not json", '{"commands": [{"command": "x", "argv": []}, 5]}', "[]"):
            with open(self.paths.notify_file, "w") as f:
                f.write(text)
            self.assertEqual(notify.read(self.paths), [])
        self.assertEqual(self.amc("add", "echo fine").returncode, 0)
        self.assertEqual([c["argv"] for c in notify.read(self.paths)], [["echo", "fine"]])


class Environment(unittest.TestCase):
    SESSION = {"session_id": "abc", "project": "demo-proj", "project_dir": "/home/dev/demo-proj",
               "agent": "claude", "status": "needs_attention",
               "status_since": "2026-12-01T10:00:00.000Z", "machine": "",
               "attention": {"kind": "question", "text": QUESTION + "\0"},
               "pending_questions": [{"question": QUESTION}],
               "last_message_preview": "ASK: " + QUESTION}

    def test_the_variables_a_command_gets(self):
        env = notify.environment(self.SESSION, "needs_attention", "http://127.0.0.1:7400/",
                                 {"PATH": "/bin"})
        self.assertEqual({k: v for k, v in env.items() if k != "PATH"}, {
            "AMC_EVENT": "needs_attention", "AMC_SESSION_ID": "abc",
            "AMC_PROJECT": "demo-proj", "AMC_PROJECT_DIR": "/home/dev/demo-proj",
            "AMC_AGENT": "claude", "AMC_STATUS": "needs_attention",
            "AMC_STATUS_SINCE": "2026-12-01T10:00:00.000Z", "AMC_QUESTION": QUESTION,
            "AMC_ATTENTION_KIND": "question", "AMC_MESSAGE": "ASK: " + QUESTION,
            "AMC_MACHINE": "", "AMC_URL": "http://127.0.0.1:7400/"})
        self.assertEqual(env["PATH"], "/bin")
        done = notify.environment(dict(self.SESSION, status="done", machine="m1"), "done")
        self.assertEqual((done["AMC_QUESTION"], done["AMC_ATTENTION_KIND"], done["AMC_MACHINE"]),
                         ("", "", "m1"))
        self.assertEqual(sorted(k for k in env if k.startswith("AMC_")), sorted(notify.NAMES))

    def test_only_a_whole_argument_is_replaced_never_text_inside_one_nor_a_shells_script(self):
        env = {"AMC_PROJECT": "my proj; rm -rf ~", "AMC_QUESTION": "$(touch X) $AMC_URL",
               "AMC_URL": "u"}
        self.assertEqual(notify.expand(["say", "$AMC_PROJECT: ${AMC_QUESTION}", "$AMC_NOPE",
                                        "$HOME", "$AMC_PROJECT", "${AMC_QUESTION}"], env),
                         ["say", "$AMC_PROJECT: ${AMC_QUESTION}", "$AMC_NOPE", "$HOME",
                          "my proj; rm -rf ~", "$(touch X) $AMC_URL"])
        for argv, script in [(["sh", "-c", "$AMC_QUESTION", "sh", "$AMC_QUESTION"], 2),
                             (["/bin/bash", "-o", "pipefail", "-ec", "--", "$AMC_QUESTION"], 5),
                             (["timeout", "5", "busybox", "sh", "-c", "$AMC_QUESTION"], 5)]:
            got = notify.expand(argv, env)
            self.assertEqual(got[script], "$AMC_QUESTION", argv)  # the script: as typed
            self.assertEqual(notify.shell_scripts(argv), {script})
        self.assertEqual(notify.expand(["sh", "-c", "$AMC_QUESTION", "sh", "$AMC_QUESTION"],
                                       env)[4], "$(touch X) $AMC_URL")  # its $1: a whole value
        self.assertEqual(notify.shell_scripts(["sh", "/home/me/notify.sh", "$AMC_QUESTION"]),
                         set())


class Running(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="amc-notify-")
        self.addCleanup(__import__("shutil").rmtree, self.tmp, True)

    def script(self, body):
        path = os.path.join(self.tmp, "cmd-%d.py" % len(os.listdir(self.tmp)))
        with open(path, "w") as f:
            f.write(body)
        return [sys.executable, path]

    def test_a_hanging_command_is_killed_with_its_children_after_the_timeout(self):
        pidfile = os.path.join(self.tmp, "child.pid")
        argv = self.script("import subprocess, sys, time\n"
                           "child = subprocess.Popen(['sleep', '60'])\n"
                           "open(%r, 'w').write(str(child.pid))\n"
                           "time.sleep(60)\n" % pidfile)
        runner = notifier.Runner(timeout=1.0)
        started = time.monotonic()
        with self.assertLogs("amc.notify", "WARNING") as logs:
            self.assertIsNone(runner.run(argv, dict(os.environ)))
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn("killed", logs.output[0])
        with open(pidfile) as f:
            child = int(f.read())
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(_alive(child), "the command's child outlived the timeout")

    def test_failures_and_exit_codes_are_logged_never_raised(self):
        runner = notifier.Runner(timeout=10)
        with self.assertLogs("amc.notify", "WARNING") as logs:
            self.assertIsNone(runner.run([os.path.join(self.tmp, "missing")], {}))
            self.assertEqual(runner.run(self.script("import sys\nprint('webhook said no')\n"
                                                    "sys.exit(3)\n"), dict(os.environ)), 3)
        self.assertIn("cannot run", logs.output[0])
        self.assertIn("exited 3: webhook said no", logs.output[1])

    def test_at_most_a_few_run_at_once_and_a_flood_is_dropped(self):
        log_file = os.path.join(self.tmp, "spans")
        argv = self.script("import sys, time\nstart = time.time()\ntime.sleep(0.3)\n"
                           "open(%r, 'a').write('%%f %%f\\n' %% (start, time.time()))\n" % log_file)
        runner = notifier.Runner(timeout=10, at_once=2, queue_max=4)
        with self.assertLogs("amc.notify", "WARNING"):
            accepted = [runner.submit(argv, dict(os.environ)) for _ in range(8)]
        self.assertIn(False, accepted)  # beyond the queue: dropped (and logged)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if len(_lines(log_file)) >= accepted.count(True):
                break
            time.sleep(0.1)
        spans = [tuple(map(float, line.split())) for line in _lines(log_file)]
        self.assertEqual(len(spans), accepted.count(True))
        most = max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans)
        self.assertLessEqual(most, 2)


def _lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


class Notifying(ServerTestCase):
    """The real server, the real hook, a recorder script as the user's notify command."""

    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.home, "notified.jsonl")
        script = os.path.join(self.home, "recorder.py")
        with open(script, "w") as f:
            f.write(RECORDER)
        self.command = "%s %s %s %s" % (shlex.quote(sys.executable), shlex.quote(script),
                                        shlex.quote(self.out),
                                        "${AMC_QUESTION} 'Q: $AMC_QUESTION'")

    def add_command(self):
        done = subprocess.run([sys.executable, AMC, "notify", "add", self.command], env=self.env,
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        deadline = time.monotonic() + 5
        while not self.server.notifier.following:
            self.assertLess(time.monotonic(), deadline, "the server did not pick up notify.json")
            time.sleep(0.05)

    def feed(self, scenario, start, upto, sid=None, env=None):
        for p in payloads(scenario)[start:upto]:
            p = dict(p, session_id=sid or p["session_id"], cwd="/home/dev/work/notify-proj")
            proc = self.run_hook(p, env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
        return sid or payloads(scenario)[0]["session_id"]

    def notified(self, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            lines = _lines(self.out)
            if len(lines) >= count:
                time.sleep(0.3)  # nothing more should follow
                return [json.loads(x) for x in _lines(self.out)]
            self.assertLess(time.monotonic(), deadline, "%d notifications, wanted %d: %s" % (
                len(lines), count, lines))
            time.sleep(0.05)

    def test_needs_attention_then_done_run_the_command_with_the_sessions_environment(self):
        self.add_command()
        sid = self.feed("ask-option", 0, 4, env={"TMUX": "/tmp/t,1,0", "TMUX_PANE": "%3"})
        [asked] = self.notified(1)
        self.assertEqual(asked["AMC_EVENT"], "needs_attention")
        self.assertEqual(asked["AMC_QUESTION"], QUESTION)
        self.assertEqual(asked["argv"], [QUESTION, "Q: $AMC_QUESTION"])
        self.assertEqual((asked["AMC_SESSION_ID"], asked["AMC_PROJECT"], asked["AMC_AGENT"],
                          asked["AMC_STATUS"], asked["AMC_MACHINE"], asked["AMC_ATTENTION_KIND"]),
                         (sid, "notify-proj", "claude", "needs_attention", "", "question"))
        self.assertEqual(asked["AMC_PROJECT_DIR"], "/home/dev/work/notify-proj")
        self.assertEqual(asked["AMC_URL"], self.server.url)
        state = {s["session_id"]: s for s in self.get_json("/api/state")["sessions"]}
        self.assertEqual(asked["AMC_STATUS_SINCE"], state[sid]["status_since"])
        # the permission prompt of the same question, and a notification: the same wait, not news
        self.run_hook({"session_id": sid, "hook_event_name": "Notification",
                       "message": "Claude needs your permission",
                       "notification_type": "permission_prompt",
                       "cwd": "/home/dev/work/notify-proj"})
        self.feed("ask-option", 4, 6, sid=sid)   # answered, then the turn ends: done
        asked_again, done = self.notified(2)[0], self.notified(2)[1]
        self.assertEqual(asked_again, asked)
        self.assertEqual((done["AMC_EVENT"], done["AMC_STATUS"], done["AMC_QUESTION"]),
                         ("done", "done", ""))
        self.assertIn("ANSWER-RECEIVED", done["AMC_MESSAGE"])
        self.assertEqual(len(self.notified(2)), 2)

    def test_what_was_already_so_at_start_is_not_news(self):
        waiting = self.feed("ask-option", 0, 4)                 # before any command exists
        self.add_command()                                       # the baseline: it waits
        self.feed("bash-tool", 0, 5, sid="second-session")       # a fresh one finishes: news
        [done] = self.notified(1)
        self.assertEqual((done["AMC_EVENT"], done["AMC_SESSION_ID"]), ("done", "second-session"))
        # a server started with the command stored and both sessions as they are: silence
        self._stop_server()
        self.server = make_server(self.paths, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.port = self.server.server_address[1]
        self.assertTrue(self.server.notifier.following)
        time.sleep(1.0)
        self.assertEqual(len(self.notified(1)), 1)
        self.feed("ask-option", 4, 6, sid=waiting)              # the waiting one finishes
        self.assertEqual([n["AMC_SESSION_ID"] for n in self.notified(2)],
                         ["second-session", waiting])

    def test_a_slow_command_never_holds_up_the_core(self):
        slow = os.path.join(self.home, "slow.py")
        with open(slow, "w") as f:
            f.write("import time\ntime.sleep(30)\n")
        self.server.notifier.runner.timeout = 2.0
        done = subprocess.run([sys.executable, AMC, "notify", "add",
                               "%s %s" % (shlex.quote(sys.executable), shlex.quote(slow))],
                              env=self.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        while not self.server.notifier.following:
            time.sleep(0.05)
        for i in range(6):   # each turn ends (done), then the next prompt: six slow commands
            sid = "slow-%d" % i
            self.feed("bash-tool", 0, 5, sid=sid)
            states = {s["session_id"]: s["status"] for s in self.get_json("/api/state")["sessions"]}
            self.assertEqual(states[sid], "done")   # the hook's change is there at once
        self.assertGreaterEqual(self.server.notifier.runner.stats["run"], 1)



def hostile(tag, lead="", name=False):
    """Text a hostile agent (or machine) could write: each way into a shell, a marker file
    `M-<tag>-<n>` (relative: the notify script runs in its own directory) for each. `name`:
    what a session id or a file name can hold (no newline, `/` or `\\`)."""
    text = (lead + tag + ' $(touch M-%s-1) `touch M-%s-2` "; touch M-%s-3; echo " '
            "'; touch M-%s-4; ' \\ $AMC_QUESTION ${AMC_PROJECT} && touch M-%s-5\n"
            "second line -- @/etc/passwd" % ((tag,) * 5))
    return text.replace("\n", " ").replace("/", "_").replace("\\", "") if name else text


class HostileText(ServerTestCase):
    """Issue 17: text a session wrote reaches notify commands as data and nothing of it runs.

    The user's commands are the documented kinds: a real `sh -c` script writing every
    "$AMC_X" to a file (NUL-separated), and a program given whole `$AMC_X` arguments. They run
    through what the server runs (the core's event log -> Notifier -> Runner) for sessions of
    this machine (the real hook) and of another machine on a hub (its NDJSON feed lines).
    """

    def setUp(self):
        super().setUp()
        self.work = os.path.join(self.home, "work")      # the script's directory: markers land here
        os.makedirs(self.work)
        self.values = os.path.join(self.home, "values.bin")
        self.args = os.path.join(self.home, "args.jsonl")
        script = "cd %s || exit 1\nprintf '%%s\\0' %s >> %s\n" % (
            shlex.quote(self.work), " ".join('"$%s"' % n for n in notify.NAMES),
            shlex.quote(self.values))
        recorder = os.path.join(self.home, "recorder.py")
        with open(recorder, "w") as f:
            f.write(RECORDER)
        for command in ("sh -c " + shlex.quote(script),
                        "%s %s %s $AMC_QUESTION ${AMC_PROJECT} $AMC_PROJECT_DIR $AMC_SESSION_ID "
                        "$AMC_MESSAGE $AMC_ATTENTION_KIND 'Q: $AMC_QUESTION'" % (
                            shlex.quote(sys.executable), shlex.quote(recorder),
                            shlex.quote(self.args))):
            done = subprocess.run([sys.executable, AMC, "notify", "add", command],
                                  env=self.env, capture_output=True, text=True, timeout=30)
            self.assertEqual(done.returncode, 0, done.stderr)
        deadline = time.monotonic() + 5
        while not self.server.notifier.following:
            self.assertLess(time.monotonic(), deadline, "the server did not pick up notify.json")
            time.sleep(0.05)

    def records(self, count, timeout=15.0):
        """Return ({session id: its AMC_* as the sh script wrote them}, {id: argv}) once
        `count` runs of both commands are in."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.values, "rb") as f:
                    fields = f.read().decode("utf-8").split("\0")[:-1]
            except FileNotFoundError:
                fields = []
            runs = [dict(zip(notify.NAMES, fields[i:i + len(notify.NAMES)]))
                    for i in range(0, len(fields), len(notify.NAMES))]
            argvs = [json.loads(x) for x in _lines(self.args)]
            self.assertEqual(self.markers(), [], "a session's text ran as shell code")
            if len(runs) >= count and len(argvs) >= count:
                return ({r["AMC_SESSION_ID"]: r for r in runs},
                        {a["AMC_SESSION_ID"]: a["argv"] for a in argvs})
            self.assertLess(time.monotonic(), deadline, "%d/%d runs, wanted %d; markers: %s" % (
                len(runs), len(argvs), count, self.markers()))
            time.sleep(0.05)

    def markers(self):
        found = []
        for top in (self.work, self.home, os.getcwd()):
            for folder, _, files in os.walk(top):
                found += [os.path.join(folder, n) for n in files if n.startswith("M-")]
        return sorted(set(found))

    def assert_told_exactly(self, sid, run, argv, session):
        """The script got every value exactly as AMC holds it; the whole arguments too."""
        attention = session.get("attention") or {}
        self.assertEqual({k: run[k] for k in notify.NAMES}, {
            "AMC_EVENT": "needs_attention", "AMC_SESSION_ID": sid,
            "AMC_PROJECT": session["project"], "AMC_PROJECT_DIR": session["project_dir"],
            "AMC_AGENT": session["agent"], "AMC_STATUS": "needs_attention",
            "AMC_STATUS_SINCE": session["status_since"], "AMC_QUESTION": attention["text"],
            "AMC_ATTENTION_KIND": attention["kind"],
            "AMC_MESSAGE": session["last_message_preview"],
            "AMC_MACHINE": session["machine"], "AMC_URL": self.server.url})
        self.assertEqual(argv, [attention["text"], session["project"], session["project_dir"],
                                sid, session["last_message_preview"], attention["kind"],
                                "Q: $AMC_QUESTION"])  # one argument each; inside one: as typed

    def test_hostile_text_of_this_machines_sessions_runs_nothing_and_arrives_whole(self):
        asked = 'echo "; touch M-bash-1; echo " $(touch M-bash-2) `touch M-bash-3`'
        sids = {"permission": hostile("sid", "-", name=True),
                "question": hostile("sid2", "@", name=True)}
        dirs = {"permission": "/home/dev/" + hostile("dir", "@").replace("/", "_"),
                "question": "/home/dev/" + hostile("dir2", "-").replace("/", "_")}
        question = hostile("ask", "-")
        for kind, sid in sids.items():
            base = {"session_id": sid, "cwd": dirs[kind]}
            for payload in ({"hook_event_name": "SessionStart", "source": "startup"},
                            {"hook_event_name": "UserPromptSubmit",
                             "prompt": hostile("prompt", "@")},
                            {"hook_event_name": "PermissionRequest", "tool_name": "Bash",
                             "tool_input": {"command": asked}} if kind == "permission" else
                            {"hook_event_name": "PreToolUse", "tool_name": "AskUserQuestion",
                             "tool_input": {"questions": [{"question": question,
                                                           "header": "x", "options": []}]}}):
                done = self.run_hook(dict(base, **payload))
                self.assertEqual(done.returncode, 0, done.stderr)
        runs, argvs = self.records(2)
        time.sleep(0.5)  # anything a leaked `touch` started has finished by now
        self.assertEqual(self.markers(), [])
        state = {s["session_id"]: s for s in self.get_json("/api/state")["sessions"]}
        for kind, sid in sids.items():
            self.assertEqual(state[sid]["project_dir"], dirs[kind])  # the hostile text, whole
            self.assert_told_exactly(sid, runs[sid], argvs[sid], state[sid])
        self.assertEqual(runs[sids["permission"]]["AMC_QUESTION"],
                         "Permission to use Bash: " + asked)
        self.assertEqual(runs[sids["question"]]["AMC_QUESTION"], question)

    def test_hostile_text_from_another_machine_on_a_hub_runs_nothing_and_arrives_whole(self):
        core = self.server.core
        core.apply(("machines", {"m1": ("m1", "")}))      # what the hub does for remotes.json
        now = model.now_iso()
        rid = hostile("rid", "-", name=True)
        waiting = {"session_id": rid, "status": "needs_attention", "status_since": now,
                   "started_at": now, "last_event_at": now, "agent": hostile("agent", "-"),
                   "project": hostile("proj", "@"), "project_dir": hostile("pdir", "-"),
                   "machine": hostile("machine"), "last_message_preview": hostile("msg", "@"),
                   "attention": {"kind": hostile("kind", "-"), "text": hostile("q", "@")}}
        lines = [{"id": "kx2-1", "event": "snapshot", "data": {
                     "sessions": [dict(waiting, status="active")], "server_time": now,
                     "setup": {}}},
                 {"id": "kx2-2", "event": "session", "data": waiting}]
        stream = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
        feed = Feed(self.server.hub, "m1", "m1")             # not started: no ssh, just its lines
        for raw in read_lines(io.BufferedReader(io.BytesIO(stream))):
            feed._line(raw)
        runs, argvs = self.records(1)
        time.sleep(0.5)
        self.assertEqual(self.markers(), [])
        sid = "m1:" + rid
        [session] = [s for s in self.get_json("/api/state")["sessions"]
                     if s["session_id"] == sid]
        self.assertEqual(session["machine"], "m1")
        self.assert_told_exactly(sid, runs[sid], argvs[sid], session)
        self.assertEqual(  # the remote's text itself, newlines, quotes and all
            [runs[sid][k] for k in ("AMC_QUESTION", "AMC_ATTENTION_KIND", "AMC_PROJECT",
                                    "AMC_PROJECT_DIR", "AMC_AGENT", "AMC_MESSAGE")],
            [waiting["attention"]["text"], waiting["attention"]["kind"], waiting["project"],
             waiting["project_dir"], waiting["agent"], waiting["last_message_preview"]])


class DocsExamples(unittest.TestCase):
    """Every `bin/amc notify add` of docs/notify.md, typed as shown, run with hostile values
    against stand-ins for notify-send and curl: nothing runs, each value arrives whole, curl
    gets text with --data-raw (never -d, which reads `@file`), values after `--`."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="amc-notify-docs-")
        self.addCleanup(__import__("shutil").rmtree, self.tmp, True)
        self.bin = os.path.join(self.tmp, "bin")
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.bin)
        os.makedirs(self.work)
        self.calls = os.path.join(self.tmp, "calls.jsonl")
        for name in ("notify-send", "curl"):
            path = os.path.join(self.bin, name)
            with open(path, "w") as f:
                f.write("#!%s\nimport json, os, sys\nwith open(%r, 'a') as f:\n"
                        "    f.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:])"
                        " + '\\n')\n" % (sys.executable, self.calls))
            os.chmod(path, 0o755)

    def examples(self):
        with open(os.path.join(ROOT, "docs", "notify.md")) as f:
            lines = [x for x in f.read().splitlines() if x.startswith("bin/amc notify add ")]
        return [shlex.split(x)[3] for x in lines]   # as the user's shell hands it to amc

    def test_the_documented_commands_run_nothing_and_deliver_values_as_data(self):
        texts = [t for t in self.examples() if not t.startswith("/home/me/")]
        self.assertGreaterEqual(len(texts), 4)
        session = {"session_id": "s1", "project": hostile("proj", "-", name=True),
                   "project_dir": "/w/x", "agent": "claude", "status": "needs_attention",
                   "status_since": "2026-12-01T10:00:00.000Z",
                   "attention": {"kind": "permission", "text": hostile("q", "@")}}
        env = notify.environment(session, "needs_attention", "http://127.0.0.1:7400/",
                                 {"PATH": self.bin + os.pathsep + "/usr/bin:/bin"})
        question, project = env["AMC_QUESTION"], env["AMC_PROJECT"]
        runner = notifier.Runner(timeout=20,
                                 popen=functools.partial(subprocess.Popen, cwd=self.work))
        for text in texts:
            argv = notify.parse_command(text)
            self.assertEqual(notify.notes(argv), [], text)  # nothing left silently as typed
            self.assertEqual(runner.run(notify.expand(argv, env), env), 0, text)
        self.assertEqual(os.listdir(self.work), [], "a value ran as shell code")
        calls = [json.loads(x) for x in _lines(self.calls)]
        self.assertEqual(len(calls), len(texts))
        for call in calls:
            values = [a for a in call if question in a or project in a]
            self.assertTrue(values, call)
            if call[0] == "curl":
                self.assertNotIn("-d", call)
                self.assertNotIn("--data", call)
                for v in values:  # text, not an @file: the option before it says so
                    self.assertEqual(call[call.index(v) - 1], "--data-raw", call)
            else:
                self.assertIn("--", call)
                self.assertLess(call.index("--"), call.index(values[0]), call)
                self.assertEqual(call[-1], question, call)
        self.assertIn(["notify-send", "--", project, question], calls)
        self.assertIn(["notify-send", "--", "AMC: " + project, question], calls)

if __name__ == "__main__":
    unittest.main()
