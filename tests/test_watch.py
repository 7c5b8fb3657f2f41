"""Directory watchers: both kinds report creates, replaces, appends and deletes of real files."""
import errno
import os
import shutil
import struct
import sys
import tempfile
import threading
import time
import unittest
from typing import Callable, List, Optional
from unittest import mock

from amc_server.core import inotify, watch

LINUX = sys.platform.startswith("linux")


class Recorder:
    """An on_change that remembers every path; tests wait for one with a deadline."""

    def __init__(self) -> None:
        self.paths: List[str] = []
        self._cond = threading.Condition()

    def __call__(self, path: str) -> None:
        with self._cond:
            self.paths.append(path)
            self._cond.notify_all()

    def wait_for(self, path: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while path not in self.paths:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True


def write(path: str, data: bytes = b"{}\n", mode: str = "wb") -> None:
    with open(path, mode) as f:
        f.write(data)


def open_fds() -> Optional[int]:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


class WatcherContract:
    """The behaviour both watchers promise; mixed into one TestCase per kind."""
    timeout = 3.0

    def make(self, on_change: Callable[[str], None]) -> watch.Watcher:
        raise NotImplementedError

    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="amc-watch-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.rec = Recorder()

    def started(self, on_change: Optional[Callable[[str], None]] = None,
                dirs: Optional[List[str]] = None) -> watch.Watcher:
        w = self.make(on_change or self.rec)
        self.addCleanup(w.stop)
        for d in dirs or [self.dir]:
            self.assertTrue(w.watch(d))
        w.start()
        return w

    def path(self, *names: str) -> str:
        return os.path.join(self.dir, *names)

    def assertReported(self, path: str) -> None:
        got = self.rec.wait_for(path, self.timeout)
        self.assertTrue(got, "%s not reported in %.1fs; got %r" % (path, self.timeout,
                                                                   self.rec.paths))

    def test_created_file_is_reported(self):
        self.started()
        write(self.path("a.json"))
        self.assertReported(self.path("a.json"))

    def test_atomic_replace_is_reported(self):
        write(self.path("s.json"), b"old\n")
        self.started()
        write(self.path(".s.json.tmp"), b"new\n")
        os.replace(self.path(".s.json.tmp"), self.path("s.json"))
        self.assertReported(self.path("s.json"))

    def test_append_to_open_file_is_reported(self):
        write(self.path("t.jsonl"), b'{"n":1}\n')
        self.started()
        with open(self.path("t.jsonl"), "ab") as f:  # a transcript writer keeps the file open
            f.write(b'{"n":2}\n')
            f.flush()
            self.assertReported(self.path("t.jsonl"))

    def test_deleted_file_is_reported(self):
        write(self.path("gone.json"))
        self.started()
        os.unlink(self.path("gone.json"))
        self.assertReported(self.path("gone.json"))

    def test_existing_files_are_not_reported(self):
        write(self.path("old.json"))
        self.started()
        write(self.path("new.json"))
        self.assertReported(self.path("new.json"))
        self.assertNotIn(self.path("old.json"), self.rec.paths)

    def test_new_subdirectory_is_reported_and_can_be_watched_from_on_change(self):
        w: Optional[watch.Watcher] = None

        def on_change(path: str) -> None:
            if os.path.isdir(path):
                w.watch(path)  # what the core does with a new Codex day directory
            self.rec(path)
        w = self.started(on_change)
        os.mkdir(self.path("07"))
        self.assertReported(self.path("07"))
        self.assertIn(self.path("07"), w.watched())
        write(self.path("07", "rollout.jsonl"))
        self.assertReported(self.path("07", "rollout.jsonl"))

    def test_unwatch_stops_reports(self):
        a, b = self.path("a"), self.path("b")
        os.mkdir(a)
        os.mkdir(b)
        w = self.started(dirs=[a, b])
        w.unwatch(a)
        self.assertEqual(w.watched(), [b])
        write(os.path.join(a, "x.json"))
        write(os.path.join(b, "y.json"))
        self.assertReported(os.path.join(b, "y.json"))  # a's report would have come first
        self.assertEqual([p for p in self.rec.paths if p.startswith(a)], [])

    def test_deleted_watched_directory_is_reported_and_unwatched(self):
        sub = self.path("sub")
        os.mkdir(sub)
        w = self.started(dirs=[sub])
        os.rmdir(sub)
        self.assertReported(sub)
        self.assertEqual(w.watched(), [])

    def test_moved_watched_directory_is_reported_and_unwatched(self):
        sub = self.path("sub")
        os.mkdir(sub)
        w = self.started(dirs=[self.dir, sub])
        os.rename(sub, self.path("moved"))
        self.assertReported(sub)
        self.assertEqual(w.watched(), [self.dir])

    def test_raising_callback_does_not_stop_later_reports(self):
        def on_change(path: str) -> None:
            self.rec(path)
            if path.endswith("boom.json"):
                raise RuntimeError("a bug in the consumer")
        self.started(on_change)
        with self.assertLogs("amc.watch", "ERROR") as logs:
            write(self.path("boom.json"))
            self.assertReported(self.path("boom.json"))
            write(self.path("after.json"))
            self.assertReported(self.path("after.json"))
        self.assertIn("a bug in the consumer", "\n".join(logs.output))

    def test_stop_is_idempotent_and_leaves_no_thread_or_fd(self):
        threads, fds = set(threading.enumerate()), open_fds()
        w = self.make(self.rec)
        self.assertTrue(w.watch(self.dir))
        w.start()
        w.stop()
        w.stop()
        self.assertEqual([t for t in threading.enumerate() if t not in threads], [])
        self.assertEqual(open_fds(), fds)
        self.assertFalse(w.watch(self.dir))

    def test_stop_from_on_change_ends_the_thread(self):
        threads, fds = set(threading.enumerate()), open_fds()
        w: Optional[watch.Watcher] = None

        def on_change(path: str) -> None:
            w.stop()
            self.rec(path)
        w = self.started(on_change)
        write(self.path("last.json"))
        self.assertReported(self.path("last.json"))
        def new_threads() -> List[threading.Thread]:
            return [t for t in threading.enumerate() if t not in threads]
        deadline = time.monotonic() + self.timeout
        while new_threads() and time.monotonic() < deadline:
            time.sleep(0.01)  # the thread ends once on_change returns
        self.assertEqual(new_threads(), [])
        self.assertEqual(open_fds(), fds)

    def test_stop_without_start_releases_fds(self):
        fds = open_fds()
        w = self.make(self.rec)
        w.watch(self.dir)
        w.stop()
        w.stop()
        self.assertEqual(open_fds(), fds)

    def test_missing_directory_or_file_cannot_be_watched(self):
        write(self.path("file.json"))
        w = self.started(dirs=[self.dir])
        self.assertFalse(w.watch(self.path("missing")))
        self.assertFalse(w.watch(self.path("file.json")))
        self.assertEqual(w.watched(), [self.dir])

    def test_watch_is_idempotent_and_absolute(self):
        w = self.started()
        self.assertTrue(w.watch(self.dir + os.sep))
        self.assertEqual(w.watched(), [os.path.abspath(self.dir)])
        w.unwatch(self.dir)
        self.assertEqual(w.watched(), [])


@unittest.skipUnless(LINUX, "inotify is Linux only")
class InotifyWatcherTest(WatcherContract, unittest.TestCase):
    timeout = 3.0

    def make(self, on_change: Callable[[str], None]) -> watch.Watcher:
        w = watch.make_watcher(on_change, env={})
        self.assertIsInstance(w, watch.InotifyWatcher)
        self.assertEqual(w.kind, "inotify")
        return w


class StatWatcherTest(WatcherContract, unittest.TestCase):
    interval = 0.1
    timeout = 3 * interval + 1

    def make(self, on_change: Callable[[str], None]) -> watch.Watcher:
        w = watch.make_watcher(on_change, force_stat=True, interval=self.interval, env={})
        self.assertIsInstance(w, watch.StatWatcher)
        self.assertEqual(w.kind, "stat")
        return w

    def test_poll_reports_only_what_changed(self):
        write(self.path("a.json"))
        write(self.path("b.json"))
        w = self.make(self.rec)
        self.addCleanup(w.stop)
        w.watch(self.dir)
        w.poll()
        self.assertEqual(self.rec.paths, [])
        st = os.stat(self.path("a.json"))
        os.utime(self.path("a.json"), ns=(st.st_atime_ns, st.st_mtime_ns + 10 ** 9))
        w.poll()
        self.assertEqual(self.rec.paths, [self.path("a.json")])


class RefusingInotify:
    """The real inotify calls, except that some directories meet a kernel out of watches."""

    def __init__(self, refused: List[str], init_errno: int = 0) -> None:
        self.real = watch.load_inotify()
        self.refused = set(refused)
        self.init_errno = init_errno

    def init(self) -> int:
        if self.init_errno:
            raise OSError(self.init_errno, os.strerror(self.init_errno))
        return self.real.init()

    def add_watch(self, fd: int, path: str, mask: int) -> int:
        if path in self.refused:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        return self.real.add_watch(fd, path, mask)

    def rm_watch(self, fd: int, wd: int) -> None:
        self.real.rm_watch(fd, wd)


@unittest.skipUnless(LINUX, "inotify is Linux only")
class InotifyFallbackTest(unittest.TestCase):
    timeout = 3.0

    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="amc-watch-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.rec = Recorder()
        self.a, self.b, self.c = (os.path.join(self.dir, n) for n in "abc")
        for d in (self.a, self.b, self.c):
            os.mkdir(d)

    def watcher(self, inotify: RefusingInotify) -> watch.InotifyWatcher:
        w = watch.InotifyWatcher(self.rec, interval=0.1, inotify=inotify)
        self.addCleanup(w.stop)
        return w

    def assertReported(self, path: str) -> None:
        self.assertTrue(self.rec.wait_for(path, self.timeout), "%s not reported" % path)

    def test_exhausted_watches_fall_back_to_polling_with_one_warning(self):
        w = self.watcher(RefusingInotify([self.b, self.c]))
        with self.assertLogs("amc.watch", "WARNING") as logs:
            for d in (self.a, self.b, self.c):
                self.assertTrue(w.watch(d))
        self.assertEqual(len(logs.records), 1)
        self.assertIn("max_user_watches", logs.output[0])
        self.assertEqual(w.kind, "inotify")
        self.assertEqual(w.watched(), [self.a, self.b, self.c])
        w.start()
        for d in (self.a, self.b):
            write(os.path.join(d, "x.json"))
            self.assertReported(os.path.join(d, "x.json"))
        w.unwatch(self.c)
        self.assertEqual(w.watched(), [self.a, self.b])

    def test_polled_directory_watched_after_start_is_reported(self):
        w = self.watcher(RefusingInotify([self.b]))
        w.start()
        with self.assertLogs("amc.watch", "WARNING"):
            self.assertTrue(w.watch(self.b))
        write(os.path.join(self.b, "late.json"))
        self.assertReported(os.path.join(self.b, "late.json"))

    def test_failed_init_polls_every_directory(self):
        with self.assertLogs("amc.watch", "WARNING"):
            w = self.watcher(RefusingInotify([], init_errno=errno.EMFILE))
        self.assertEqual(w.kind, "stat")
        self.assertTrue(w.watch(self.a))
        self.assertFalse(w.watch(os.path.join(self.dir, "missing")))
        w.start()
        write(os.path.join(self.a, "x.json"))
        self.assertReported(os.path.join(self.a, "x.json"))
        threads = [t for t in threading.enumerate() if t.name.startswith("amc-watch")]
        w.stop()
        self.assertFalse(any(t.is_alive() for t in threads))


@unittest.skipUnless(LINUX, "inotify is Linux only")
class InotifyEventsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="amc-watch-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.rec = Recorder()

    def test_parse_events_reads_padded_names(self):
        buf = (struct.pack("iIII", 1, inotify.IN_CREATE, 0, 16) + b"a.json".ljust(16, b"\0")
               + struct.pack("iIII", 2, inotify.IN_DELETE_SELF, 0, 0))
        self.assertEqual(inotify.parse_events(buf), [inotify.Event(1, inotify.IN_CREATE, 0, "a.json"),
                                                   inotify.Event(2, inotify.IN_DELETE_SELF, 0, "")])

    def test_overflow_asks_for_a_rescan_of_every_directory(self):
        a, b = os.path.join(self.dir, "a"), os.path.join(self.dir, "b")
        os.mkdir(a)
        os.mkdir(b)
        w = watch.InotifyWatcher(self.rec)
        self.addCleanup(w.stop)
        w.watch(a)
        w.watch(b)
        w.handle_events(struct.pack("iIII", -1, inotify.IN_Q_OVERFLOW, 0, 0))
        self.assertEqual(sorted(self.rec.paths), [a, b])

    def test_events_in_one_buffer_are_coalesced_per_path(self):
        w = watch.InotifyWatcher(self.rec)
        self.addCleanup(w.stop)
        w.watch(self.dir)
        [wd] = w._wds  # the only watch
        name = b"t.jsonl".ljust(16, b"\0")
        buf = b"".join(struct.pack("iIII", wd, m, 0, 16) + name
                       for m in (inotify.IN_CREATE, inotify.IN_MODIFY, inotify.IN_MODIFY,
                                 inotify.IN_CLOSE_WRITE))
        w.handle_events(buf + struct.pack("iIII", wd + 1000, inotify.IN_CREATE, 0, 16) + name)
        self.assertEqual(self.rec.paths, [os.path.join(self.dir, "t.jsonl")])

    def test_drain_reports_what_is_queued_before_it_returns(self):
        w = watch.InotifyWatcher(self.rec)
        self.addCleanup(w.stop)
        w.watch(self.dir)
        write(os.path.join(self.dir, "unstarted.json"))
        w.drain()  # no thread yet: drain() reads on the caller's thread
        self.assertIn(os.path.join(self.dir, "unstarted.json"), self.rec.paths)
        w.start()
        for i in range(50):  # racing the thread for each buffer must not lose the guarantee
            write(os.path.join(self.dir, "%d.json" % i))
            w.drain()
            self.assertIn(os.path.join(self.dir, "%d.json" % i), self.rec.paths)

    def test_kernel_queue_overflow_is_reported_and_watching_goes_on(self):
        with open("/proc/sys/fs/inotify/max_queued_events") as f:
            limit = int(f.read())
        if limit > 20000:
            self.skipTest("max_queued_events=%d: too many files to overflow it quickly" % limit)
        entered, release = threading.Event(), threading.Event()

        def on_change(path: str) -> None:
            self.rec(path)
            entered.set()
            release.wait(5)  # hold the thread while the kernel queue fills up
        w = watch.InotifyWatcher(on_change)
        self.addCleanup(w.stop)
        self.addCleanup(release.set)
        w.watch(self.dir)
        w.start()
        write(os.path.join(self.dir, "first"))
        self.assertTrue(entered.wait(3))
        fds = [os.open(os.path.join(self.dir, n), os.O_CREAT | os.O_WRONLY | os.O_APPEND)
               for n in ("a", "b")]
        for i in range(limit + 100):  # alternate, as the kernel merges a repeat of the last event
            os.write(fds[i % 2], b"x")
        for fd in fds:
            os.close(fd)
        release.set()
        self.assertTrue(self.rec.wait_for(self.dir, 3), "no overflow rescan reported")
        write(os.path.join(self.dir, "last"))
        self.assertTrue(self.rec.wait_for(os.path.join(self.dir, "last"), 3))


class MakeWatcherTest(unittest.TestCase):
    def test_amc_watcher_stat_forces_polling(self):
        self.assertIsInstance(watch.make_watcher(print, env={"AMC_WATCHER": "stat"}),
                              watch.StatWatcher)
        with mock.patch.dict(os.environ, {"AMC_WATCHER": "stat"}):
            self.assertIsInstance(watch.make_watcher(print), watch.StatWatcher)
        self.assertIsInstance(watch.make_watcher(print, force_stat=True, env={}),
                              watch.StatWatcher)

    @unittest.skipUnless(LINUX, "inotify is Linux only")
    def test_linux_gets_inotify_by_default(self):
        for env in ({}, {"AMC_WATCHER": "inotify"}, {"AMC_WATCHER": "auto"}):
            w = watch.make_watcher(print, env=env)
            w.stop()
            self.assertEqual((type(w), w.kind), (watch.InotifyWatcher, "inotify"))

    def test_no_inotify_means_polling(self):
        with mock.patch.object(watch, "load_inotify", return_value=None):
            self.assertIsInstance(watch.make_watcher(print, env={}), watch.StatWatcher)


if __name__ == "__main__":
    unittest.main()
