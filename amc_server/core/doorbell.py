"""The hook's doorbell: a unix datagram socket in the data dir that names a changed session.

The hook, after writing a session file, sends one datagram (the session id) to
`<data dir>/hook.sock` and goes on: non-blocking, no reply, silent when no server listens or the
server's buffer is full. The server applies that session at once instead of waiting for a file
watcher. A lost datagram costs nothing but latency: the watchers and the periodic reconcile find
the same change. A datagram only says "look at session X": the server re-reads X's file, so a
stray or hostile datagram can only cause one extra read.

`ring` is imported by the hook on the agent's critical path: it uses the `_socket` C module
directly (the `socket` module's import costs milliseconds) and never waits.
"""
import os
from typing import List, Optional

MAX_DATAGRAM = 512
SOCKET_NAME = "hook.sock"
MAX_UNIX_PATH = 107  # sun_path is 108 bytes with its NUL on Linux (104 on macOS)


def socket_path(data_dir: str) -> str:
    return os.path.join(data_dir, SOCKET_NAME)


def ring(data_dir: str, session_id: str) -> bool:
    """Tell a listening server that `session_id` changed; return whether the datagram left."""
    path = socket_path(data_dir)
    if len(path.encode()) > MAX_UNIX_PATH:
        return False
    try:
        import _socket
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
    except (ImportError, OSError, AttributeError):
        return False
    try:
        s.setblocking(False)
        s.sendto(session_id.encode("utf-8")[:MAX_DATAGRAM], path)
        return True
    except OSError:  # no server (ENOENT, ECONNREFUSED), buffer full (EAGAIN): never wait
        return False
    finally:
        s.close()


class Doorbell:
    """The server's end: a bound, non-blocking datagram socket; `fileno()` for select()."""

    def __init__(self, data_dir: str) -> None:
        import socket
        self.path = socket_path(data_dir)
        self.sock: Optional[socket.socket] = None
        self.error = ""
        self._inode = 0
        if len(self.path.encode()) > MAX_UNIX_PATH:
            self.error = "data dir path too long for a unix socket; hooks are seen by watching"
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            if os.path.exists(self.path):
                os.unlink(self.path)  # a stale socket of a server that died
            old = os.umask(0o177)     # only this user may ring
            try:
                sock.bind(self.path)
            finally:
                os.umask(old)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self._inode = os.stat(self.path).st_ino
        except OSError as e:
            sock.close()
            self.error = "cannot listen on %s: %s" % (self.path, e)
            return
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno() if self.sock is not None else -1

    def wait(self, timeout: float) -> List[str]:
        """Return the session ids rung, waiting up to `timeout` seconds for the first."""
        import select
        if self.sock is None:
            return []
        try:
            ready, _, _ = select.select([self.sock], [], [], timeout)
        except (OSError, ValueError):
            return []
        return self.read() if ready else []

    def read(self) -> List[str]:
        """Return the session ids rung since the last call (never blocks)."""
        import socket
        out: List[str] = []
        sock = self.sock
        while sock is not None:
            try:
                data = sock.recv(MAX_DATAGRAM, socket.MSG_DONTWAIT)
            except OSError:  # nothing more (EAGAIN), or closed meanwhile
                break
            out.append(data.decode("utf-8", "replace"))
        return out

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            try:
                if os.stat(self.path).st_ino == self._inode:  # not a newer server's socket
                    os.unlink(self.path)
            except OSError:
                pass
