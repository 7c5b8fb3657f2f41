"""The long-lived process's memory managers: few malloc arenas, freed memory given back, the
cyclic garbage collector and the GIL kept off the live path.

With one thread per stream client, glibc gives each busy thread its own malloc arena and keeps
what they freed: the bench saw the server grow by the size of a 5,000-session state per client
that ever connected, never shrinking. `limit_arenas` caps the arenas (as MALLOC_ARENA_MAX=2
would) and `trim` returns freed pages to the system; both are best-effort no-ops elsewhere.

`tune_for_server` (the entry points of `amc serve` and `amc stream` call it, never a library user
or a test process) also keeps the background work (the first build of the search index, usage and
history over thousands of transcripts) from stalling a hook's event (tests/bench/bench_start.py):
- every object that survived a full collection is frozen (`gc.freeze`): the next full collection
  looks only at what is newer. Without it, each full collection walked the whole heap of a 5,000
  session server, 200-250 ms with every thread stopped, 13 times during the build. Frozen objects
  are still freed when nothing refers to them; only a reference cycle among them is kept;
- the GIL is handed over every SWITCH_INTERVAL_S instead of CPython's 5 ms, so a thread woken by
  a hook waits less behind a thread that parses transcripts. 1 ms helped the build more but made
  a quiet server's hook -> event p50 2-7x slower (bench_usage.py); 2 ms kept it (~5 ms).
"""
import ctypes
import gc
import logging
import sys
from typing import Any, Dict

log = logging.getLogger("amc.memory")

M_ARENA_MAX = -8  # <malloc.h>
SWITCH_INTERVAL_S = 0.002


def tune_for_server() -> None:
    """Set this process up as a long-lived server (see above); call once, before its threads."""
    limit_arenas()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def _freeze_survivors(phase: str, info: Dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it (musl does not)
        return libc
    except (OSError, AttributeError):
        return None


def limit_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas at `count` (call before starting threads)."""
    libc = _glibc()
    if libc is None:
        return False
    try:
        return bool(libc.mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError):
        return False


def trim() -> bool:
    """Give memory freed by the process back to the system."""
    libc = _glibc()
    if libc is None:
        return False
    try:
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False
