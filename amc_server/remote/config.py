"""`<data dir>/remotes.json`: the machines AMC reaches over ssh, and the adds that failed.

Place in the flow (several machines): `amc remote add|remove` and `POST /api/machines` write it
(under an exclusive lock, atomically); the hub (remote/hub.py) reads it and follows each machine.
Tolerant read: a missing or broken file, or a bad entry, reads as no remote. An add that failed
is kept under `failed` (one per name, the latest) so the page can show why; a later success or a
`remove` forgets it.
"""
import os
import time
from typing import Dict, List, NamedTuple, Tuple

from .. import store
from ..paths import Paths
from .ssh import RemoteError, check_name, check_target

VERSION = 1  # remotes.json's format


class Remote(NamedTuple):
    name: str
    target: str
    added_at: str = ""
    python: str = ""




class Failed(NamedTuple):
    name: str
    target: str
    error: str
    failed_at: str = ""


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _entries(items: object, failed: bool) -> list:
    out: list = []
    seen = set()
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        name, target = item.get("name"), item.get("target")
        if not isinstance(name, str) or not isinstance(target, str) or name in seen:
            continue
        try:
            check_name(name)
            check_target(target)
        except RemoteError:
            continue
        seen.add(name)
        if failed:
            out.append(Failed(name, target, str(item.get("error") or "")[:1000],
                              str(item.get("failed_at") or "")))
        else:
            out.append(Remote(name, target, str(item.get("added_at") or ""),
                              str(item.get("python") or "")))
    return out


def read(paths: Paths) -> Tuple[List[Remote], List[Failed]]:
    """Return (the stored remotes, the failed adds); broken input reads as none."""
    doc = store.read_json(paths.remotes_file)
    doc = doc if isinstance(doc, dict) else {}
    remotes = _entries(doc.get("remotes"), False)
    names = {r.name for r in remotes}
    return remotes, [f for f in _entries(doc.get("failed"), True) if f.name not in names]


def load(paths: Paths) -> List[Remote]:
    """Return the stored remotes; a missing or broken file, or bad entries, read as none."""
    return read(paths)[0]


def _save(paths: Paths, remotes: List[Remote], failed: List[Failed]) -> None:
    store.write_json_atomic(paths.remotes_file, {
        "version": VERSION, "remotes": [r._asdict() for r in remotes],
        "failed": [f._asdict() for f in failed]}, indent=2)


def _locked(paths: Paths) -> store.Locked:
    return store.Locked(os.path.join(paths.data, "remotes.lock"))



def put(paths: Paths, remote: Remote) -> None:
    """Store `remote` (replacing one of the same name) and forget a failed add of that name."""
    with _locked(paths):
        remotes, failed = read(paths)
        _save(paths, [r for r in remotes if r.name != remote.name] + [remote],
              [f for f in failed if f.name != remote.name])


def put_failed(paths: Paths, name: str, target: str, error: str) -> None:
    """Remember that adding `name` failed with `error` (a stored remote of that name stays)."""
    with _locked(paths):
        remotes, failed = read(paths)
        _save(paths, remotes, [f for f in failed if f.name != name] +
              [Failed(name, target, error[:1000], now_iso())])


def drop(paths: Paths, name: str) -> Dict[str, object]:
    """Forget the remote (and a failed add) called `name`; raise RemoteError when neither is."""
    with _locked(paths):
        remotes, failed = read(paths)
        gone = [r for r in remotes if r.name == name] + [f for f in failed if f.name == name]
        if not gone:
            raise RemoteError("no remote named %r (see `amc remote list`)" % name)
        _save(paths, [r for r in remotes if r.name != name],
              [f for f in failed if f.name != name])
    return gone[0]._asdict()
