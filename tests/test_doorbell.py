"""The hook's doorbell: one datagram per write, never waiting, silent when nobody listens."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from tests.support.helpers import HOOK, IsolatedTestCase

from amc_server.core import doorbell


class Doorbell(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="amc-bell-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_a_ring_names_the_session_and_only_this_user_may_ring(self):
        bell = doorbell.Doorbell(self.dir)
        self.addCleanup(bell.close)
        self.assertEqual(bell.error, "")
        self.assertEqual(os.stat(bell.path).st_mode & 0o777, 0o600)
        self.assertTrue(doorbell.ring(self.dir, "abc-1"))
        self.assertTrue(doorbell.ring(self.dir, "abc-2"))
        self.assertEqual(bell.read(), ["abc-1", "abc-2"])
        self.assertEqual(bell.read(), [])

    def test_no_server_is_silent_and_a_full_buffer_never_blocks(self):
        self.assertFalse(doorbell.ring(self.dir, "nobody"))  # no socket file at all
        bell = doorbell.Doorbell(self.dir)
        self.addCleanup(bell.close)
        started = time.monotonic()
        sent = sum(doorbell.ring(self.dir, "x" * 400) for _ in range(20000))
        self.assertLess(time.monotonic() - started, 10)
        self.assertLess(sent, 20000)  # some were refused (EAGAIN) instead of waiting
        bell.close()
        self.assertFalse(os.path.exists(bell.path))
        self.assertFalse(doorbell.ring(self.dir, "gone"))  # ECONNREFUSED/ENOENT: silent

    def test_a_stale_socket_is_replaced_and_a_newer_server_keeps_its_own(self):
        old = doorbell.Doorbell(self.dir)
        new = doorbell.Doorbell(self.dir)  # a restarted server takes the path over
        self.addCleanup(new.close)
        old.close()                        # the old one must not remove the new one's socket
        self.assertTrue(os.path.exists(new.path))
        self.assertTrue(doorbell.ring(self.dir, "s"))
        self.assertEqual(new.read(), ["s"])

    def test_a_data_dir_path_too_long_for_a_unix_socket_is_reported(self):
        deep = os.path.join(self.dir, "d" * 120)
        os.makedirs(deep)
        bell = doorbell.Doorbell(deep)
        self.assertIsNone(bell.sock)
        self.assertIn("too long", bell.error)
        self.assertFalse(doorbell.ring(deep, "s"))


class HookRings(IsolatedTestCase):
    def test_the_real_hook_rings_after_writing_the_session_file(self):
        os.makedirs(self.paths.data)
        bell = doorbell.Doorbell(self.paths.data)
        self.addCleanup(bell.close)
        result = self.run_hook({"session_id": "rung-1", "hook_event_name": "UserPromptSubmit",
                                "prompt": "hi"})
        self.assertEqual((result.returncode, result.stdout, result.stderr), (0, b"", b""))
        self.assertEqual(bell.wait(2.0), ["rung-1"])
        self.assertIsNotNone(self.session_file("rung-1"))  # written before the ring

    def test_the_hook_imports_no_socket_module(self):
        os.makedirs(self.paths.data)
        bell = doorbell.Doorbell(self.paths.data)
        self.addCleanup(bell.close)
        payload = os.path.join(self.home, "payload.json")
        with open(payload, "w") as f:
            f.write('{"session_id": "light-1", "hook_event_name": "UserPromptSubmit"}')
        code = ("import sys; sys.stdin = open(%r); import amc_server.hook.record as h; h.main([]); "
                "print(','.join(m for m in ('socket', 'selectors', 'select') "
                "if m in sys.modules))" % payload)
        env = dict(self.env, PYTHONPATH=os.path.dirname(os.path.dirname(HOOK)))
        out = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True,
                             text=True, timeout=30)
        self.assertEqual((out.stdout.strip(), out.stderr), ("", ""))
        self.assertEqual(bell.wait(2.0), ["light-1"])  # it did ring

if __name__ == "__main__":
    unittest.main()
