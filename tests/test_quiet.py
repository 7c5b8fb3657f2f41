"""A quiet server is quiet: with inotify, nothing is looked at per directory every 2 s.

Issue 19: with thousands of project directories, the reconcile, the search index and the
watcher each stat'ed every directory every 2 s. With inotify the core's reconcile now makes a
full pass over the directories only every FULL_PASS_S; the stat watcher (AMC_WATCHER=stat) keeps
looking at every reconcile. What a directory listing finds still reaches every consumer at once:
a project directory moved in whole (inotify names the directory, not its files) is searchable and
its session shown without any periodic pass.
"""
import os
import shutil
import time
import unittest
import uuid

from tests.support.helpers import IsolatedTestCase
from tests.test_search import WAIT_S, SearchCase, lines, user

from amc_server.core import live


def project_dirs(paths, n):
    for i in range(n):
        folder = os.path.join(paths.claude_projects, "-home-dev-p%03d" % i)
        os.makedirs(folder)
        sid = str(uuid.uuid4())
        with open(os.path.join(folder, sid + ".jsonl"), "wb") as f:
            f.write(lines(user(sid, "hello %d" % i)))


class Reconcile(IsolatedTestCase):
    def core(self, force_stat):
        project_dirs(self.paths, 50)
        core = live.Core(self.paths, force_stat=force_stat)
        core.start()
        self.addCleanup(core.stop)
        return core

    def listed_during(self, core, reconciles):
        """Return how many directories the reconciles listed (Sources.scan_dir calls)."""
        calls = []
        scan = core.src.scan_dir
        core.src.scan_dir = lambda d, now=None: (calls.append(d), scan(d, now))[1]
        try:
            for _ in range(reconciles):
                time.sleep(0.01)
                core.reconcile()
        finally:
            core.src.scan_dir = scan
        return calls, core.stats["full_passes"]

    def test_with_inotify_the_reconcile_lists_no_directory(self):
        core = self.core(force_stat=False)
        self.assertEqual(core.watcher.kind, "inotify")
        calls, passes = self.listed_during(core, 5)
        self.assertEqual(passes, 0)
        # the hook files' and the registry's directories, never a project dir
        self.assertEqual(set(calls) - {self.paths.sessions, self.paths.claude_sessions}, set())

    def test_with_inotify_a_full_pass_still_runs_every_few_minutes(self):
        core = self.core(force_stat=False)
        core._last_full_pass -= live.FULL_PASS_S
        calls, passes = self.listed_during(core, 3)
        self.assertEqual(passes, 1)
        self.assertGreaterEqual(len(set(calls)), 50)

    def test_the_stat_watcher_keeps_its_pass_at_every_reconcile(self):
        core = self.core(force_stat=True)
        self.assertEqual(core.watcher.kind, "stat")
        _, passes = self.listed_during(core, 3)
        self.assertEqual(passes, 3)


class MovedInProject(SearchCase):
    def test_a_project_dir_moved_in_whole_is_searchable_and_its_session_known_at_once(self):
        self.hits("anything")  # the index is open
        staging = os.path.join(self.home, "staging", "-home-dev-work-moved")
        os.makedirs(staging)
        sid = str(uuid.uuid4())
        with open(os.path.join(staging, sid + ".jsonl"), "wb") as f:
            f.write(lines(user(sid, "pangolin moved in whole", cwd="/home/dev/work/moved")))
        os.makedirs(self.paths.claude_projects, exist_ok=True)
        # Only the directory is reported by inotify (IN_MOVED_TO): no periodic pass finds it.
        self.server.core._last_full_pass = time.monotonic() + 3600
        shutil.move(staging, self.paths.claude_projects)
        found = self.wait_hits("pangolin", 1)
        self.assertEqual(found[0]["session_id"], sid)
        self.assertEqual(self.get_json("/api/conversation/%s" % sid)["messages"][0]["content"],
                         "pangolin moved in whole")


if __name__ == "__main__":
    unittest.main()
