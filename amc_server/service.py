"""`amc service install|uninstall|status`: start AMC at login (systemd user unit / launchd agent).

Outside the hook -> store -> api flow: this writes one file that makes the user's service manager
run `bin/amc serve` in the foreground (so the manager owns the process, restarts it on failure and
keeps its output), then asks the manager to load it. Everything that differs between machines
comes in through `Host`: the environment (HOME, the variables copied into the service, PATH to find
systemctl/launchctl), the platform name, the command runner, the uid and the command to run. Tests
drive the Linux and the macOS branch on one machine with a recording runner.

AMC owns exactly one file, recognised by MARKER: install rewrites it, uninstall removes it, and a
file at that path without the marker (the user's own amc.service) is never touched. When the
service manager cannot be reached (no systemctl, no user bus in a container) the file is kept and
the commands to run are printed: writing the file is the part that cannot wait for a login session.
"""
import os
import plistlib
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, TextIO, Tuple

from .. import store
from ..commands.serve import read_pid_file
from ..paths import get_paths, layout

UNIT_NAME = "amc.service"
LABEL = "dev.amc.server"
MARKER = "Written by AMC (bin/amc service install)"  # no "--": it also goes in an XML comment
TIMEOUT_S = 30.0
# What `bin/amc serve` reads besides HOME; every other AMC_* that is set is copied too, except the
# test suite's AMC_TEST_*. Paths are made absolute: the service does not start in today's cwd.
CAPTURED = ("AMC_DATA_DIR", "AMC_PORT", "AMC_HOST", "AMC_ALLOWED_HOSTS", "CLAUDE_CONFIG_DIR",
            "CODEX_HOME", "XDG_DATA_HOME")
PATH_VARS = frozenset({"AMC_DATA_DIR", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME",
                       "AMC_ZELLIJ_PLUGIN"})
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Runner = Callable[[Sequence[str], Mapping[str, str], float], Tuple[int, str]]


class ServiceError(Exception):
    """The service file cannot be written, read or removed safely; nothing was changed."""


def run_command(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Tuple[int, str]:
    """Run `argv` (no shell) with `env`; return (exit code, stdout and stderr, stripped)."""
    try:
        proc = subprocess.run(list(argv), env=dict(env), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "timed out after %gs" % timeout
    except OSError as e:
        return 127, str(e)
    return proc.returncode, proc.stdout.decode("utf-8", "replace").strip()


def program() -> List[str]:
    """Return what the service runs: this interpreter, this clone's bin/amc, `serve`."""
    # Not realpath for the interpreter: a virtualenv's python is a symlink whose place selects it.
    python = os.path.abspath(sys.executable or "python3")
    where = layout()
    if where.kind == "clone":
        return [python, where.command("amc"), "serve"]
    return [python, "-m", "amc_server", "serve"]  # installed with pip: this python imports it


@dataclass(frozen=True)
class Host:
    """The machine the service is installed on; tests pass their own."""
    env: Mapping[str, str]
    platform: str = sys.platform  # "linux" or "darwin"
    runner: Runner = run_command
    uid: int = field(default_factory=os.getuid)
    command: Sequence[str] = field(default_factory=program)


class Outcome(NamedTuple):
    code: int
    lines: List[str]     # for stdout
    warnings: List[str]  # for stderr; the service file is in place regardless


def home(env: Mapping[str, str]) -> str:
    """Return HOME from `env` (the service is per user: without it there is no place for it)."""
    if not env.get("HOME"):
        raise ServiceError("HOME is not set: cannot tell where the service file goes")
    return env["HOME"]


def unit_path(env: Mapping[str, str]) -> str:
    """Return the systemd unit: $XDG_CONFIG_HOME (else ~/.config)/systemd/user/amc.service."""
    config = env.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(config):  # the XDG spec, and systemd, ignore a relative value
        config = os.path.join(home(env), ".config")
    return os.path.join(config, "systemd", "user", UNIT_NAME)


def plist_path(env: Mapping[str, str]) -> str:
    """Return the launchd agent: ~/Library/LaunchAgents/dev.amc.server.plist."""
    return os.path.join(home(env), "Library", "LaunchAgents", LABEL + ".plist")


def captured_env(env: Mapping[str, str]) -> Dict[str, str]:
    """Return the variables the service gets: those of CAPTURED and AMC_* that are set now."""
    names = set(CAPTURED) | {n for n in env
                             if n.startswith("AMC_") and not n.startswith("AMC_TEST_")}
    out = {}
    for name in sorted(names):
        value = env.get(name, "")
        if value and NAME_RE.match(name):
            out[name] = os.path.abspath(value) if name in PATH_VARS else value
    return out


_QUOTE = {ord("%"): "%%", ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\t"): "\\t"}
_EXEC_QUOTE = {**_QUOTE, ord("$"): "$$"}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def systemd_quote(word: str, exec_line: bool = False) -> str:
    """Return `word` as one double-quoted systemd word that unquotes back to exactly `word`.

    `%` is doubled (specifiers are expanded in ExecStart= and Environment=); `\\` and `"` are
    escaped; newline and tab become `\\n`, `\\t`; in ExecStart= `$` is doubled (variables).
    """
    if _CONTROL_RE.search(word):
        raise ServiceError("%r holds a control character systemd cannot take" % word)
    return '"%s"' % word.translate(_EXEC_QUOTE if exec_line else _QUOTE)


def render_unit(command: Sequence[str], environment: Mapping[str, str]) -> bytes:
    """Return the systemd user unit that runs `command` with `environment`."""
    lines = ["# %s; `bin/amc service uninstall` removes it." % MARKER,
             "# The next install rewrites it (docs/service.md).",
             "[Unit]", "Description=AMC - Agent Mission Control dashboard server", "",
             "[Service]", "Type=simple",
             "ExecStart=" + " ".join(systemd_quote(w, exec_line=True) for w in command)]
    lines += ["Environment=" + systemd_quote("%s=%s" % item) for item in environment.items()]
    lines += ["Restart=on-failure", "RestartSec=2", "", "[Install]", "WantedBy=default.target", ""]
    try:
        return "\n".join(lines).encode("utf-8")
    except UnicodeEncodeError as e:
        raise ServiceError("a path or variable is not valid UTF-8: %s" % e) from e


def render_plist(command: Sequence[str], environment: Mapping[str, str], log_file: str) -> bytes:
    """Return the launchd agent that runs `command` with `environment`, output to `log_file`."""
    agent = {"Label": LABEL, "ProgramArguments": list(command),
             "EnvironmentVariables": dict(environment), "RunAtLoad": True,
             "KeepAlive": {"SuccessfulExit": False},
             "StandardOutPath": log_file, "StandardErrorPath": log_file}
    try:
        data = plistlib.dumps(agent, sort_keys=False)
    except (ValueError, UnicodeEncodeError) as e:
        raise ServiceError("a path or variable cannot go into a plist: %s" % e) from e
    head, tag, rest = data.partition(b"<plist ")
    comment = "<!-- %s; `bin/amc service uninstall` removes it. -->\n" % MARKER
    return head + comment.encode("utf-8") + tag + rest


class Step(NamedTuple):
    argvs: List[List[str]]  # alternatives: the first that exits 0 wins
    required: bool = True   # a required step that fails stops the sequence


class Systemd:
    """A systemd user unit, loaded with `systemctl --user`."""
    tool = "systemctl"
    logs = "logs: journalctl --user -u amc"
    restart = "systemctl --user restart amc.service"

    def __init__(self, host: Host) -> None:
        self.host = host
        self.path = unit_path(host.env)

    def render(self) -> bytes:
        return render_unit(self.host.command, captured_env(self.host.env))

    def load(self, tool: str, existed: bool, changed: bool) -> List[Step]:
        steps = [Step([[tool, "--user", "daemon-reload"]])]
        if existed and changed:  # running with the old unit: `enable --now` would not restart it
            steps.append(Step([[tool, "--user", "try-restart", UNIT_NAME]]))
        return steps + [Step([[tool, "--user", "enable", "--now", UNIT_NAME]])]

    def unload(self, tool: str) -> Tuple[List[Step], List[Step]]:
        """Return the steps before and after the file is removed."""
        return ([Step([[tool, "--user", "disable", "--now", UNIT_NAME]])],
                [Step([[tool, "--user", "daemon-reload"]])])

    def queries(self, tool: str) -> List[List[str]]:
        return [[tool, "--user", "is-enabled", UNIT_NAME], [tool, "--user", "is-active", UNIT_NAME]]

    def describe(self, code: int, output: str) -> str:
        return output.splitlines()[0] if output else "(exit %d)" % code


class Launchd:
    """A launchd agent in the user's GUI domain, loaded with `launchctl`."""
    tool = "launchctl"

    def __init__(self, host: Host) -> None:
        self.host = host
        self.path = plist_path(host.env)
        self.log_file = get_paths(host.env).log_file
        self.target = "gui/%d/%s" % (host.uid, LABEL)
        self.logs = "logs: " + self.log_file
        self.restart = "launchctl kickstart -k " + self.target

    def render(self) -> bytes:
        return render_plist(self.host.command, captured_env(self.host.env), self.log_file)

    def load(self, tool: str, existed: bool, changed: bool) -> List[Step]:
        # A loaded agent makes bootstrap fail, so unload ours first (not loaded is fine).
        steps = [Step([[tool, "bootout", self.target]], required=False)] if existed else []
        return steps + [Step([[tool, "bootstrap", "gui/%d" % self.host.uid, self.path],
                              [tool, "load", "-w", self.path]])]

    def unload(self, tool: str) -> Tuple[List[Step], List[Step]]:
        return [Step([[tool, "bootout", self.target], [tool, "unload", "-w", self.path]],
                     required=False)], []

    def queries(self, tool: str) -> List[List[str]]:
        return [[tool, "print", self.target]]

    def describe(self, code: int, output: str) -> str:
        keep = [line.strip() for line in output.splitlines()
                if re.match(r"^\s*(state|pid|last exit code) = ", line)]
        return "not loaded" if code else "loaded" + (": " + ", ".join(keep) if keep else "")


def backend(host: Host):
    """Return the service backend of `host.platform`; raise ServiceError when there is none."""
    if host.platform.startswith("linux"):
        return Systemd(host)
    if host.platform == "darwin":
        return Launchd(host)
    raise ServiceError("`amc service` knows systemd (Linux) and launchd (macOS), not %r"
                       % host.platform)


def _show(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in [os.path.basename(argv[0])] + list(argv[1:]))


def _run(host: Host, steps: List[Step]) -> Tuple[List[str], Optional[str]]:
    """Run `steps`; return (one report line per command, why the first required step failed)."""
    lines: List[str] = []
    for step in steps:
        tried = len(lines)
        for argv in step.argvs:
            code, output = host.runner(argv, host.env, TIMEOUT_S)
            lines.append("%s: %s" % (_show(argv), "ok" if code == 0 else "failed (%s)" % (
                output.splitlines()[0] if output else "exit %d" % code)))
            if code == 0:
                break
        else:
            if step.required:
                return lines, "; ".join(lines[tried:])
    return lines, None


def _manual(steps: List[Step]) -> str:
    return "".join("\n  " + _show(step.argvs[0]) for step in steps)


def _which(host: Host, name: str) -> Optional[str]:
    return shutil.which(name, path=host.env.get("PATH") or os.defpath)


def _read_ours(path: str) -> Optional[bytes]:
    """Return the service file AMC wrote at `path`, None when absent; refuse anyone else's."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise ServiceError("cannot read %s: %s" % (path, e.strerror or e)) from e
    if MARKER.encode() not in data:
        raise ServiceError("%s exists and was not written by AMC; left alone (move it away to "
                           "use `bin/amc service`)" % path)
    return data


def install(host: Host) -> Outcome:
    """Write the service file (refusing a foreign one) and load it; exit 0 once it is written."""
    svc = backend(host)
    data = svc.render()
    before = _read_ours(svc.path)
    try:
        if isinstance(svc, Launchd):  # launchd does not create the log file's directory
            store.ensure_dir(os.path.dirname(svc.log_file))
        if before != data:
            os.makedirs(os.path.dirname(svc.path), mode=0o755, exist_ok=True)
            store.write_bytes_atomic(svc.path, data, 0o644)
    except OSError as e:
        raise ServiceError("cannot write %s: %s" % (svc.path, e.strerror or e)) from e
    lines = ["%s: %s" % (svc.path, "unchanged" if before == data
                         else "updated" if before is not None else "written")]
    warnings = []
    tool = _which(host, svc.tool)
    steps = svc.load(tool or svc.tool, before is not None, before != data)
    if tool is None:
        warnings.append("%s not found on PATH: the file is written but not loaded; where the "
                        "service manager runs, do:%s" % (svc.tool, _manual(steps)))
    else:
        ran, failure = _run(host, steps)
        lines += ran
        if failure:
            warnings.append("%s; the file is kept, load it once a user session is available:%s"
                            % (failure, _manual(steps)))
        else:
            lines.append("AMC now starts at login; check it with `bin/amc service status`, %s"
                         % svc.logs)
    running = read_pid_file(get_paths(host.env))
    if running and before is None:
        warnings.append("AMC already runs (pid %d, %s), so the service cannot take its port: run "
                        "`bin/amc stop`, then `%s`" % (running.pid, running.url, svc.restart))
    return Outcome(0, lines, warnings)


def uninstall(host: Host) -> Outcome:
    """Unload the service and remove exactly the file install wrote; exit 0 when none was."""
    svc = backend(host)
    if _read_ours(svc.path) is None:
        return Outcome(0, ["not installed: %s does not exist; nothing to do" % svc.path], [])
    tool = _which(host, svc.tool)
    lines, warnings, failure = [], [], None
    pre, post = svc.unload(tool or svc.tool)
    if tool:
        lines, failure = _run(host, pre)
    else:
        lines.append("%s not found on PATH: nothing to stop" % svc.tool)
    try:
        os.unlink(svc.path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise ServiceError("cannot remove %s: %s" % (svc.path, e.strerror or e)) from e
    lines.append("%s: removed" % svc.path)
    if tool:
        ran, failed_after = _run(host, post)
        lines += ran
        failure = failure or failed_after
    if failure:
        warnings.append("%s; if the service still runs, do:%s" % (
            failure, _manual(sum(svc.unload(svc.tool), []))))
    return Outcome(0, lines, warnings)


def status(host: Host) -> Outcome:
    """Say whether AMC's service file is installed (exit 0) or not (1) and what the manager says."""
    svc = backend(host)
    try:
        ours = _read_ours(svc.path) is not None
        lines = ["installed: %s" % svc.path] if ours \
            else ["not installed: %s does not exist" % svc.path]
    except ServiceError as e:
        ours, lines = False, ["not installed: %s" % e]
    tool = _which(host, svc.tool)
    if tool is None:
        lines.append("%s: not found on PATH" % svc.tool)
    for argv in svc.queries(tool) if tool else []:
        code, output = host.runner(argv, host.env, TIMEOUT_S)
        lines.append("%s: %s" % (_show(argv), svc.describe(code, output)))
    running = read_pid_file(get_paths(host.env))
    lines.append("server: running at %s (pid %d)" % (running.url, running.pid) if running
                 else "server: not running")
    return Outcome(0 if ours else 1, lines, [])


ACTIONS = {"install": install, "uninstall": uninstall, "status": status}


def main(action: str, host: Host, out: Optional[TextIO] = None,
         err: Optional[TextIO] = None) -> int:
    """Run `action` (install, uninstall, status) on `host`; print the report; return the code."""
    try:
        outcome = ACTIONS[action](host)
    except ServiceError as e:
        print("amc: %s" % e, file=err or sys.stderr)
        return 1
    for line in outcome.lines:
        print(line, file=out or sys.stdout)
    for warning in outcome.warnings:
        print("amc: warning: %s" % warning, file=err or sys.stderr)
    return outcome.code
