"""Directory watchers: tell the live core within milliseconds that a path in a watched dir changed.

Place in the flow: files (AMC's `sessions/`, Claude's `~/.claude/sessions/` and project
transcripts, Codex's dated rollout dirs) -> watch -> core, which re-stats and re-reads what
changed. The core keeps every session in memory, so it must hear about changes instead of
rescanning on every request.

Two watchers share one interface (`Watcher`):
- `InotifyWatcher`: Linux inotify through ctypes (the stdlib has no binding and AMC takes no
  dependencies). One daemon thread sleeps in poll() on the inotify fd and a self-pipe, so an idle
  server costs no CPU and stop() is immediate. A directory the kernel will not watch (ENOSPC:
  fs.inotify.max_user_watches is used up; ENOMEM) is polled by an internal StatWatcher instead, a
  second thread started on demand; if inotify_init1 itself fails (EMFILE) every directory is, and
  `kind` says "stat". Either way the caller never loses a directory.
- `StatWatcher`: the portable fallback (macOS, BSD, exhausted watches): every `interval` seconds,
  scandir + lstat each watched directory and report entries added, removed or changed in
  (inode, size, mtime). It never reads files.

`make_watcher` picks inotify where it works. `AMC_WATCHER=stat` in the environment (or force_stat)
forces polling, for file systems where inotify misses changes (NFS, some FUSE and container mounts).

What the consumer must know:
- `on_change(path)` runs on the watcher's thread (or the caller of drain()): keep it short. Its
  exceptions are logged to "amc.watch" and swallowed. It may call watch(), unwatch() and stop();
  it must not wait for a thread that may be calling drain().
- `drain()` reports, before it returns, every inotify event queued before it was called (so a
  request can see a write that just happened); the StatWatcher's does nothing.
- A report says only *that* something happened to `path`, not what: reports are coalesced (one
  per path per batch of kernel events, or per scan) and may repeat. Re-stat the path.
- `on_change(d)` for a watched directory `d` means "rescan d": the kernel dropped events
  (IN_Q_OVERFLOW), or `d` was deleted or moved away, and then it is no longer watched: if a
  directory is at that path again, watch() it again (watch() is idempotent, so always may).
- Not recursive: a new subdirectory is reported like a file; call watch() on it.
- Directories are kept as `os.path.abspath(directory)`; reports are `os.path.join(that, name)`.
- A watch() taken before start() counts from watch(): events are queued (inotify) or compared with
  the snapshot taken by watch() (stat). A stopped watcher cannot be started again.
"""
import errno
import logging
import os
import select
import threading
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from .inotify import IN_MOVE_SELF, IN_Q_OVERFLOW, WATCH_MASK, _PATH_ERRNOS, _SELF_GONE, Inotify, load_inotify, parse_events

log = logging.getLogger("amc.watch")

OnChange = Callable[[str], None]
JOIN_TIMEOUT_S = 5.0
READ_SIZE = 64 * 1024  # many events per read(); any size above sizeof(event) + NAME_MAX + 1 works




class Watcher:
    """What every watcher offers; the module docstring states the contract."""
    kind = "none"

    def __init__(self, on_change: OnChange, interval: float = 1.0) -> None:
        self.interval = interval
        self._on_change = on_change
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._started = False
        self._thread: Optional[threading.Thread] = None

    def watch(self, directory: str) -> bool:
        """Watch the entries of `directory`; return False if it cannot be watched."""
        raise NotImplementedError

    def unwatch(self, directory: str) -> None:
        """Stop watching `directory` (nothing happens if it was not watched)."""
        raise NotImplementedError

    def watched(self) -> List[str]:
        """Return the watched directories, sorted."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the watcher's daemon thread (once; a stopped watcher stays stopped)."""
        with self._lock:
            if self._started or self._stopping.is_set():
                return
            self._started = True
            self._thread = threading.Thread(target=self._run, name="amc-watch-" + self.kind,
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and release its resources; safe to call twice, or from on_change."""
        with self._lock:
            self._stopping.set()
            thread = self._thread
        self._wake()
        if thread is None:
            self._release()  # no thread to release them on its way out
        elif thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)

    def drain(self) -> None:
        """Report now what is pending and return when done (nothing to do for a poller)."""

    def _report(self, path: str) -> None:
        try:
            self._on_change(path)
        except Exception:
            log.exception("watch: on_change(%r) failed", path)

    def _run(self) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        """Make the thread notice that it is stopping."""

    def _release(self) -> None:
        """Release what the watcher holds (called once the thread is done, or without one)."""


Snapshot = Tuple[int, Dict[str, Tuple[int, int, int]]]  # dir inode, name -> (ino, size, mtime)


def _snapshot(directory: str) -> Snapshot:
    """Return the directory's inode and (inode, size, mtime_ns) of each entry, by lstat."""
    entries = {}
    dir_ino = os.stat(directory).st_ino
    with os.scandir(directory) as it:
        for entry in it:
            try:
                st = entry.stat(follow_symlinks=False)  # as inotify: the link, not its target
            except OSError:
                continue  # gone between readdir and stat: it reads as removed
            entries[entry.name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return dir_ino, entries


class StatWatcher(Watcher):
    """Poll watched directories every `interval` seconds with scandir + lstat."""
    kind = "stat"

    def __init__(self, on_change: OnChange, interval: float = 1.0) -> None:
        super().__init__(on_change, interval)
        self._dirs: Dict[str, Snapshot] = {}

    def watch(self, directory: str) -> bool:
        """Watch `directory`, taking its baseline snapshot now; False if it cannot be listed."""
        path = os.path.abspath(directory)
        with self._lock:
            if self._stopping.is_set():
                return False
            if path in self._dirs:
                return True
        try:
            snapshot = _snapshot(path)
        except OSError:
            return False
        with self._lock:
            self._dirs.setdefault(path, snapshot)
        return True

    def unwatch(self, directory: str) -> None:
        """Stop polling `directory`."""
        with self._lock:
            self._dirs.pop(os.path.abspath(directory), None)

    def watched(self) -> List[str]:
        """Return the polled directories, sorted."""
        with self._lock:
            return sorted(self._dirs)

    def poll(self) -> None:
        """Scan every watched directory once and report what changed since the last scan."""
        with self._lock:
            dirs = list(self._dirs.items())
        for path, old in dirs:
            if self._stopping.is_set():
                return
            new: Optional[Snapshot]
            try:
                new = _snapshot(path)
            except (FileNotFoundError, NotADirectoryError):
                new = None
            except OSError as e:
                log.debug("watch: cannot scan %s: %s", path, e)
                continue  # unreadable for now; inotify would keep its watch too
            if new is not None and new[0] != old[0]:
                new = None  # another directory took its place: this one was moved away
            with self._lock:
                if self._dirs.get(path) is not old:
                    continue  # unwatched (or watched afresh) while we scanned
                if new is None:
                    del self._dirs[path]
                else:
                    self._dirs[path] = new
            if new is None:
                self._report(path)
                continue
            before, after = old[1], new[1]
            for name in [n for n in after if before.get(n) != after[n]] + \
                    [n for n in before if n not in after]:
                self._report(os.path.join(path, name))

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.poll()
            except Exception:
                log.exception("watch: scan failed")


class InotifyWatcher(Watcher):
    """Watch directories with Linux inotify; poll the ones the kernel will not take."""
    kind = "inotify"

    def __init__(self, on_change: OnChange, interval: float = 1.0,
                 inotify: Optional[Inotify] = None) -> None:
        super().__init__(on_change, interval)
        self._inotify = inotify or load_inotify()
        self._paths: Dict[str, int] = {}
        self._wds: Dict[int, List[str]] = {}  # two paths to one directory share a wd
        self._fallback: Optional[StatWatcher] = None
        self._warned = False
        self._fd = -1
        self._pipe: Optional[Tuple[int, int]] = None
        self._reading = threading.RLock()  # held from read() to the last report of that buffer
        try:
            if self._inotify is None:
                raise OSError(errno.ENOSYS, "no inotify in libc")
            self._fd = self._inotify.init()
        except OSError as e:
            self.kind = "stat"
            self._warned = True
            log.warning("watch: inotify unavailable (%s); polling every %.1fs instead", e, interval)
            return
        self._pipe = os.pipe()
        for fd in self._pipe:
            os.set_blocking(fd, False)

    def watch(self, directory: str) -> bool:
        """Watch `directory` with inotify, or by polling if the kernel has no watch left."""
        path = os.path.abspath(directory)
        with self._lock:
            if self._stopping.is_set():
                return False
            if path in self._paths or (self._fallback and path in self._fallback.watched()):
                return True
            reason: Optional[OSError] = None
            if self._fd >= 0:
                try:
                    wd = self._inotify.add_watch(self._fd, path, WATCH_MASK)
                except OSError as e:
                    if e.errno in _PATH_ERRNOS:
                        return False
                    reason = e
                else:
                    self._paths[path] = wd
                    self._wds.setdefault(wd, []).append(path)
                    return True
            fallback = self._polling(path, reason)
        return fallback.watch(path)

    def unwatch(self, directory: str) -> None:
        """Stop watching `directory`."""
        path = os.path.abspath(directory)
        with self._lock:
            wd = self._paths.pop(path, None)
            if wd is not None:
                paths = self._wds.get(wd, [])
                if path in paths:
                    paths.remove(path)
                if not paths:
                    self._wds.pop(wd, None)
                    self._rm_watch(wd)
            fallback = self._fallback
        if fallback is not None:
            fallback.unwatch(path)

    def watched(self) -> List[str]:
        """Return the watched directories (inotify and polled), sorted."""
        with self._lock:
            paths = set(self._paths)
            fallback = self._fallback
        return sorted(paths.union(fallback.watched() if fallback else ()))

    def start(self) -> None:
        """Start the inotify thread (and the polling thread, if any directory is polled)."""
        if self._fd >= 0:
            super().start()
        with self._lock:
            self._started = not self._stopping.is_set()
            fallback = self._fallback if self._started else None
        if fallback is not None:
            fallback.start()

    def stop(self) -> None:
        """Stop both threads and close the inotify fd and the pipe; safe to call twice."""
        super().stop()
        with self._lock:
            fallback = self._fallback
        if fallback is not None:
            fallback.stop()

    def handle_events(self, buf: bytes) -> None:
        """Report the paths that a buffer of raw inotify events touches, each once."""
        reports: Dict[str, None] = {}
        with self._lock:
            for event in parse_events(buf):
                if event.mask & IN_Q_OVERFLOW:
                    reports.update(dict.fromkeys(self._paths))  # events were lost: rescan all
                    continue
                dirs = self._wds.get(event.wd)
                if not dirs:
                    continue  # a watch we removed; its last events may still be queued
                if event.name:
                    reports.update(dict.fromkeys(os.path.join(d, event.name) for d in dirs))
                if event.mask & _SELF_GONE:
                    reports.update(dict.fromkeys(dirs))
                    for d in dirs:
                        self._paths.pop(d, None)
                    del self._wds[event.wd]
                    if event.mask & IN_MOVE_SELF:
                        self._rm_watch(event.wd)  # the kernel would follow it to its new name
        for path in reports:
            self._report(path)

    def drain(self) -> None:
        """Read and report every event queued so far, on the calling thread."""
        try:
            with self._reading:
                while self._read_and_report():
                    pass
        except OSError as e:
            log.error("watch: cannot read inotify events: %s", e)

    def _read_and_report(self) -> bool:
        """Read one buffer of events, if any, and report it; False when there was none."""
        with self._reading:
            if self._fd < 0:
                return False
            try:
                buf = os.read(self._fd, READ_SIZE)
            except BlockingIOError:
                return False  # drain() took them
            try:
                self.handle_events(buf)
            except Exception:
                log.exception("watch: cannot handle inotify events")
            return True

    def _polling(self, path: str, reason: Optional[OSError]) -> StatWatcher:
        """Return the internal StatWatcher (creating it), saying once why a directory is polled."""
        if reason is not None and not self._warned:
            self._warned = True
            log.warning("watch: inotify cannot watch %s (%s; see fs.inotify.max_user_watches); "
                        "polling it and any others every %.1fs", path, reason, self.interval)
        if self._fallback is None:
            self._fallback = StatWatcher(self._on_change, self.interval)
            if self._started:
                self._fallback.start()
        return self._fallback

    def _rm_watch(self, wd: int) -> None:
        if self._fd < 0:
            return
        try:
            self._inotify.rm_watch(self._fd, wd)
        except OSError:
            pass  # already gone with its directory

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        poller.register(self._pipe[0], select.POLLIN)
        try:
            while not self._stopping.is_set():
                for fd, flags in poller.poll():
                    if fd != self._fd or self._stopping.is_set():
                        continue
                    if flags & (select.POLLERR | select.POLLNVAL):
                        log.error("watch: inotify fd failed (poll flags %#x); stopping", flags)
                        return
                    self._read_and_report()
        except OSError:
            log.exception("watch: inotify thread failed")
        finally:
            self._release()

    def _wake(self) -> None:
        with self._lock:
            if self._pipe is not None:
                try:
                    os.write(self._pipe[1], b"x")
                except OSError:
                    pass  # full: the thread is already being woken

    def _release(self) -> None:
        with self._reading, self._lock:  # never close the fd under a drain()
            fds = [self._fd] if self._fd >= 0 else []
            fds += list(self._pipe or ())
            self._fd, self._pipe = -1, None
            self._paths.clear()
            self._wds.clear()
        for fd in fds:
            os.close(fd)


def make_watcher(on_change: OnChange, force_stat: bool = False, interval: float = 1.0,
                 env: Optional[Mapping[str, str]] = None) -> Watcher:
    """Return an inotify watcher where there is inotify, else (or if AMC_WATCHER=stat) a poller."""
    choice = (os.environ if env is None else env).get("AMC_WATCHER", "").strip().lower()
    if choice not in ("", "auto", "inotify", "stat"):
        log.warning("watch: ignoring AMC_WATCHER=%r (expected stat, inotify or auto)", choice)
    if force_stat or choice == "stat":
        return StatWatcher(on_change, interval)
    if load_inotify() is None:
        log.info("watch: no inotify on this system; polling every %.1fs", interval)
        return StatWatcher(on_change, interval)
    return InotifyWatcher(on_change, interval)
