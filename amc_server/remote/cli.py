"""`amc remote add|remove|list|status`: the machines AMC reaches over the user's own `ssh`.

Place in the flow (several machines): `add` connects once (remote/ssh.py's probe) and stores the
machine in remotes.json (remote/config.py), which the hub follows (remote/hub.py); an add that
fails is stored as failed, with its reason, so the page shows it too. `--install-hooks` then sends
the zipapp (remote/ship.py) and runs its `hooks install` there, so the remote's Claude Code (and,
with `--codex`, Codex) report to that machine's AMC through `<cache>/amc/amc.pyz`.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, List, Mapping, Optional

from ..paths import Paths
from . import config, ship
from .config import Remote
from .ssh import PROBE_TIMEOUT_S, Probe, RemoteError, Runner, check_name, check_target, explain, find_ssh, last_line, probe_argv, run, ssh_argv

STATUS_WORKERS = 8


class Remotes:
    """The remotes of one data dir, reached through `ssh` found like the multiplexers."""

    def __init__(self, paths: Paths, env: Optional[Mapping[str, str]] = None,
                 runner: Runner = run) -> None:
        self.paths = paths
        self.env = dict(os.environ if env is None else env)
        self.runner = runner

    def ssh(self) -> str:
        """Return the path of `ssh` or raise RemoteError saying where AMC looked."""
        return find_ssh(self.env)

    def probe(self, target: str) -> Probe:
        """Connect to `target` once and report whether AMC can work there."""
        return explain(self.runner(probe_argv(self.ssh(), target), PROBE_TIMEOUT_S), target)

    def add(self, name: str, target: Optional[str] = None) -> Remote:
        """Check `target` (default `name`) answers with python3 3.9+, then store it as `name`;
        a failed check is stored as a failed add (shown on the page) and raised."""
        check_name(name)
        target = name if target is None else target
        check_target(target)
        result = self.probe(target)
        if not result.ok:
            config.put_failed(self.paths, name, target, result.message)
            raise RemoteError("cannot add %s (ssh %s): %s" % (name, target, result.message))
        remote = Remote(name, target, config.now_iso(), result.python)
        config.put(self.paths, remote)
        return remote

    def install_hooks(self, remote: Remote, codex: bool) -> List[str]:
        """Send the zipapp and install the remote's hooks; return what its `hooks install` said."""
        error = ship.send(self.ssh(), remote.target, self.runner)
        if error:
            raise RemoteError("cannot send AMC to %s: %s" % (remote.name, error))
        result = self.runner(ssh_argv(self.ssh(), remote.target, ship.hooks_command(codex)),
                             PROBE_TIMEOUT_S)
        if result.returncode != 0:
            raise RemoteError("installing the hooks on %s failed (exit %d): %s" % (
                remote.name, result.returncode, last_line(result.stderr + result.stdout)))
        return [line for line in result.stdout.splitlines() if line.strip()]

    def remove(self, name: str) -> Any:
        """Forget the remote (or failed add) `name`; raise RemoteError when there is none."""
        gone = config.drop(self.paths, name)
        return Remote(str(gone["name"]), str(gone["target"]))

    def status(self) -> List[tuple]:
        """Probe every remote in parallel (bounded); return [(Remote, Probe)] in list order."""
        remotes = config.load(self.paths)
        if not remotes:
            return []
        self.ssh()  # one clear error instead of one per remote

        def one(remote: Remote) -> Probe:
            try:
                return self.probe(remote.target)
            except RemoteError as e:
                return Probe(False, str(e))
        with ThreadPoolExecutor(max_workers=min(STATUS_WORKERS, len(remotes))) as pool:
            return list(zip(remotes, pool.map(one, remotes)))


NONE = "no remotes (add one with `amc remote add NAME [TARGET]`)"


def main(paths: Paths, action: str, name: Optional[str] = None, target: Optional[str] = None,
         out: Any = None, err: Any = None, remotes: Optional[Remotes] = None,
         install_hooks: bool = False, codex: bool = False) -> int:
    """Run `amc remote ACTION`; print to `out`/`err`; return the exit code."""
    import sys
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    remotes = Remotes(paths) if remotes is None else remotes
    try:
        if action in ("add", "remove") and not name:
            raise RemoteError("`amc remote %s` needs a NAME" % action)
        if action in ("list", "status", "remove") and target is not None:
            raise RemoteError("`amc remote %s` takes no TARGET" % action)
        if action in ("list", "status") and name is not None:
            raise RemoteError("`amc remote %s` takes no NAME" % action)
        if (install_hooks or codex) and action != "add":
            raise RemoteError("--install-hooks and --codex go with `amc remote add`")
        if codex and not install_hooks:
            raise RemoteError("--codex goes with --install-hooks")
        if action == "add":
            remote = remotes.add(name, target)
            print("added %s (ssh %s): Python %s" % (remote.name, remote.target, remote.python),
                  file=out)
            if install_hooks:
                for line in remotes.install_hooks(remote, codex):
                    print("%s: %s" % (remote.name, line), file=out)
            return 0
        if action == "remove":
            remote = remotes.remove(name)
            print("removed %s (ssh %s)" % (remote.name, remote.target), file=out)
            return 0
        if action == "list":
            listed, failed = config.read(paths)
            if not listed and not failed:
                print(NONE, file=out)
            for r in listed:
                print("%s\t%s" % (r.name, r.target), file=out)
            for f in failed:
                print("%s\t%s\tnot added: %s" % (f.name, f.target, f.error), file=out)
            return 0
        if action == "status":
            rows = remotes.status()
            if not rows:
                print(NONE, file=out)
            for r, p in rows:
                print("%s\t%s\t%s" % (r.name, "online" if p.ok else "offline",
                                      p.message), file=out)
            return 0 if all(p.ok for _, p in rows) else 1
    except RemoteError as e:
        print("amc: %s" % e, file=err)
        return 1
    raise ValueError("unknown remote action %r" % action)
