"""A real OpenSSH server for tests: a private `sshd` on a free 127.0.0.1 port, with test users.

`ssh` reads `~/.ssh/config` and `known_hosts` from the *passwd* home of the user running it, not
from `$HOME`, so the client side is a real local user too (its home is the test HOME), and
`run_amc()` runs `bin/amc` as that user. Made (as root) by `SshWorld.start()`, all under one temp dir:
- a host key (ssh-keygen) and `sshd -D -e -f <config>` on a free port (log: `<tmp>/sshd.log`);
- the client user, with `~/.ssh/id_ed25519` (authorized on the remotes), `~/.ssh/id_other`
  (authorized nowhere), `~/.ssh/known_hosts` (the host key, or empty) and `~/.ssh/config`:
  `Host m1` (good), `Host nopy` (a user whose PATH has no python3: sshd's `SetEnv PATH=`),
  `Host badkey` (m1's user with the unauthorized key);
- the remote users `remote` (Host `m1`), `remote2` (Host `m2`: a second machine) and `nopy`
  (useradd, unlocked with `usermod -p '*'` for UsePAM no).
`kill_sshd()` stops the listener and every process of the remote users (their connections and
what runs in them), as a machine that goes down; `start_sshd()` brings it back on the same port
with the same host key. Everything, users included, is removed by `stop()`.
"""
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from typing import Dict, List, Optional

from tests.support import tools

# This file is tests/support/<name>.py: three levels below the checkout.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER_PATH = "/usr/local/bin:/usr/bin:/bin"
ROLE_CODES = {"client": "c", "remote": "r", "remote2": "s", "nopy": "n"}
REMOTES = ("remote", "remote2")


def require_root_sshd() -> str:
    """Return sshd's path; skip (fail under CI=true) without it or without root and useradd."""
    path = tools.require("sshd")
    if os.geteuid() != 0 or not shutil.which("useradd"):
        message = "the real-sshd tests need root and useradd (they make local test users)"
        if tools.in_ci():
            raise tools.ToolMissing(message + "; CI=true, so this is a failure, not a skip")
        raise unittest.SkipTest(message)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_user(name: str) -> None:
    """SIGKILL every process of the local user `name` (found in /proc), and wait for them."""
    uid = pwd.getpwnam(name).pw_uid
    for _ in range(50):
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:  # not the owner of /proc/<pid>: sshd's children are not dumpable (root)
                    with open("/proc/%s/status" % entry) as f:
                        fields = dict(line.split(":", 1) for line in f if ":" in line)
                    if int(fields["Uid"].split()[0]) == uid and \
                            not fields["State"].strip().startswith("Z"):  # zombies are dead
                        pids.append(int(entry))
                except (OSError, KeyError, ValueError, IndexError):
                    pass
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)


def _run(argv: List[str]) -> str:
    return subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=30).stdout.decode()


class SshWorld:
    """One sshd, one client user (the test HOME) and two remote users; see the module docstring."""

    def __init__(self, known_host: bool = True) -> None:
        self.known_host = known_host
        self.tag = secrets.token_hex(3)
        self.users: Dict[str, str] = {}  # role -> login name
        self.proc: Optional[subprocess.Popen] = None
        self.tmp = ""
        self.port = 0

    def home(self, role: str) -> str:
        return os.path.join(self.tmp, role)

    def _user(self, role: str) -> pwd.struct_passwd:
        name = "amct%s%s" % (self.tag, ROLE_CODES[role])
        os.makedirs(os.path.join(self.home(role), ".ssh"), mode=0o700)
        _run(["useradd", "-M", "-d", self.home(role), "-s", "/bin/bash", name])
        self.users[role] = name
        _run(["usermod", "-p", "*", name])
        return pwd.getpwnam(name)

    def _chown(self, role: str) -> None:
        entry = pwd.getpwnam(self.users[role])
        for folder, dirs, files in os.walk(self.home(role)):
            for item in [folder] + [os.path.join(folder, n) for n in dirs + files]:
                try:
                    os.chown(item, entry.pw_uid, entry.pw_gid)
                except FileNotFoundError:
                    pass  # gone since the walk listed it (a server's SQLite -wal or -journal)

    def start(self, sshd: str) -> "SshWorld":
        self.tmp = tempfile.mkdtemp(prefix="amc-sshd-")
        os.chmod(self.tmp, 0o755)
        try:
            self._start(sshd)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, sshd: str) -> None:
        host_key = os.path.join(self.tmp, "host_ed25519")
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key])
        for role in ROLE_CODES:
            self._user(role)
        ssh_dir = os.path.join(self.home("client"), ".ssh")
        for key in ("id_ed25519", "id_other"):
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                  os.path.join(ssh_dir, key)])
        with open(os.path.join(ssh_dir, "id_ed25519.pub")) as f:
            authorized = f.read()
        for role in REMOTES + ("nopy",):
            with open(os.path.join(self.home(role), ".ssh", "authorized_keys"), "w") as f:
                f.write(authorized)
            self._chown(role)
        self.port = free_port()
        with open(host_key + ".pub") as f:
            host_pub = " ".join(f.read().split()[:2])
        with open(os.path.join(ssh_dir, "known_hosts"), "w") as f:
            f.write("[127.0.0.1]:%d %s\n" % (self.port, host_pub) if self.known_host else "")
        hosts = (("m1", "remote", "id_ed25519"), ("m2", "remote2", "id_ed25519"),
                 ("nopy", "nopy", "id_ed25519"), ("badkey", "remote", "id_other"))
        with open(os.path.join(ssh_dir, "config"), "w") as f:
            for alias, role, key in hosts:
                f.write("Host %s\n  HostName 127.0.0.1\n  Port %d\n  User %s\n"
                        "  IdentityFile ~/.ssh/%s\n  IdentitiesOnly yes\n\n"
                        % (alias, self.port, self.users[role], key))
        self._chown("client")
        self.config = config = os.path.join(self.tmp, "sshd_config")
        with open(config, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\n"
                    "AuthorizedKeysFile .ssh/authorized_keys\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                    "AllowUsers %s %s %s\n"
                    # a machine without python3 on the PATH of non-interactive shells
                    "Match User %s\n  SetEnv PATH=/usr/sbin:/sbin\n"
                    % (self.port, host_key, os.path.join(self.tmp, "sshd.pid"),
                       self.users["remote"], self.users["remote2"], self.users["nopy"],
                       self.users["nopy"]))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.sshd = sshd
        self.start_sshd()

    def start_sshd(self) -> None:
        log = open(os.path.join(self.tmp, "sshd.log"), "ab")
        self.proc = subprocess.Popen([self.sshd, "-D", "-e", "-f", self.config],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        self._wait_listening()

    def kill_sshd(self) -> None:
        """The machines go down: the listener, each connection and the users' processes."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for role in REMOTES:
            kill_user(self.users[role])

    def _wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited %s: %s" % (self.proc.returncode, self.log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen on %d: %s" % (self.port, self.log()))

    def log(self) -> str:
        try:
            with open(os.path.join(self.tmp, "sshd.log"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def run_amc(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `bin/amc ARGS` as the client user (HOME = its home; data dir under it)."""
        entry = pwd.getpwnam(self.users["client"])
        python = shutil.which("python3", path=USER_PATH)
        env = {"HOME": entry.pw_dir, "PATH": USER_PATH, "LANG": "C.UTF-8",
               "USER": entry.pw_name, "LOGNAME": entry.pw_name}
        return subprocess.run([python, os.path.join(ROOT, "bin", "amc")] + list(args),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, env=env,
                              cwd=entry.pw_dir, user=entry.pw_uid, group=entry.pw_gid,
                              extra_groups=[], universal_newlines=True)

    def data_file(self, name: str) -> str:
        return os.path.join(self.home("client"), ".local", "share", "amc", name)

    def stop(self) -> None:
        for name in self.users.values():  # userdel refuses a user with processes
            kill_user(name)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for name in self.users.values():
            subprocess.run(["userdel", name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.users.clear()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
