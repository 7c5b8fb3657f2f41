"""AMC as one file: a stdlib zipapp of the running code, for machines reached over `ssh`.

Place in the flow (several machines): the hub ships this file once to a remote's cache dir and
runs `python3 <file> stream --since <id>` there, so the remote needs nothing but `python3` (3.9+).
The file is built from the code that is running (every `.py` of the `amc_server` package, no
tests, no dashboard: a remote serves no page), and named by version and content hash,
`amc-<version>-<hash>.pyz`: the same code always gives the same name and the same bytes (fixed
timestamps and order), so the hub can tell whether a remote's copy matches without sending it.
"""
import hashlib
import io
import os
import zipfile
from typing import List, Tuple

from .. import paths, store

VERSION = "0.1.0"  # pyproject.toml's version
PACKAGE = paths.layout().package
MAIN = b'''"""AMC (zipapp): `python3 amc-<version>-<hash>.pyz COMMAND ...` is `amc COMMAND ...`;
`python3 -S amc.pyz hook ...` is bin/amc-hook (imports only what the hook needs)."""
import sys

if sys.argv[1:2] == ["hook"]:
    del sys.argv[1]
    from amc_server.hook.record import main
else:
    from amc_server.cli import main
sys.exit(main())
'''
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def sources(package: str = PACKAGE) -> List[Tuple[str, bytes]]:
    """Return (archive name, bytes) of every module of the package, sorted."""
    out = []
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, os.path.dirname(package)).replace(os.sep, "/")
                with open(path, "rb") as f:
                    out.append((rel, f.read()))
    return sorted(out)


def content_hash(files: List[Tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:16]


def archive(files: List[Tuple[str, bytes]]) -> bytes:
    """Return the zipapp's bytes: a shebang, then a zip with __main__.py and the package."""
    buf = io.BytesIO()
    buf.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [("__main__.py", MAIN)] + files:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def name(files: List[Tuple[str, bytes]]) -> str:
    return "amc-%s-%s.pyz" % (VERSION, content_hash(files))


def build(out_dir: str, package: str = PACKAGE) -> str:
    """Write the zipapp of the running code into `out_dir` (once per content); return its path."""
    files = sources(package)
    path = os.path.join(out_dir, name(files))
    if not os.path.exists(path):
        store.ensure_dir(out_dir)
        store.write_bytes_atomic(path, archive(files), 0o755)
    return path


_CURRENT: List[Tuple[str, bytes]] = []


def current() -> Tuple[str, bytes]:
    """Return (name, bytes) of the zipapp of the running code, built once per process."""
    if not _CURRENT:
        files = sources()
        _CURRENT.append((name(files), archive(files)))
    return _CURRENT[0]
