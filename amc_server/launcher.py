"""The server process: run it in the foreground, or start/stop/inspect it in the background.

`serve` owns the pid file: it writes `server.pid` ("<pid>\\n<url>\\n") once it listens and removes
it on exit, so the file never names a server that is not answering for long. `start` spawns
`serve` detached (its output appended to `server.log`) and waits until the pid file names the
child and the URL answers. `stop` sends SIGTERM, then SIGKILL after a grace period.
"""
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Mapping, NamedTuple, Optional

from .. import store
from ..agents.claude.registry import pid_alive
from ..paths import Paths, layout

START_TIMEOUT_S = 15.0
STOP_GRACE_S = 5.0


class Running(NamedTuple):
    pid: int
    url: str


def read_pid_file(paths: Paths) -> Optional[Running]:
    """Return the server named by the pid file if that process is alive, else None."""
    try:
        with open(paths.pid_file, "r", encoding="utf-8") as f:
            lines = f.read().split("\n")
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    url = lines[1].strip() if len(lines) > 1 else ""
    return Running(pid, url) if pid_alive(pid) else None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


def read_token(paths: Paths) -> str:
    """Return the server token of this data dir ("" when there is none yet)."""
    try:
        with open(paths.token_file, encoding="ascii") as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def answers(url: str, token: str = "", timeout: float = 1.0) -> bool:
    """Tell whether an AMC server answers GET /api/state at `url` (with the token: a server on
    a non-loopback address wants it on every read)."""
    req = urllib.request.Request(url.rstrip("/") + "/api/state",
                                 headers={"X-AMC-Token": token} if token else {})
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return r.status == 200
    except Exception:
        return False


def running_server(paths: Paths) -> Optional[Running]:
    """Return this data dir's server when one runs and answers, else None."""
    running = read_pid_file(paths)
    if running is not None and running.url and answers(running.url, read_token(paths)):
        return running
    return None


def serve(paths: Paths, host: str, port: int, allowed_hosts: list) -> int:
    """Run the server in the foreground until SIGTERM/SIGINT; return the exit code."""
    from .. import memory
    from ..http.server import make_server
    memory.tune_for_server()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        store.ensure_dir(paths.data)
    except OSError as e:
        logging.getLogger("amc").warning("cannot create the data dir %s: %s", paths.data, e)
    try:
        server = make_server(paths, host, port, allowed_hosts)
    except OSError as e:
        print("amc: cannot listen on %s:%d: %s" % (host, port, e.strerror or e), file=sys.stderr)
        return 1
    url = server.url
    print("AMC serving on %s" % url, flush=True)
    try:
        store.write_bytes_atomic(paths.pid_file, ("%d\n%s\n" % (os.getpid(), url)).encode(), 0o644)
    except OSError as e:  # a read-only or full data dir: the page says so (setup)
        logging.getLogger("amc").warning("cannot write %s: %s", paths.pid_file, e)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    server.start_housekeeping()
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        running = read_pid_file(paths)
        if running is None or running.pid == os.getpid():
            store.remove(paths.pid_file)
    return 0


def start(paths: Paths, port: int, env: Mapping[str, str], open_browser: bool) -> int:
    """Start the server in the background and wait until it answers; print its URL."""
    running = read_pid_file(paths)
    if running:
        print("AMC is already running at %s (pid %d)" % (running.url, running.pid))
        return 0
    store.ensure_dir(paths.data)
    # `-m amc_server` works from a clone and from an installed package alike.
    home = layout().home  # the clone, site-packages or the .pyz: where `-m amc_server` is
    child_env = dict(env)
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (home, env.get("PYTHONPATH", "")) if p)
    argv = [sys.executable, "-m", "amc_server", "serve", "--port", str(port)]
    with open(paths.log_file, "ab") as log:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 env=child_env, start_new_session=True, close_fds=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            print("amc: the server exited at start (code %s); see %s:\n%s"
                  % (child.returncode, paths.log_file, _tail(paths.log_file)), file=sys.stderr)
            return 1
        running = read_pid_file(paths)
        if running and running.pid == child.pid and answers(running.url, read_token(paths)):
            print("AMC running at %s (pid %d)" % (running.url, running.pid))
            if open_browser:
                _open_browser(running.url, env)
            return 0
        time.sleep(0.1)
    print("amc: the server did not answer within %ds; see %s" % (START_TIMEOUT_S, paths.log_file),
          file=sys.stderr)
    return 1


def stop(paths: Paths) -> int:
    """Stop the background server (SIGTERM, then SIGKILL); exit 0 also when it was not running."""
    running = read_pid_file(paths)
    if running is None:
        store.remove(paths.pid_file)
        print("AMC is not running")
        return 0
    try:
        os.kill(running.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while pid_alive(running.pid) and time.monotonic() < deadline:
            _reap(running.pid)
            time.sleep(0.05)
        if pid_alive(running.pid):
            os.kill(running.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    store.remove(paths.pid_file)
    print("AMC stopped (pid %d)" % running.pid)
    return 0


def status(paths: Paths) -> int:
    """Print running/stopped, pid, URL and data dir; 0 when running, 1 when stopped."""
    running = read_pid_file(paths)
    if running:
        print("running\npid: %d\nurl: %s\ndata dir: %s" % (running.pid, running.url, paths.data))
        return 0
    print("stopped\ndata dir: %s" % paths.data)
    return 1


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)  # when we are its parent (tests), avoid a zombie
    except ChildProcessError:
        pass


def _tail(path: str, lines: int = 15) -> str:
    try:
        with store.open_read(path) as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 8000))  # a big log is not read whole
            return b"\n".join(f.read(8000).splitlines()[-lines:]).decode("utf-8", "replace")
    except OSError:
        return ""


def _open_browser(url: str, env: Mapping[str, str]) -> None:
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return  # no display: nothing to open
    try:
        import webbrowser
        webbrowser.open(url)
    except Exception:
        pass
