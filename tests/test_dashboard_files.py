"""The dashboard's files keep their promises: vendored bytes match the README, one seam, no
innerHTML, nothing loaded from outside the server."""
import hashlib
import os
import re
import unittest

from tests.support.helpers import ROOT

DASHBOARD = os.path.join(ROOT, "dashboard")
VENDOR = os.path.join(DASHBOARD, "vendor")


def own_js_files():
    for folder, _, files in os.walk(DASHBOARD):
        if folder.startswith(VENDOR):
            continue
        for name in files:
            if name.endswith((".js", ".html", ".css")):
                yield os.path.join(folder, name)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class DashboardFiles(unittest.TestCase):
    def test_vendored_files_match_their_recorded_sha256(self):
        readme = read(os.path.join(VENDOR, "README.md"))
        rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M)
        self.assertGreaterEqual({name for name, _ in rows},
                                {"preact.js", "preact-hooks.js", "htm.js"})
        for name, digest in rows:
            with open(os.path.join(VENDOR, name), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), digest, name)

    def test_only_the_seam_imports_preact_and_htm(self):
        for path in own_js_files():
            if not path.endswith(".js"):
                continue
            for spec in re.findall(r"""(?:from|import)\s*['"]([^'"]+)['"]""", read(path)):
                if re.match(r"^(preact|htm)(/|$)|vendor/", spec):
                    self.assertTrue(path.endswith(os.path.join("lib", "preact.js")),
                                    "%s imports %s directly (use lib/preact.js)" % (path, spec))

    def test_no_innerhtml_and_nothing_from_outside(self):
        for path in own_js_files():
            text = read(path)
            for pattern in (r"\.(inner|outer)HTML\s*=", r"dangerouslySetInnerHTML\s*[:=]",
                            r"insertAdjacentHTML\s*\(", r"document\.write\s*\(",
                            r"""(src|href)\s*=\s*['"]?(https?:)?//""",
                            r"""url\(\s*['"]?(https?:)?//""", r"@import"):
                found = re.search(pattern, text)
                self.assertIsNone(found, "%s: %s" % (path, found and found.group(0)))


if __name__ == "__main__":
    unittest.main()
