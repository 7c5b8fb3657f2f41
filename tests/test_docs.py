"""The docs stay true: every route, every AMC_* variable, the layout and the packaging."""
import ast
import os
import re
import unittest

from tests.support.helpers import ROOT

from amc_server.http import api


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def all_docs():
    texts = [read("README.md")]
    for name in sorted(os.listdir(os.path.join(ROOT, "docs"))):
        if name.endswith(".md"):
            texts.append(read("docs", name))
    return "\n".join(texts)


class DocsAreTrue(unittest.TestCase):
    def test_every_route_is_documented(self):
        docs = all_docs()
        for method, pattern, _ in api.ROUTES:
            path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", pattern.pattern.strip("^$"))
            self.assertTrue("%s %s" % (method, path) in docs, "undocumented route %s %s" % (method, path))

    def test_every_amc_variable_in_the_code_is_documented(self):
        docs = all_docs()
        names = set()
        for folder, _, files in os.walk(os.path.join(ROOT, "amc_server")):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), encoding="utf-8") as f:
                        names |= set(re.findall(r"\bAMC_[A-Z_]+\b", f.read()))
        self.assertIn("AMC_DATA_DIR", names)
        for name in sorted(names):
            self.assertTrue(name in docs, "undocumented variable %s" % name)

    def test_readme_first_screen_says_what_how_test_and_hooks(self):
        first = "\n".join(read("README.md").splitlines()[:25])
        for needle in ("Agent Mission Control", "bin/amc start", "python3 tests/run.py",
                       "bin/amc hooks install"):
            self.assertIn(needle, first)

    def test_ci_runs_the_readme_test_command(self):
        self.assertIn("python3 tests/run.py", read(".ci", "run"))

    def test_the_module_table_of_architecture_md_is_the_tree(self):
        """Every module of amc_server/ is in the table (by its path, or its package's `dir/`
        row) and every path the table names exists."""
        named = set()
        for row in read("docs", "architecture.md").splitlines():
            if row.startswith("| `"):
                named |= set(re.findall(r"`([^`]+)`", row.split("|")[1]))
        package = os.path.join(ROOT, "amc_server")
        modules = set()
        for folder, dirs, files in os.walk(package):
            dirs[:] = [d for d in dirs if d not in ("dashboard", "__pycache__")]
            modules |= {os.path.relpath(os.path.join(folder, f), package) for f in files
                        if f.endswith(".py") and f not in ("__init__.py", "__main__.py")}

        def listed(module):
            parts = module.split(os.sep)
            return module in named or any("/".join(parts[:i]) + "/" in named
                                          for i in range(1, len(parts)))
        self.assertEqual(sorted(m for m in modules if not listed(m)), [])
        self.assertEqual(sorted(n for n in named
                                if not os.path.exists(os.path.join(package, n))), [])

    def test_docs_index_names_every_doc(self):
        index = read("docs", "index.md")
        for name in sorted(os.listdir(os.path.join(ROOT, "docs"))):
            if name.endswith(".md") and name != "index.md":
                self.assertIn("(%s)" % name, index, name)
        self.assertIn("(claude-jsonl-reference/README.md)", index)

    def test_layout_and_packaging(self):
        for entry in ("bin", "amc_server", "dashboard", "tests", "docs", "README.md", "CLAUDE.md",
                      "pyproject.toml"):
            self.assertTrue(os.path.exists(os.path.join(ROOT, entry)), entry)
        pyproject = read("pyproject.toml")
        self.assertRegex(pyproject, r"(?m)^dependencies = \[\]$")
        for script in ("amc", "amc-hook", "amc-server", "amc-channel"):
            self.assertRegex(pyproject, r'(?m)^%s = "amc_server\.' % script)
            self.assertTrue(os.access(os.path.join(ROOT, "bin", script), os.X_OK))

    def test_runtime_imports_only_the_standard_library(self):
        import sys
        stdlib = getattr(sys, "stdlib_module_names", None)
        if stdlib is None:
            self.skipTest("needs Python 3.10+ to list the standard library")
        for folder, _, files in os.walk(os.path.join(ROOT, "amc_server")):
            for name in files:
                if not name.endswith(".py"):
                    continue
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        mods = [a.name for a in node.names]
                    elif isinstance(node, ast.ImportFrom) and not node.level:
                        mods = [node.module]
                    else:
                        continue
                    for mod in mods:
                        top = mod.split(".")[0]
                        self.assertTrue(top in stdlib or top == "amc_server",
                                        "%s imports %s" % (name, mod))


if __name__ == "__main__":
    unittest.main()
