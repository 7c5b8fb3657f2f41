"""Linux inotify through ctypes: the constants, the event parser and the three libc calls.

The stdlib has no inotify binding and AMC takes no dependencies; watch.py builds the watcher on
this. `load_inotify()` returns None off Linux or where libc lacks the calls, and watch.py then
polls with stat instead.
"""
import ctypes
import ctypes.util
import errno
import functools
import os
import struct
import sys
from typing import List, NamedTuple, Optional

# <sys/inotify.h>
IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_UNMOUNT = 0x00002000
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_EXCL_UNLINK = 0x04000000

# IN_MODIFY as well as IN_CLOSE_WRITE: transcripts are appended to by a writer that keeps them open.
# IN_EXCL_UNLINK: no events from files already unlinked (a writer's deleted temp file).
WATCH_MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
              | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
_SELF_GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED
# The path itself cannot be watched (nor polled), as opposed to "inotify is full".
_PATH_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.ELOOP,
                          errno.ENAMETOOLONG})
_EVENT = struct.Struct("iIII")  # struct inotify_event: int wd; uint32_t mask, cookie, len


class Event(NamedTuple):
    """One inotify event; `name` is empty for events on the watched directory itself."""
    wd: int
    mask: int
    cookie: int
    name: str


def parse_events(buf: bytes) -> List[Event]:
    """Split a buffer read from an inotify fd into events (names decoded, NUL padding dropped)."""
    events = []
    offset = 0
    while offset + _EVENT.size <= len(buf):
        wd, mask, cookie, length = _EVENT.unpack_from(buf, offset)
        offset += _EVENT.size
        name = buf[offset:offset + length].split(b"\0", 1)[0]
        offset += length
        events.append(Event(wd, mask, cookie, os.fsdecode(name)))
    return events


class Inotify:
    """The three libc inotify calls, raising OSError as the os module does."""

    def __init__(self, libc: ctypes.CDLL) -> None:
        self._init1 = libc.inotify_init1
        self._init1.argtypes, self._init1.restype = [ctypes.c_int], ctypes.c_int
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._add.restype = ctypes.c_int
        self._rm = libc.inotify_rm_watch
        self._rm.argtypes, self._rm.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int

    def init(self) -> int:
        """Return a new non-blocking, close-on-exec inotify fd."""
        return _checked(self._init1(os.O_NONBLOCK | os.O_CLOEXEC), None)

    def add_watch(self, fd: int, path: str, mask: int) -> int:
        """Watch `path` on inotify `fd` and return the watch descriptor."""
        return _checked(self._add(fd, os.fsencode(path), mask), path)

    def rm_watch(self, fd: int, wd: int) -> None:
        """Remove watch `wd` from inotify `fd`."""
        _checked(self._rm(fd, wd), None)


def _checked(result: int, path: Optional[str]) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), path)
    return result


@functools.lru_cache(maxsize=None)
def load_inotify() -> Optional[Inotify]:
    """Return the libc inotify binding, or None where there is none (not Linux, no such symbol)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return Inotify(ctypes.CDLL(None, use_errno=True))  # libc is already in the process
    except (OSError, AttributeError):
        pass
    name = ctypes.util.find_library("c")
    try:
        return Inotify(ctypes.CDLL(name, use_errno=True)) if name else None
    except (OSError, AttributeError):
        return None
