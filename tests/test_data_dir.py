"""A read-only or full data dir: the hook exits 0 with one line on stderr, the server says so.

As root (CI) the data dir is a real tmpfs mount, remounted read-only or filled up; as another user
a read-only data dir is a chmod (root ignores modes), and a full disk cannot be made: skipped there.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from tests.support import tools
from tests.support.helpers import ServerTestCase, isolated_env
from tests.support.sse import SSEClient

from amc_server.paths import get_paths


def can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    d = tempfile.mkdtemp(prefix="amc-mnt-probe-")
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", d], capture_output=True)
        return ok
    finally:
        os.rmdir(d)


MOUNT = can_mount()


class ReadOnlyOrFull(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.mnt = tempfile.mkdtemp(prefix="amc-data-")
        if MOUNT:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs",
                            self.mnt], check=True)
            self.addCleanup(lambda: (subprocess.run(["umount", "-l", self.mnt],
                                                    capture_output=True),
                                     shutil.rmtree(self.mnt, True)))
        else:
            self.addCleanup(shutil.rmtree, self.mnt, True)
        # A second server whose data dir is on that filesystem.
        self.env = dict(isolated_env(self.home), AMC_DATA_DIR=os.path.join(self.mnt, "amc"))
        self.paths = get_paths(self.env)
        from amc_server.http.server import make_server
        import threading
        self._stop_server()
        self.server = make_server(self.paths, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.port = self.server.server_address[1]
        self.token = self.server.guard.token

    def read_only(self, on: bool = True) -> None:
        if MOUNT:
            subprocess.run(["mount", "-o", "remount,%s" % ("ro" if on else "rw"), self.mnt],
                           check=True)
        else:
            for d in (self.paths.data, self.paths.sessions, self.paths.events):
                os.makedirs(d, exist_ok=True)
            for d in (self.paths.sessions, self.paths.events, self.paths.data):
                os.chmod(d, 0o500 if on else 0o700)

    def hook(self, sid):
        return self.run_hook({"session_id": sid, "hook_event_name": "UserPromptSubmit",
                              "prompt": "hi"})

    def wait_problem(self, client, needle):
        event = client.until(lambda e: e["event"] in ("setup", "snapshot") and needle in (
            (e["data"].get("setup") or e["data"]).get("data_dir_problem") or ""), timeout=15)
        return event

    def test_read_only_data_dir(self):
        if os.geteuid() == 0 and not MOUNT:
            self.fail("as root a read-only data dir needs a tmpfs mount") if tools.in_ci() \
                else self.skipTest("cannot mount here")
        self.assertEqual(self.hook("before").returncode, 0)
        client = SSEClient(self.port)
        self.addCleanup(client.close)
        self.assertEqual(client.next(5)["event"], "snapshot")
        self.read_only()
        self.addCleanup(self.read_only, False)
        result = self.hook("during")
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stdout, b"")
        lines = result.stderr.decode().strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].startswith("amc-hook: "), lines)
        event = self.wait_problem(client, "read-only")
        self.assertIn(self.paths.data, event["data"]["data_dir_problem"])
        state = self.get_json("/api/state")  # the server goes on
        self.assertIn("read-only", state["setup"]["data_dir_problem"])
        self.assertEqual([s["session_id"] for s in state["sessions"]], ["before"])
        status, body, _ = self.request("POST", "/api/dismiss/before")
        self.assertEqual((status, body["ok"]), (507, False))
        self.assertIn("cannot be written", body["error"])
        self.read_only(False)
        client.until(lambda e: e["event"] == "setup" and not e["data"]["data_dir_problem"],
                     timeout=15)

    def test_full_data_dir(self):
        if not MOUNT:
            if tools.in_ci():
                self.fail("a full disk needs a tmpfs mount (root) in CI")
            self.skipTest("a full disk can only be made with a tmpfs mount (root)")
        self.assertEqual(self.hook("before").returncode, 0)
        client = SSEClient(self.port)
        self.addCleanup(client.close)
        client.next(5)
        filler = os.path.join(self.paths.data, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        self.addCleanup(lambda: os.path.exists(filler) and os.unlink(filler))
        # the hook's small writes may still fit into the last blocks: fill those too
        for i in range(200):
            try:
                with open(os.path.join(self.paths.data, "f%d" % i), "wb") as f:
                    f.write(b"x" * 4096)
            except OSError:
                break
        result = self.hook("during")
        self.assertEqual(result.returncode, 0)
        self.assertLessEqual(len(result.stderr.decode().strip().splitlines()), 1)
        self.wait_problem(client, "full")
        self.assertEqual(self.request("GET", "/api/state")[0], 200)


class StartsReadOnly(unittest.TestCase):
    def test_server_starts_on_a_read_only_data_dir_without_a_token_file(self):
        if not MOUNT and os.geteuid() == 0:
            self.skipTest("needs a mount as root")
        mnt = tempfile.mkdtemp(prefix="amc-ro-")
        try:
            if MOUNT:
                subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt],
                               check=True)
                os.makedirs(os.path.join(mnt, "amc"))
                subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
            else:
                os.makedirs(os.path.join(mnt, "amc"))
                os.chmod(os.path.join(mnt, "amc"), 0o500)
            home = tempfile.mkdtemp(prefix="amc-home-")
            env = dict(isolated_env(home), AMC_DATA_DIR=os.path.join(mnt, "amc"))
            from amc_server.http.server import make_server
            server = make_server(get_paths(env), "127.0.0.1", 0)
            try:
                self.assertTrue(server.guard.token)
                setup = server.core.setup()
                self.assertIn("read-only", setup["data_dir_problem"])
            finally:
                server.server_close()
                shutil.rmtree(home, True)
        finally:
            if MOUNT:
                subprocess.run(["umount", "-l", mnt], capture_output=True)
            shutil.rmtree(mnt, True)


if __name__ == "__main__":
    unittest.main()
