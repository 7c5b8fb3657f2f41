"""The files under the data dir: atomic JSON writes, append-only JSONL logs, per-session locks.

The hook writes through this module on the agent's critical path and the server reads through it,
so it imports only what a hook can afford (os, json, fcntl, time). Guarantees:
- a JSON file is never seen half-written: temp file in the same directory, fsync, `os.replace`;
- an event line is one `write()` on an `O_APPEND` file, so concurrent hooks never interleave;
- read-modify-write of a session happens under an exclusive `flock` on the session's event log,
  so the order of lines in `events/<id>.jsonl` is the order in which state changes were applied;
- reads are tolerant: a missing, empty or broken file reads as None / no records;
- JSON is read with `loads` and written with `dumps` everywhere in AMC (tests/test_json_finite.py
  checks that no other json call exists): NaN, Infinity and 1e999 read as null, and what is
  written is always standard JSON a browser can parse.
"""
import errno  # built in: costs the hook nothing
import fcntl
import json
import os
import re
import stat  # already loaded by os: costs the hook nothing
import time
from typing import Any, BinaryIO, Dict, Iterator, List, Optional

LOCK_TIMEOUT_S = 2.0


def ensure_dir(path: str) -> None:
    """Create `path` (mode 0700: session data includes prompts) if it does not exist."""
    os.makedirs(path, mode=0o700, exist_ok=True)


# -- the one way to open a file AMC reads or appends to ------------------------------------------
# A FIFO opened blindly blocks until a writer comes (forever once it is unlinked), a device or a
# 1 GB "JSON" file is read whole, a symlink in sessions/ leads anywhere. So every data-dir file,
# event log and transcript is opened here: O_NONBLOCK (a FIFO opens at once, or fails with ENXIO
# for a writer), then fstat on the descriptor itself (no race with a rename): regular files only,
# at most `max_bytes`, and with follow=False no symlink as the last component (O_NOFOLLOW).

MAX_JSON_BYTES = 32 * 1024 * 1024   # a JSON file read whole (a session file: a few KB; its
# biggest part, AskUserQuestion's questions, comes from one hook payload, capped at 16 MB)
MAX_LINE_BYTES = 64 * 1024 * 1024   # a JSONL line longer than this is skipped, never held whole
_refused: Dict[str, str] = {}       # path -> the reason last logged (bounded: logged once each)


class Refused(OSError):
    """A file AMC will not read or append to: not a regular file, or over its size cap."""


def open_regular(path: str, flags: int = os.O_RDONLY, max_bytes: int = 0, follow: bool = True,
                 mode: int = 0o600) -> int:
    """Open `path` without ever blocking and return the descriptor; raise OSError (Refused,
    logged once per path and reason) unless it is a regular file of at most `max_bytes`
    (0: any size); with follow=False a symlink is refused too (ELOOP)."""
    nofollow = 0 if follow else os.O_NOFOLLOW
    try:
        fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC | nofollow, mode)
    except OSError as e:
        if not follow and e.errno == errno.ELOOP:  # the last component is a symlink
            _refuse(path, "a symlink (not followed)")
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            _refuse(path, "not a regular file")
        if max_bytes and st.st_size > max_bytes:
            _refuse(path, "%d bytes, over the cap of %d" % (st.st_size, max_bytes))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse(path: str, reason: str) -> None:
    if _refused.get(path) != reason:
        if len(_refused) > 1000:
            _refused.clear()
        _refused[path] = reason
        import logging  # only on this path: the hook imports little
        logging.getLogger("amc.store").warning("%s: %s: not read", path, reason)
    raise Refused("%s: %s" % (path, reason))


def open_read(path: str, max_bytes: int = 0, follow: bool = True) -> BinaryIO:
    """Return `path` opened for binary reading through open_regular (a file object)."""
    return os.fdopen(open_regular(path, os.O_RDONLY, max_bytes, follow), "rb")


def read_bytes(path: str, max_bytes: int = MAX_JSON_BYTES, follow: bool = True) -> bytes:
    """Return the bytes of a regular file of at most `max_bytes` (open_regular's rules)."""
    with open_read(path, max_bytes, follow) as f:
        return f.read(max_bytes)  # never more, even if it grew since fstat


def write_json_atomic(path: str, obj: Any, mode: int = 0o600, indent: Optional[int] = None) -> None:
    """Write `obj` as JSON to `path` so readers see the old or the new file, never a mix."""
    data = _utf8_json(obj, indent=indent, separators=(",", ": ") if indent else (",", ":"))
    write_bytes_atomic(path, data + (b"\n" if indent else b""), mode)


def dumps(obj: Any, **options: Any) -> str:
    """json.dumps for everything AMC writes (files, lines, answers, events): standard JSON only.

    NaN and Infinity have no JSON form (RFC 8259); Python writes them as `NaN`/`Infinity`, which
    no browser's JSON.parse accepts: one such number in /api/state blanked the whole page. loads()
    never yields one, so a value that still has one is a bug here: it fails at this call with a
    ValueError naming the rule instead of sending invalid JSON (the server then answers 500).
    """
    try:
        return json.dumps(obj, allow_nan=False, **options)
    except ValueError as e:
        if "Out of range float" not in str(e):
            raise
        raise ValueError("NaN or Infinity cannot be written as JSON (%s); AMC writes only "
                         "standard JSON" % e) from None


def _utf8_json(obj: Any, **options: Any) -> bytes:
    """Return `obj` as UTF-8 JSON; text UTF-8 cannot hold (a lone surrogate: a non-UTF-8 byte of
    a path in the environment, "\\udcff") is written as its JSON escape instead of failing."""
    try:
        return dumps(obj, ensure_ascii=False, **options).encode("utf-8")
    except UnicodeEncodeError:
        return dumps(obj, **options).encode("ascii")


def write_bytes_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write `data` to `path` atomically: temp file in the same dir, fsync, rename."""
    directory = os.path.dirname(path)
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    # open_regular: something else at the temp name (a FIFO, a symlink) fails instead of blocking
    fd = open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, follow=False, mode=mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class Locked:
    """An exclusive flock on a lock file for a read-modify-write of a small JSON file (the
    remotes, the notify commands); closing the descriptor releases it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> "Locked":
        ensure_dir(os.path.dirname(self.path))
        self.fd = open_regular(self.path, os.O_RDWR | os.O_CREAT, follow=False)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


# A surrogate's escape (`\ud83d`) in bytes; that or a surrogate itself in a str. Only lines that
# have one are walked for lone surrogates. (re.search is faster than `in` on these lines.)
_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("\\\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_INF = float("inf")


def _finite(text: str) -> Optional[float]:
    value = float(text)
    return value if -_INF < value < _INF else None  # 1e999 is valid JSON, but reads as inf


def _no_constant(name: str) -> None:
    return None  # NaN, Infinity, -Infinity: not JSON, yet Python's json reads them


# Called only for numbers with a fraction or exponent, and for the three constants: the C
# scanner stays in use, and lines without such numbers cost what json.loads costs.
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)


def loads(data: Any) -> Any:
    """json.loads for what AMC does not write itself (transcripts, payloads, requests).

    Raises only ValueError: also for JSON nested deeper than the json module can decode (it
    raises RecursionError). A lone UTF-16 surrogate (`"\\ud83d"`: a JavaScript string cut inside
    a pair, which JSON.stringify escapes) becomes U+FFFD, so what was read can be written as
    UTF-8 again (files, HTTP answers, the stream) instead of failing there. A number JSON cannot
    carry (`NaN`, `Infinity`, `-Infinity`, or one that overflows a float: `1e999`) becomes None,
    so one hostile number can never make what AMC writes from it invalid JSON (see dumps).
    """
    if isinstance(data, (bytes, bytearray)):
        # Decoded as json.loads would (its encoding detection, BOM included), but strictly
        # first: json.loads lets a surrogate's own UTF-8 form (ED A0..BF) through.
        encoding = json.detect_encoding(data)
        odd = _ESCAPE.search(data) is not None
        try:
            data = data.decode(encoding)
        except UnicodeDecodeError:
            data, odd = bytes(data).decode(encoding, "surrogatepass"), True
    else:
        odd = _SURROGATE.search(data) is not None
    try:
        value = _DECODER.decode(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if odd:
        try:
            value = _no_surrogates(value)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
    return value


def _no_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_surrogates(v) for v in value]
    return value


def read_json(path: str, max_bytes: int = MAX_JSON_BYTES, follow: bool = True) -> Optional[Any]:
    """Return the JSON in `path`, or None when it is missing, unreadable, not JSON, not a
    regular file, over `max_bytes`, or (follow=False: files in sessions/) a symlink."""
    try:
        return loads(read_bytes(path, max_bytes, follow))
    except (OSError, ValueError):
        return None


def append_line(fd: int, obj: Any) -> None:
    """Append `obj` as one JSON line with a single write() to an O_APPEND descriptor."""
    os.write(fd, _utf8_json(obj, separators=(",", ":")) + b"\n")


class SessionLog:
    """A session's event log, opened for appending and held under an exclusive lock.

    Use as a context manager; the lock also guards the session file's read-modify-write.
    Waits at most LOCK_TIMEOUT_S for a stuck holder, then proceeds unlocked rather than block
    the agent (appends stay atomic; only the ordering guarantee is lost in that rare case).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1
        self.locked = False

    def __enter__(self) -> "SessionLog":
        # Never blocks (a FIFO here fails at once) and never follows a symlink out of events/.
        self.fd = open_regular(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, follow=False)
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.locked = True
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
        return self

    def append(self, obj: Any) -> None:
        append_line(self.fd, obj)

    def __exit__(self, *exc: Any) -> None:
        os.close(self.fd)  # closing releases the flock


def list_json(directory: str) -> Iterator[str]:
    """Yield the paths of `*.json` files in `directory` (none if it is missing)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.endswith(".json") and not name.startswith("."):
            yield os.path.join(directory, name)


def remove(path: str) -> bool:
    """Remove `path`; return whether it existed."""
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False
