"""Sandboxes for the end-to-end tests: an isolated HOME, a private tmux server, an AMC server.

Every e2e run gets a throwaway HOME holding `.claude.json`, `.claude/`, `.codex/` and AMC's data
dir, and an environment with nothing inherited that could leak into the real user's state (TMUX*,
ZELLIJ*, CLAUDE*, CODEX*, AMC_*, ANTHROPIC_*, OPENAI_*, XDG_*). The agents' settings follow the
project's notes on running the CLIs offline (REAL_AGENTS.md): onboarding done, API key approved,
project trusted, traffic pointed at tests/support/fakemodel.py; for Claude Code channels, the
feature flags seeded (`channels=True`), an MCP config written and the development-channels warning
accepted (`write_mcp_config`, `channel_argv`, `accept_channel_warning`). tmux runs on a private
socket (`tmux -L amc-test-<unique> -f /dev/null`) whose server is killed in cleanup, so a failing
test leaves no agent behind.
"""
import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

# This file is tests/support/<name>.py: three levels below the checkout.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "bin")
API_KEY = "sk-ant-fake-e2e-key-0123456789abcdefghij"
CODEX_KEY = "fake-openai-key"
DROP_PREFIXES = ("TMUX", "ZELLIJ", "CLAUDE", "CODEX", "AMC_", "ANTHROPIC_", "OPENAI_", "XDG_")
DROP_NAMES = ("FAKE_OPENAI_KEY", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
              "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "NODE_OPTIONS")
# Claude Code channels offline (REAL_AGENTS.md, "Claude Code Channels"; internal names of 2.1.329:
# re-check them when the pin moves): the feature flags the CLI would fetch, seeded in its disk
# cache, and the variable that lets it read that cache while telemetry is off.
CHANNEL_FLAGS = {"tengu_harbor": True, "tengu_harbor_permissions": True}
CHANNEL_ENV = {"CLAUDE_CODE_GB_DISK_CACHE_WHEN_TELEMETRY_OFF": "1"}
# The dialog `--dangerously-load-development-channels` shows at start; Enter takes option 1.
CHANNEL_WARNING = "I am using this for local development"


def clean_env(base: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """Return `base` (default os.environ) without anything that points at real agent/AMC state."""
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items()
           if not k.startswith(DROP_PREFIXES) and k not in DROP_NAMES}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    locale = (env.get("LC_ALL", "") + env.get("LANG", "")).upper().replace("UTF8", "UTF-8")
    if "UTF-8" not in locale:  # the TUIs draw ❯ and box characters
        env["LANG"] = "C.UTF-8"
        env.pop("LC_ALL", None)
    env.setdefault("TERM", "xterm-256color")
    return env


class AgentHome:
    """A throwaway HOME (plus project dirs) for one test; `cleanup()` removes it."""

    def __init__(self, prefix: str = "amc-e2e-") -> None:
        # realpath: the CLIs record the resolved cwd, and /tmp may be a symlink (macOS)
        self.root = os.path.realpath(tempfile.mkdtemp(prefix=prefix))
        self.home = os.path.join(self.root, "home")
        self.claude_dir = os.path.join(self.home, ".claude")
        self.codex_home = os.path.join(self.home, ".codex")
        self.data_dir = os.path.join(self.root, "amc-data")
        for d in (self.home, self.claude_dir, self.codex_home, self.data_dir):
            os.makedirs(d, exist_ok=True)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def project(self, name: str = "demo-proj", git: bool = False) -> str:
        """Create and return a project directory `<root>/work/<name>`."""
        path = os.path.join(self.root, "work", name)
        os.makedirs(path, exist_ok=True)
        if git and shutil.which("git"):
            subprocess.run(["git", "init", "-q", path], check=False, timeout=30,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return path

    # -- Claude Code
    def write_claude_json(self, trusted: Sequence[str], extra: Optional[Dict[str, Any]] = None,
                          channels: bool = False) -> Dict[str, Any]:
        """Write `.claude.json`: onboarding done, fake API key approved, `trusted` dirs trusted.

        `channels=True` also seeds the channel feature flags (run the CLI with CHANNEL_ENV too).
        """
        config: Dict[str, Any] = {
            "hasCompletedOnboarding": True,
            "customApiKeyResponses": {"approved": [API_KEY[-20:]], "rejected": []},
            "projects": {os.path.realpath(p): {"hasTrustDialogAccepted": True} for p in trusted},
        }
        if channels:
            config["cachedGrowthBookFeatures"] = dict(CHANNEL_FLAGS)
        config.update(extra or {})
        text = json.dumps(config, indent=2)
        # with CLAUDE_CONFIG_DIR set, Claude Code reads the file from inside that dir instead
        for path in (os.path.join(self.home, ".claude.json"),
                     os.path.join(self.claude_dir, ".claude.json")):
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return config

    def claude_settings(self) -> Dict[str, Any]:
        """Return `$CLAUDE_CONFIG_DIR/settings.json` ({} when absent)."""
        try:
            with open(os.path.join(self.claude_dir, "settings.json"), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def write_mcp_config(self, servers: Mapping[str, Mapping[str, Any]],
                         name: str = "mcp.json") -> str:
        """Write `{"mcpServers": servers}` to `<root>/<name>` (for `claude --mcp-config`)."""
        path = os.path.join(self.root, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"mcpServers": {k: dict(v) for k, v in servers.items()}}, f, indent=2)
        return path

    # -- Codex
    def write_codex_config(self, model_url: str, trusted: Sequence[str],
                           approval_policy: str = "never", extra: str = "") -> str:
        """Write `$CODEX_HOME/config.toml` pointing Codex at the fake Responses server."""
        lines = [
            'model = "fake-model"',
            'model_provider = "fake"',
            'approval_policy = "%s"' % approval_policy,
            'sandbox_mode = "danger-full-access"',
            "check_for_update_on_startup = false",
            "",
            "[model_providers.fake]",
            'name = "Fake"',
            "base_url = %s" % json.dumps(model_url.rstrip("/") + "/v1"),
            'wire_api = "responses"',
            'env_key = "FAKE_OPENAI_KEY"',
            "request_max_retries = 0",
            "stream_max_retries = 0",
            "",
            "[features]",
            "plugins = false",
            "daemon_auto_start = false",
            "",
            "[analytics]",
            "enabled = false",
            "",
            "[tui]",
            "show_tooltips = false",
            "screen_reader_detection_done = true",
            "",
        ]
        for p in trusted:
            lines += ["[projects.%s]" % json.dumps(os.path.realpath(p)),
                      'trust_level = "trusted"', ""]
        text = "\n".join(lines) + extra
        path = os.path.join(self.codex_home, "config.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    # -- environments
    def env(self, model_url: str = "", extra: Optional[Mapping[str, str]] = None,
            channels: bool = False) -> Dict[str, str]:
        """Return the environment for an agent (and AMC) in this sandbox (+ CHANNEL_ENV)."""
        env = clean_env()
        env.update({
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
            "XDG_STATE_HOME": os.path.join(self.home, ".local", "state"),
            "AMC_DATA_DIR": self.data_dir,
            "CODEX_HOME": self.codex_home,
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "ANTHROPIC_API_KEY": API_KEY,
            "FAKE_OPENAI_KEY": CODEX_KEY,
        })
        if model_url:
            env["ANTHROPIC_BASE_URL"] = model_url
        if channels:
            env.update(CHANNEL_ENV)
        env.update(extra or {})
        return env

    def amc_env(self, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """Return the environment for AMC commands (HOME, CLAUDE_CONFIG_DIR, CODEX_HOME...)."""
        env = self.env()
        env["CLAUDE_CONFIG_DIR"] = self.claude_dir
        env.update(extra or {})
        return env


def stdio_server(command: str, args: Sequence[str] = (),
                 env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Return an MCP config entry for a stdio server (`type`, `command`, `args`, `env`)."""
    entry: Dict[str, Any] = {"type": "stdio", "command": command, "args": list(args)}
    if env:
        entry["env"] = dict(env)
    return entry


def channel_argv(mcp_config: str, server: str = "amc",
                 allowed_tools: Sequence[str] = ("mcp__amc__reply",)) -> List[str]:
    """Return the Claude Code arguments that load `server` from `mcp_config` as a channel.

    `--allowedTools` lets the model call the listed tools (the channel's reply) without a
    permission prompt; its values end at the next option, so put other options after these.
    """
    argv = ["--mcp-config", mcp_config, "--dangerously-load-development-channels",
            "server:" + server]
    if allowed_tools:
        argv += ["--allowedTools", *allowed_tools]
    return argv


def accept_channel_warning(tmux: "PrivateTmux", timeout: float = 30) -> str:
    """Accept the development-channels warning (Enter) and wait for the ❯ prompt; return it."""
    tmux.wait_for(CHANNEL_WARNING, timeout=timeout)
    time.sleep(0.3)  # like any dialog it drops keys that arrive with its first paint
    tmux.send_enter()
    return tmux.wait_for(lambda screen: "\u276f" in screen and CHANNEL_WARNING not in screen,
                         timeout=timeout)


class PrivateTmux:
    """A tmux server of one's own: `tmux -L amc-test-<unique> -f /dev/null`, killed by `kill()`."""

    def __init__(self, tmux: str, env: Optional[Mapping[str, str]] = None) -> None:
        self.tmux = tmux
        self.name = "amc-test-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
        self.env = dict(clean_env() if env is None else env)
        self.pane = ""
        self._socket = ""

    def argv(self, *args: str) -> List[str]:
        """Return the argv of a tmux command on this private server."""
        return [self.tmux, "-L", self.name, "-f", "/dev/null"] + list(args)

    def run(self, *args: str, check: bool = True, timeout: float = 10) -> str:
        proc = subprocess.run(self.argv(*args), env=self.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError("tmux %s failed (%d): %s" % (
                " ".join(args), proc.returncode, proc.stderr.decode("utf-8", "replace").strip()))
        return proc.stdout.decode("utf-8", "replace")

    def new_session(self, cmd: Union[str, Sequence[str]], cwd: str,
                    env: Optional[Mapping[str, str]] = None, width: int = 200, height: int = 50,
                    session: str = "agent") -> str:
        """Start the server with `cmd` in its first pane (env = the pane's env); return pane id."""
        if env is not None:
            self.env = dict(env)  # the server (hence every pane) inherits the starting client's env
        command = cmd if isinstance(cmd, str) else " ".join(shlex.quote(c) for c in cmd)
        self.pane = self.run("new-session", "-d", "-s", session, "-x", str(width),
                             "-y", str(height), "-c", cwd, "-P", "-F", "#{pane_id}",
                             command).strip()
        self.socket_path  # remember it now: it cannot be asked once the server has exited
        return self.pane

    @property
    def socket_path(self) -> str:
        """Return the server's socket path (what $TMUX starts with inside its panes)."""
        if not self._socket:
            self._socket = self.run("display-message", "-p", "-t", self.pane or "agent",
                                    "#{socket_path}").strip()
        return self._socket

    def pane_env(self, name: str) -> str:
        out = self.run("show-environment", "-g", name, check=False).strip()
        return out.split("=", 1)[1] if "=" in out else ""

    def send_literal(self, text: str) -> None:
        self.run("send-keys", "-t", self.pane, "-l", "--", text)

    def send_keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.pane, *keys)

    def send_enter(self) -> None:
        self.send_keys("Enter")

    def type_line(self, text: str, settle: float = 0.3, timeout: float = 10) -> None:
        """Type `text`, wait until the pane shows it plus `settle` seconds, then press Enter."""
        self.send_literal(text)
        tail = text.strip().splitlines()[-1][-40:] if text.strip() else ""
        if tail:
            self.wait_for(tail, timeout=timeout)
        time.sleep(settle)
        self.send_enter()

    def capture(self) -> str:
        """Return the visible screen of the pane ('' once the pane is gone)."""
        return self.run("capture-pane", "-p", "-t", self.pane, check=False)

    def alive(self) -> bool:
        return bool(self.run("list-panes", "-a", "-F", "#{pane_id}", check=False).strip())

    def wait_for(self, what: Union[str, Callable[[str], bool]], timeout: float = 20,
                 interval: float = 0.1) -> str:
        """Poll the screen until it contains `what` (or `what(screen)`); return the screen."""
        test = what if callable(what) else (lambda screen: what in screen)
        deadline = time.monotonic() + timeout
        screen = ""
        while True:
            screen = self.capture()
            if test(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %.0fs waiting for %r on the tmux screen:\n%s"
                                     % (timeout, what, screen))
            time.sleep(interval)

    def wait_gone(self, timeout: float = 15) -> None:
        """Wait until the pane's program has exited (the server goes away with its last pane)."""
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                raise AssertionError("tmux pane still alive after %.0fs:\n%s"
                                     % (timeout, self.capture()))
            time.sleep(0.1)

    def pane_pids(self) -> List[int]:
        out = self.run("list-panes", "-a", "-F", "#{pane_pid}", check=False)
        return [int(p) for p in out.split() if p.isdigit()]

    def kill(self, grace: float = 3) -> None:
        """Kill the private server and wait for the programs in its panes to exit; never fails."""
        try:
            pids = self.pane_pids()
            self.run("kill-server", check=False, timeout=5)
        except (OSError, subprocess.SubprocessError):
            pids = []
        if self._socket:  # tmux leaves its socket file behind
            try:
                os.unlink(self._socket)
            except OSError:
                pass
        deadline = time.monotonic() + grace
        for pid in pids:  # tmux sent them SIGHUP; whoever ignores it gets SIGKILL
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    try:  # a zombie is dead for our purposes (its parent, the tmux server, is gone or reaping)
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True

