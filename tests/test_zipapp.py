"""AMC as one zipapp file: built from the running code, named by content, and it runs."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from tests.support.helpers import IsolatedTestCase, ROOT

from amc_server.remote import zipapp as zipapp_build


class Zipapp(IsolatedTestCase):
    def test_the_same_code_gives_the_same_name_and_bytes_and_other_code_another(self):
        out = os.path.join(self.home, "cache")
        first = zipapp_build.build(out)
        with open(first, "rb") as f:
            data = f.read()
        self.assertEqual(zipapp_build.build(out), first)
        self.assertRegex(os.path.basename(first), r"^amc-0\.1\.0-[0-9a-f]{16}\.pyz$")
        copy = tempfile.mkdtemp(prefix="amc-pkg-")
        self.addCleanup(shutil.rmtree, copy, True)
        pkg = os.path.join(copy, "amc_server")
        shutil.copytree(os.path.join(ROOT, "amc_server"), pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
        again = zipapp_build.build(os.path.join(self.home, "cache2"), pkg)
        self.assertEqual(os.path.basename(again), os.path.basename(first))
        with open(again, "rb") as f:
            self.assertEqual(f.read(), data)  # reproducible: fixed times and order
        with open(os.path.join(pkg, "model.py"), "a") as f:
            f.write("\n# changed\n")
        changed = zipapp_build.build(os.path.join(self.home, "cache3"), pkg)
        self.assertNotEqual(os.path.basename(changed), os.path.basename(first))

    def test_its_version_is_the_packages(self):
        with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
            self.assertIn('version = "%s"' % zipapp_build.VERSION, f.read())

    def test_it_runs_amc_with_nothing_but_python(self):
        path = zipapp_build.build(os.path.join(self.home, "cache"))
        env = dict(self.env)
        env.pop("PYTHONPATH", None)
        proc = subprocess.Popen([sys.executable, "-I", path, "stream"], env=env, cwd=self.home,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            first = json.loads(proc.stdout.readline())
        finally:
            proc.kill()
            proc.wait(5)
            proc.stdout.close()
            proc.stderr.close()
        self.assertEqual(first["event"], "snapshot")
        self.assertEqual(first["data"]["sessions"], [])
        self.assertEqual(first["data"]["setup"]["data_dir"], self.paths.data)
