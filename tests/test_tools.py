"""The test command's tool finder: pinned versions, and fail-not-skip under CI=true."""
import os
import subprocess
import sys
import tempfile
import unittest

from tests.support import tools
from tests.support.helpers import ROOT

PROBE = """
import sys, unittest
sys.path.insert(0, %r)
from tests.support import tools
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
        self.assertIn("@anthropic-ai/claude-code@%s" % tools.PINS["claude"], out)

    def test_missing_cli_skips_locally(self):
        self.assertTrue(self.probe(ci=False).startswith("SKIP"))

    def test_installs_exact_pins(self):
        argv = tools.npm_install_argv("npm", "/x", tools.npm_tools({})["codex"])
        self.assertEqual(argv[:4], ["npm", "install", "--prefix", "/x"])
        self.assertEqual(argv[-1], "@openai/codex@%s" % tools.PINS["codex"])
        self.assertIn("--save-exact", argv)

    def test_the_pins_are_the_checked_versions(self):
        self.assertEqual(tools.PINS, {"claude": "2.1.337", "codex": "0.171.0"})
        self.assertEqual(tools.HYPOTHESIS.version, "6.170.17")

    def test_version_variables_pick_another_cli(self):
        picked = tools.npm_tools({"AMC_TEST_CLAUDE_VERSION": "2.1.300",
                                  "AMC_TEST_CODEX_VERSION": " 0.150.0 "})
        self.assertEqual(picked["claude"].version, "2.1.300")
        self.assertEqual(picked["codex"].version, "0.150.0")
        self.assertEqual(tools.npm_install_argv("npm", "/x", picked["claude"])[-1],
                         "@anthropic-ai/claude-code@2.1.300")
        self.assertTrue(tools.npm_dir(picked["claude"], {"AMC_TEST_CACHE": "/c"}).endswith(
            "/c/claude-code-2.1.300"))
        self.assertEqual(tools.npm_tools({"AMC_TEST_CLAUDE_VERSION": ""})["claude"].version,
                         tools.PINS["claude"])

    def test_a_version_variable_reaches_the_whole_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = {"PATH": tmp, "HOME": tmp, "AMC_TEST_CACHE": os.path.join(tmp, "cache"),
                   "CI": "true", "AMC_TEST_CODEX_VERSION": "0.150.0"}
            out = subprocess.run([sys.executable, "-c", PROBE.replace('"claude"', '"codex"')],
                                 env=env, capture_output=True, text=True, timeout=60)
        self.assertIn("@openai/codex@0.150.0", out.stdout)


if __name__ == "__main__":
    unittest.main()
