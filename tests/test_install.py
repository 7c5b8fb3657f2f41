"""`pip install .` gives a working AMC: a real wheel, built from this tree, in a fresh venv.

The wheel is built once per run (`pip wheel --no-deps --no-build-isolation` with the pinned
setuptools of tests/support/tools.py on PYTHONPATH: no network once the cache has it) from a copy of
the files a clone has, and installed with `--no-index` into a new `python3 -m venv`. Every command
then runs from the venv only: the console scripts, outside the clone, with no PYTHONPATH.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import zipfile
from typing import Dict, List, Optional

from tests.support import tools
from tests.support.helpers import ROOT, isolated_env

COMMANDS = ("amc", "amc-hook", "amc-server", "amc-channel")


def source_tree(dest: str) -> str:
    """Copy what `pip install .` reads from a clone into `dest` (the symlinked page kept a link)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for entry in ("amc_server", "bin", "dashboard"):
        shutil.copytree(os.path.join(ROOT, entry), os.path.join(dest, entry), symlinks=True,
                        ignore=ignore)
    for entry in ("pyproject.toml", "README.md"):
        shutil.copy2(os.path.join(ROOT, entry), os.path.join(dest, entry))
    return dest


def build_wheel(scratch: str) -> str:
    """Build AMC's wheel from a copy of this tree into `scratch`; return its path."""
    setuptools = tools.require("setuptools")
    src = source_tree(os.path.join(scratch, "src"))
    out = os.path.join(scratch, "wheels")
    env = dict(os.environ, PYTHONPATH=setuptools, PIP_DISABLE_PIP_VERSION_CHECK="1")
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
            "--wheel-dir", out, src]
    proc = subprocess.run(argv, env=env, cwd=scratch,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError("pip wheel failed (%d):\n%s\n%s" % (
            proc.returncode, proc.stdout.decode(errors="replace")[-3000:],
            proc.stderr.decode(errors="replace")[-3000:]))
    wheels = [n for n in os.listdir(out) if n.endswith(".whl")]
    if len(wheels) != 1:
        raise AssertionError("expected one wheel, got %r" % wheels)
    return os.path.join(out, wheels[0])


def make_venv(where: str, wheel: str) -> str:
    """Create a venv at `where` and install `wheel` into it from the file alone; return its bin/."""
    subprocess.run([sys.executable, "-m", "venv", where], check=True, capture_output=True,
                   timeout=300)
    venv_bin = os.path.join(where, "bin")
    proc = subprocess.run([os.path.join(venv_bin, "python"), "-m", "pip", "install", "--no-index",
                           "--no-deps", "--disable-pip-version-check", "--quiet", wheel],
                          capture_output=True, timeout=300, cwd=where)
    if proc.returncode != 0:
        raise AssertionError("pip install of the wheel failed:\n%s"
                             % proc.stderr.decode(errors="replace")[-3000:])
    return venv_bin


class Install(unittest.TestCase):
    """One wheel and one venv for the class; each test has its own HOME."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.scratch = tempfile.mkdtemp(prefix="amc-install-")
        try:
            cls.wheel = build_wheel(cls.scratch)
            cls.bin = make_venv(os.path.join(cls.scratch, "venv"), cls.wheel)
        except BaseException:
            shutil.rmtree(cls.scratch, True)
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.scratch, True)

    def setUp(self) -> None:
        self.home = tempfile.mkdtemp(prefix="amc-install-home-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.env = isolated_env(self.home)
        self.env.pop("PYTHONPATH", None)
        self.env.pop("VIRTUAL_ENV", None)
        # The agents' shell: no venv on PATH, so a command must name its own path to work.
        self.env["PATH"] = os.pathsep.join(
            p for p in self.env.get("PATH", "").split(os.pathsep) if p and p != self.bin)

    def run_cmd(self, argv: List[str], stdin: bytes = b"",
                env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        return subprocess.run(argv, input=stdin, env=env or self.env, cwd=self.home,
                              capture_output=True, timeout=60)

    def command(self, name: str) -> str:
        return os.path.join(self.bin, name)

    # -- the wheel ---------------------------------------------------------------------------
    def test_the_wheel_holds_every_subpackage_module_and_page_file(self):
        names = set(zipfile.ZipFile(self.wheel).namelist())
        package = os.path.join(ROOT, "amc_server")
        missing = []
        for folder, dirs, files in os.walk(package):  # not into the amc_server/dashboard symlink
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            rel = os.path.relpath(folder, ROOT).replace(os.sep, "/")
            missing += ["%s/%s" % (rel, n) for n in files
                        if n.endswith(".py") and "%s/%s" % (rel, n) not in names]
        page = os.path.join(ROOT, "dashboard")
        for folder, _, files in os.walk(page):
            rel = os.path.relpath(folder, page).replace(os.sep, "/")
            for n in files:
                name = "amc_server/dashboard/" + ("" if rel == "." else rel + "/") + n
                if name not in names:
                    missing.append(name)
        self.assertEqual(missing, [], "files of the clone missing from the wheel")
        self.assertIn("amc_server/core/__init__.py", names)  # the subpackage 0.1.0 left out
        self.assertFalse([n for n in names if "__pycache__" in n or n.endswith(".pyc")])

    def test_the_venv_has_the_four_commands(self):
        for name in COMMANDS:
            self.assertTrue(os.access(self.command(name), os.X_OK), name)

    # -- the hook ----------------------------------------------------------------------------
    def test_the_hook_exits_zero_on_an_empty_payload_and_prints_nothing(self):
        proc = self.run_cmd([self.command("amc-hook")], b"{}")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        self.assertEqual(proc.stdout, b"")
        self.assertNotIn(b"Traceback", proc.stderr)

    def test_hooks_install_writes_a_command_that_runs_from_the_install(self):
        proc = self.run_cmd([self.command("amc"), "hooks", "install"])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        with open(os.path.join(self.home, ".claude", "settings.json"), encoding="utf-8") as f:
            settings = json.load(f)
        commands = {h["command"] for entries in settings["hooks"].values()
                    for entry in entries for h in entry["hooks"]}
        self.assertEqual(commands, {shlex.quote(self.command("amc-hook"))})
        payload = {"hook_event_name": "SessionStart", "session_id": "installed-hook",
                   "cwd": self.home, "source": "startup"}
        proc = subprocess.run(["/bin/sh", "-c", commands.pop()], input=json.dumps(payload).encode(),
                              env=self.env, cwd=self.home, capture_output=True, timeout=60)
        self.assertEqual((proc.returncode, proc.stdout), (0, b""), proc.stderr)
        self.assertTrue(os.path.isfile(os.path.join(
            self.home, ".local", "share", "amc", "sessions", "installed-hook.json")))

    # -- the server --------------------------------------------------------------------------
    def serve(self, argv: List[str]) -> "subprocess.Popen[bytes]":
        proc = subprocess.Popen(argv, env=self.env, cwd=self.home, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)

        def stop() -> None:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait(10)
            proc.stdout.close()
            proc.stderr.close()
        self.addCleanup(stop)
        return proc

    def url_of(self, proc: "subprocess.Popen[bytes]") -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline().decode(errors="replace")
            if "http://" in line:
                return line[line.index("http://"):].split()[0].rstrip("/")
        raise AssertionError("the server printed no URL (exit %s): %s" % (
            proc.poll(), proc.stderr.read().decode(errors="replace")[-3000:]
            if proc.poll() is not None else ""))

    def test_amc_serve_answers_state_with_sessions_and_serves_the_page(self):
        payload = {"hook_event_name": "SessionStart", "session_id": "installed-serve",
                   "cwd": self.home, "source": "startup"}
        hook = self.run_cmd([self.command("amc-hook")], json.dumps(payload).encode())
        self.assertEqual(hook.returncode, 0, hook.stderr)
        url = self.url_of(self.serve([self.command("amc"), "serve", "--port", "0"]))
        with urllib.request.urlopen(url + "/api/state", timeout=10) as resp:
            state = json.loads(resp.read())
        self.assertIn("installed-serve", [s.get("session_id") or s.get("id")
                                          for s in state["sessions"]])
        with urllib.request.urlopen(url + "/", timeout=10) as resp:
            page = resp.read()
        with open(os.path.join(ROOT, "dashboard", "index.html"), "rb") as f:
            first_line = f.readline().strip()
        self.assertTrue(page.startswith(first_line), page[:200])
        with urllib.request.urlopen(url + "/main.js", timeout=10) as resp:
            self.assertEqual(resp.status, 200)

    def test_amc_server_is_amc_serve(self):
        url = self.url_of(self.serve([self.command("amc-server"), "--port", "0"]))
        with urllib.request.urlopen(url + "/api/state", timeout=10) as resp:
            self.assertIn("sessions", json.loads(resp.read()))

    # -- the channel -------------------------------------------------------------------------
    def test_channel_install_points_at_the_installed_amc_channel_which_answers(self):
        proc = self.run_cmd([self.command("amc"), "channel", "install"])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        with open(os.path.join(self.home, ".claude.json"), encoding="utf-8") as f:
            entry = json.load(f)["mcpServers"]["amc"]
        self.assertEqual(entry["command"], self.command("amc-channel"))
        self.assertNotIn(ROOT, json.dumps(entry))  # nothing of the clone the wheel came from
        hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        spawned = subprocess.run([entry["command"]] + entry.get("args", []),
                                 input=(json.dumps(hello) + "\n").encode(), env=self.env,
                                 cwd=self.home, capture_output=True, timeout=60)
        first = json.loads(spawned.stdout.decode().splitlines()[0])
        self.assertEqual(first["id"], 1)
        self.assertEqual(first["result"]["serverInfo"]["name"], "amc")


if __name__ == "__main__":
    unittest.main()
