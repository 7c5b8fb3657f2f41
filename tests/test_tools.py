"""The test command's tool finder: pinned versions, and fail-not-skip under CI=true."""
import os
import subprocess
import sys
import tempfile
import unittest

from tests import tools
from tests.helpers import ROOT

PROBE = """
import sys, unittest
sys.path.insert(0, %r)
from tests import tools
try:
    tools.require("claude")
except tools.ToolMissing as e:
    print("FAIL", e)
except unittest.SkipTest as e:
    print("SKIP", e)
else:
    print("FOUND")
""" % ROOT


class ToolFinder(unittest.TestCase):
    def probe(self, ci):
        with tempfile.TemporaryDirectory() as tmp:
            env = {"PATH": tmp, "HOME": tmp, "AMC_TEST_CACHE": os.path.join(tmp, "cache")}
            if ci:
                env["CI"] = "true"
            out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                                 text=True, timeout=60)
        return out.stdout

    def test_missing_cli_fails_under_ci(self):
        out = self.probe(ci=True)
        self.assertTrue(out.startswith("FAIL"), out)
        self.assertIn("@anthropic-ai/claude-code@2.1.329", out)

    def test_missing_cli_skips_locally(self):
        self.assertTrue(self.probe(ci=False).startswith("SKIP"))

    def test_installs_exact_pins(self):
        argv = tools.npm_install_argv("npm", "/x", tools.NPM_TOOLS["codex"])
        self.assertEqual(argv[:4], ["npm", "install", "--prefix", "/x"])
        self.assertEqual(argv[-1], "@openai/codex@0.169.0")
        self.assertIn("--save-exact", argv)


if __name__ == "__main__":
    unittest.main()
