"""The files under the data dir: atomic JSON writes, append-only JSONL logs, per-session locks.

The hook writes through this module on the agent's critical path and the server reads through it,
so it imports only what a hook can afford (os, json, fcntl, time). Guarantees:
- a JSON file is never seen half-written: temp file in the same directory, fsync, `os.replace`;
- an event line is one `write()` on an `O_APPEND` file, so concurrent hooks never interleave;
- read-modify-write of a session happens under an exclusive `flock` on the session's event log,
  so the order of lines in `events/<id>.jsonl` is the order in which state changes were applied;
- reads are tolerant: a missing, empty or broken file reads as None / no records.
"""
import fcntl
import json
import os
import re
import time
from typing import Any, Dict, Iterator, List, Optional

LOCK_TIMEOUT_S = 2.0


def ensure_dir(path: str) -> None:
    """Create `path` (mode 0700: session data includes prompts) if it does not exist."""
    os.makedirs(path, mode=0o700, exist_ok=True)


def write_json_atomic(path: str, obj: Any, mode: int = 0o600, indent: Optional[int] = None) -> None:
    """Write `obj` as JSON to `path` so readers see the old or the new file, never a mix."""
    data = _utf8_json(obj, indent=indent, separators=(",", ": ") if indent else (",", ":"))
    write_bytes_atomic(path, data + (b"\n" if indent else b""), mode)


def _utf8_json(obj: Any, **options: Any) -> bytes:
    """Return `obj` as UTF-8 JSON; text UTF-8 cannot hold (a lone surrogate: a non-UTF-8 byte of
    a path in the environment, "\\udcff") is written as its JSON escape instead of failing."""
    try:
        return json.dumps(obj, ensure_ascii=False, **options).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, **options).encode("ascii")


def write_bytes_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write `data` to `path` atomically: temp file in the same dir, fsync, rename."""
    directory = os.path.dirname(path)
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
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
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


# A surrogate's escape (`\ud83d`) in bytes; that or a surrogate itself in a str. Only lines that
# have one are walked for lone surrogates. (re.search is faster than `in` on these lines.)
_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("\\\\u[dD][89a-fA-F]|[\ud800-\udfff]")


def loads(data: Any) -> Any:
    """json.loads for what AMC does not write itself (transcripts, payloads, requests).

    Raises only ValueError: also for JSON nested deeper than the json module can decode (it
    raises RecursionError). A lone UTF-16 surrogate (`"\\ud83d"`: a JavaScript string cut inside
    a pair, which JSON.stringify escapes) becomes U+FFFD, so what was read can be written as
    UTF-8 again (files, HTTP answers, the stream) instead of failing there.
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
        value = json.loads(data)
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


def read_json(path: str) -> Optional[Any]:
    """Return the JSON in `path`, or None when it is missing, unreadable or not JSON."""
    try:
        with open(path, "rb") as f:
            return loads(f.read())
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
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
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


def read_jsonl(path: str, limit: int = 0) -> List[Dict[str, Any]]:
    """Return the JSON objects in a JSONL file, skipping torn or non-object lines.

    With `limit`, return only the last `limit` records (reading from the end of the file).
    """
    try:
        with open(path, "rb") as f:
            if limit:
                data = _tail(f, limit)
            else:
                data = f.read()
    except OSError:
        return []
    out = []
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            obj = loads(raw)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out[-limit:] if limit else out


def read_jsonl_since(path: str, offset: int) -> List[Dict[str, Any]]:
    """Return the JSON objects appended to a JSONL file after byte `offset` (torn lines skipped)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, offset))
            data = f.read()
    except OSError:
        return []
    out = []
    for raw in data.split(b"\n"):
        try:
            obj = loads(raw) if raw.strip() else None
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def _tail(f, lines: int, block: int = 65536) -> bytes:
    f.seek(0, os.SEEK_END)
    end = f.tell()
    pos, data = end, b""
    while pos > 0 and data.count(b"\n") <= lines:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
    if pos > 0:
        data = data.split(b"\n", 1)[-1]  # drop the partial first line
    return data


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
