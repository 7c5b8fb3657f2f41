"""Keep the server's memory small on glibc: few malloc arenas, freed memory given back.

With one thread per stream client, glibc gives each busy thread its own malloc arena and keeps
what they freed: the bench saw the server grow by the size of a 5,000-session state per client
that ever connected, never shrinking. `limit_arenas` caps the arenas (as MALLOC_ARENA_MAX=2
would) and `trim` returns freed pages to the system; both are best-effort no-ops elsewhere.
"""
import ctypes
import logging
import sys

log = logging.getLogger("amc.memory")

M_ARENA_MAX = -8  # <malloc.h>


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
