"""AMC on a remote with nothing installed there: the zipapp, sent once over ssh and then reused.

Place in the flow (several machines): every command the hub runs on a remote goes through
`command(name, words)`: a fixed `python3 -c '<BOOT>' <zipapp name> <words>` that runs the cached
zipapp `<cache>/amc/<name>` (the remote user's `$XDG_CACHE_HOME`, else `~/.cache`) or, when it is
not there, prints NEED and exits 3. The hub then sends the zipapp once with `install_argv` (its
bytes on stdin, checked against their SHA-256 before an atomic rename) and runs the command again.
Installing also points `<cache>/amc/amc.pyz` at the new file (a symlink replaced atomically), which
is what the remote's hooks run, so an update keeps them working; the newest KEEP zipapps stay
(a stream of the previous version may still import from its file).
The code below runs in the remote user's shell after ssh joins the words: it has no ', \\, $ or !,
and is one line of simple statements, so one pair of single quotes keeps it one word in sh,
bash, zsh, fish and csh.
"""
import hashlib
import re
import shlex
from typing import Any, List, Sequence

from . import zipapp
from .ssh import last_line, run, ssh_argv, ssh_failure

NEED = "amc-need-zipapp"
INSTALLED = "amc-installed"
NEED_EXIT = 3
KEEP = 3
INSTALL_TIMEOUT_S = 120.0
STABLE = "amc.pyz"
NAME_RE = re.compile(r"^amc-[0-9A-Za-z.]+-[0-9a-f]{16}\.pyz$")
WORD_RE = re.compile(r"^[A-Za-z0-9_.:=-]{1,80}$")   # the only words that follow the zipapp

_DIR = ('d=os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),'
        '"amc")')
BOOT = "; ".join([
    "import os, sys",
    _DIR,
    "p=os.path.join(d, sys.argv[1])",
    'os.path.isfile(p) or sys.exit(print("%s", flush=True) or %d)' % (NEED, NEED_EXIT),
    "os.execv(sys.executable, [sys.executable, p] + sys.argv[2:])",
])
INSTALL = "; ".join([
    "import hashlib, os, sys, tempfile",
    _DIR,
    "os.makedirs(d, mode=0o700, exist_ok=True)",
    "b=sys.stdin.buffer.read()",
    'hashlib.sha256(b).hexdigest() == sys.argv[2] or sys.exit(print("amc-bad-upload %d" % '
    'len(b)) or 4)',
    'fd, t=tempfile.mkstemp(dir=d, prefix=".upload-")',
    'f=os.fdopen(fd, "wb")',
    "f.write(b)",
    "f.close()",
    "os.chmod(t, 0o755)",
    "os.replace(t, os.path.join(d, sys.argv[1]))",
    'l=os.path.join(d, ".%s.new" % os.getpid())',
    "os.path.lexists(l) and os.unlink(l)",
    "os.symlink(sys.argv[1], l)",
    'os.replace(l, os.path.join(d, "%s"))' % STABLE,
    'old=sorted((n for n in os.listdir(d) if n.startswith("amc-") and n.endswith(".pyz") and '
    'not n == sys.argv[1]), key=lambda n: os.stat(os.path.join(d, n)).st_mtime)',
    "[os.unlink(os.path.join(d, n)) for n in old[:max(0, len(old) - %d)]]" % (KEEP - 1),
    'print("%s", os.path.join(d, sys.argv[1]))' % INSTALLED,
])
for _code in (BOOT, INSTALL):
    assert not set(_code) & set("'\\$!\n"), "remote code must stay one shell word"


def check(name: str, words: Sequence[str]) -> None:
    if not NAME_RE.match(name) or not all(WORD_RE.match(w) for w in words):
        raise ValueError("refusing to put %r %r on a remote command line" % (name, list(words)))


def command(name: str, words: Sequence[str]) -> List[str]:
    """Return the remote words that run `<zipapp> WORDS` (exit NEED_EXIT when it is missing)."""
    check(name, words)
    return ["python3", "-c", shlex.quote(BOOT), name, *words]


def install_command(name: str, data: bytes) -> List[str]:
    """Return the remote words that store `data` (sent on stdin) as the zipapp `name`."""
    check(name, [])
    return ["python3", "-c", shlex.quote(INSTALL), name, hashlib.sha256(data).hexdigest()]


def hooks_command(codex: bool) -> List[str]:
    """Return the remote words that install the remote's hooks pointing at `amc.pyz`."""
    return ["python3", "-c", shlex.quote("; ".join([
        "import os, sys", _DIR,
        'os.execv(sys.executable, [sys.executable, os.path.join(d, "%s")] + sys.argv[1:])'
        % STABLE])), "hooks", "install"] + (["--codex"] if codex else [])


def send(ssh: str, target: str, runner: Any = run) -> str:
    """Store the running code's zipapp on `target`; return "" or what went wrong, in words."""
    name, data = zipapp.current()
    result = runner(ssh_argv(ssh, target, install_command(name, data)), INSTALL_TIMEOUT_S,
                    stdin=data)
    if result.returncode == 0 and INSTALLED in result.stdout:
        return ""
    if result.returncode == 255:
        return ssh_failure(result.stderr, target) or "ssh failed: " + last_line(result.stderr)
    if result.returncode == -1:
        return "sending AMC to %s: %s" % (target, result.stderr)
    return "cannot store AMC's zipapp on %s (exit %d): %s" % (
        target, result.returncode, last_line(result.stderr + result.stdout) or "no message")
