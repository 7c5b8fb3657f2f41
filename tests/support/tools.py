"""Find or install the external tools the end-to-end tests drive, at pinned versions.

The e2e tests run the real agent CLIs (npm packages, pinned in PINS) inside a real tmux, and the
dashboard tests drive a real Chromium through Playwright for Python; the fuzz tests use Hypothesis;
the install test builds AMC's wheel with a pinned setuptools.
`AMC_TEST_CLAUDE_VERSION` / `AMC_TEST_CODEX_VERSION` run the whole suite against another version of a
CLI (installed into the same cache beside the pin). Locally a missing tool skips
the test that needs it; with `CI=true` it fails instead, so CI can never go green by silently
skipping everything. The npm packages and Playwright go to one cache shared by every checkout:
`$AMC_TEST_CACHE`, else `$XDG_CACHE_HOME/amc-tests`, else `~/.cache/amc-tests`, one directory per
`<package>-<version>`. Installs are idempotent and serialised with a lock file, so parallel test
processes do not download 400 MB twice or see half-installed trees: npm and pip install into a
scratch directory which is renamed into place only after the tool answers (`--version`, an import).

tmux, Chromium and OpenSSH's sshd come from the system (apt-get when missing and root/sudo allows). Chromium is
Debian's `chromium` package, not Playwright's download: its version follows Debian's security
updates, which an exact pin could not install, and Playwright drives it by `executable_path`.
"""
import fcntl
import os
import shutil
import subprocess
import sys
import unittest
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple

INSTALL_TIMEOUT = 900  # seconds; the CLI packages are ~400 MB each


class NpmTool(NamedTuple):
    package: str      # npm package name
    version: str      # exact pin
    slug: str         # cache directory prefix
    bin: str          # name in node_modules/.bin
    version_text: str  # what `<bin> --version` prints for the pin


PINS = {"claude": "2.1.337", "codex": "0.171.0"}  # the CLI versions the suite is checked against
VERSION_VARIABLES = {"claude": "AMC_TEST_CLAUDE_VERSION", "codex": "AMC_TEST_CODEX_VERSION"}


def cli_version(name: str, env: Optional[Mapping[str, str]] = None) -> str:
    """Return the version of CLI `name` the suite runs: its AMC_TEST_*_VERSION, else the pin."""
    env = os.environ if env is None else env
    return (env.get(VERSION_VARIABLES[name]) or "").strip() or PINS[name]


def npm_tools(env: Optional[Mapping[str, str]] = None) -> Dict[str, NpmTool]:
    """Return the agent CLIs at the versions this run uses (the pins unless overridden)."""
    claude, codex = cli_version("claude", env), cli_version("codex", env)
    return {"claude": NpmTool("@anthropic-ai/claude-code", claude, "claude-code", "claude", claude),
            "codex": NpmTool("@openai/codex", codex, "codex", "codex", codex)}


NPM_TOOLS: Dict[str, NpmTool] = npm_tools()
TOOLS = ("tmux", "claude", "codex", "chromium", "playwright", "hypothesis", "setuptools", "sshd")


class PipTool(NamedTuple):
    package: str  # PyPI name
    version: str  # exact pin
    module: str   # what must import from the target directory


PLAYWRIGHT = PipTool("playwright", "1.65.2", "playwright.sync_api")
HYPOTHESIS = PipTool("hypothesis", "6.170.17", "hypothesis")  # the fuzz tests (tests/test_fuzz_*.py)
# The wheel build of tests/test_install.py (`pip wheel --no-build-isolation`, this on PYTHONPATH:
# the image's setuptools 65 cannot build a wheel without the `wheel` package, and isolation would
# fetch the newest setuptools from PyPI on every run).
SETUPTOOLS = PipTool("setuptools", "80.9.0", "setuptools")
PIP_TOOLS: Dict[str, PipTool] = {"playwright": PLAYWRIGHT, "hypothesis": HYPOTHESIS,
                                 "setuptools": SETUPTOOLS}
CHROMIUM_PATHS = ("/usr/bin/chromium",)  # Debian's package; Playwright is pointed at it
SSHD_PATHS = ("/usr/sbin/sshd",)  # Debian's openssh-server; the remote tests run a private one


class ToolMissing(AssertionError):
    """A tool the tests need is missing in CI (an AssertionError so the test counts as failed)."""


def log(message: str) -> None:
    print("[tools] " + message, file=sys.stderr, flush=True)


def in_ci(env: Optional[Mapping[str, str]] = None) -> bool:
    """Tell whether missing tools must fail rather than skip (CI=true/1/yes)."""
    env = os.environ if env is None else env
    return env.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


def cache_dir(env: Optional[Mapping[str, str]] = None) -> str:
    """Return the install cache: AMC_TEST_CACHE, else $XDG_CACHE_HOME/amc-tests, else ~/.cache."""
    env = os.environ if env is None else env
    if env.get("AMC_TEST_CACHE"):
        return os.path.abspath(env["AMC_TEST_CACHE"])
    base = env.get("XDG_CACHE_HOME") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "amc-tests")


def npm_dir(tool: NpmTool, env: Optional[Mapping[str, str]] = None) -> str:
    """Return the directory a pinned package is installed in (`npm install --prefix`)."""
    return os.path.join(cache_dir(env), "%s-%s" % (tool.slug, tool.version))


def npm_install_argv(npm: str, prefix: str, tool: NpmTool) -> List[str]:
    """Return the npm command that installs `tool` at its pin into `prefix`."""
    return [npm, "install", "--prefix", prefix, "--save-exact", "--no-audit", "--no-fund",
            "--loglevel=error", "%s@%s" % (tool.package, tool.version)]


def _bin_path(prefix: str, tool: NpmTool) -> str:
    return os.path.join(prefix, "node_modules", ".bin", tool.bin)


def _answers_version(path: str, tool: NpmTool) -> bool:
    try:
        out = subprocess.run([path, "--version"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and tool.version_text in out.stdout.decode("utf-8", "replace")


class _Lock:
    """An exclusive flock on `path` (created), held for the `with` block."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> "_Lock":
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


_found: Dict[str, Optional[str]] = {}
_tried: set = set()  # installs that failed in this process: not retried test after test


def npm_bin(name: str, install: bool = True) -> Optional[str]:
    """Return the pinned CLI `name` ("claude"/"codex"), installing it first when allowed."""
    if _found.get(name):
        return _found[name]
    tool = NPM_TOOLS[name]
    prefix = npm_dir(tool)
    path = _bin_path(prefix, tool)
    if os.path.exists(path) and _answers_version(path, tool):
        _found[name] = path
        return path
    if not install or name in _tried:
        return None
    _tried.add(name)
    npm = shutil.which("npm")
    if not npm:
        log("cannot install %s@%s: npm is not on PATH" % (tool.package, tool.version))
        return None
    with _Lock(prefix + ".lock"):
        if os.path.exists(path) and _answers_version(path, tool):  # another process won the race
            _found[name] = path
            return path
        scratch = "%s.tmp-%d" % (prefix, os.getpid())
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch)
        log("installing %s@%s into %s ..." % (tool.package, tool.version, prefix))
        try:
            proc = subprocess.run(npm_install_argv(npm, scratch, tool), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=INSTALL_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as e:
            shutil.rmtree(scratch, ignore_errors=True)
            log("npm install failed: %s" % e)
            return None
        if proc.returncode != 0 or not _answers_version(_bin_path(scratch, tool), tool):
            shutil.rmtree(scratch, ignore_errors=True)
            log("npm install of %s@%s failed (exit %d):\n%s" % (
                tool.package, tool.version, proc.returncode,
                proc.stdout.decode("utf-8", "replace")[-3000:]))
            return None
        if os.path.exists(prefix):  # a broken earlier install
            shutil.rmtree(prefix, ignore_errors=True)
        os.rename(scratch, prefix)
        log("installed %s@%s" % (tool.package, tool.version))
    _found[name] = path
    return path


def claude_bin(install: bool = True) -> Optional[str]:
    """Return the pinned Claude Code CLI, installing it when missing."""
    return npm_bin("claude", install)


def codex_bin(install: bool = True) -> Optional[str]:
    """Return the pinned Codex CLI, installing it when missing."""
    return npm_bin("codex", install)


def _can_apt() -> Optional[List[str]]:
    """Return the argv prefix that runs apt-get as root (maybe via sudo -n), or None."""
    apt = shutil.which("apt-get")
    if not apt:
        return None
    if os.geteuid() == 0:
        return [apt]
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=10).returncode == 0:
        return [sudo, "-n", apt]
    return None


def _system_bin(name: str, candidates: Tuple[str, ...]) -> Optional[str]:
    return shutil.which(name) or next((p for p in candidates if os.access(p, os.X_OK)), None)


def _apt_installed(name: str, package: str, candidates: Tuple[str, ...],
                   install: bool) -> Optional[str]:
    """Return system binary `name`, installing Debian `package` with apt-get when missing."""
    if _found.get(name):
        return _found[name]
    found = _system_bin(name, candidates)
    if not found and install and name not in _tried:
        _tried.add(name)
        apt = _can_apt()
        if apt:
            with _Lock(os.path.join(cache_dir(), "apt.lock")):
                found = _system_bin(name, candidates)
                if not found:
                    log("installing %s with apt-get ..." % package)
                    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
                    for argv in (apt + ["install", "-y", package],
                                 apt + ["update"], apt + ["install", "-y", package]):
                        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, env=env, timeout=INSTALL_TIMEOUT)
                        found = _system_bin(name, candidates)
                        if found:
                            break
        else:
            log("%s is missing and cannot be installed here (needs apt-get and root/sudo)" % name)
    _found[name] = found
    return found


def tmux(install: bool = True) -> Optional[str]:
    """Return the tmux binary, installing it with apt-get when missing and root/sudo allows."""
    return _apt_installed("tmux", "tmux", (
        "/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"), install)


def chromium(install: bool = True) -> Optional[str]:
    """Return Debian's Chromium (/usr/bin/chromium), installing it with apt-get when missing."""
    return _apt_installed("chromium", "chromium", CHROMIUM_PATHS, install)


def sshd(install: bool = True) -> Optional[str]:
    """Return OpenSSH's server (/usr/sbin/sshd), installing openssh-server when missing."""
    return _apt_installed("sshd", "openssh-server", SSHD_PATHS, install)


def pip_dir(tool: PipTool = PLAYWRIGHT, env: Optional[Mapping[str, str]] = None) -> str:
    """Return the `pip install --target` directory of a pinned Python package."""
    return os.path.join(cache_dir(env), "pylib-%s-%s" % (tool.package, tool.version))


def pip_install_argv(python: str, target: str, tool: PipTool = PLAYWRIGHT) -> List[str]:
    """Return the pip command that installs `tool` at its pin into `target`."""
    return [python, "-m", "pip", "install", "--target", target, "--no-input",
            "--disable-pip-version-check", "--no-warn-script-location", "--quiet",
            "%s==%s" % (tool.package, tool.version)]


_IMPORT_PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import importlib, importlib.metadata
importlib.import_module(sys.argv[2])
print(importlib.metadata.version(sys.argv[3]))
"""


def _imports(target: str, tool: PipTool) -> bool:
    """Tell whether this Python imports `tool` at its pin from `target` (greenlet is ABI-bound)."""
    if not os.path.isdir(target):
        return False
    try:
        out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, target, tool.module,
                              tool.package], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.decode().split()[-1:] == [tool.version]


def pip_tool(name: str, install: bool = True) -> Optional[str]:
    """Return the directory holding pinned Python package `name` (put it on sys.path)."""
    if _found.get(name):
        return _found[name]
    tool = PIP_TOOLS[name]
    target = pip_dir(tool)
    if _imports(target, tool):
        _found[name] = target
        return target
    if not install or name in _tried:
        return None
    _tried.add(name)
    with _Lock(target + ".lock"):
        if _imports(target, tool):  # another process won the race
            _found[name] = target
            return target
        scratch = "%s.tmp-%d" % (target, os.getpid())
        shutil.rmtree(scratch, ignore_errors=True)
        log("installing %s==%s into %s ..." % (tool.package, tool.version, target))
        try:
            proc = subprocess.run(pip_install_argv(sys.executable, scratch, tool),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as e:
            shutil.rmtree(scratch, ignore_errors=True)
            log("pip install failed: %s" % e)
            return None
        if proc.returncode != 0 or not _imports(scratch, tool):
            shutil.rmtree(scratch, ignore_errors=True)
            log("pip install of %s==%s failed (exit %d):\n%s" % (
                tool.package, tool.version, proc.returncode,
                proc.stdout.decode("utf-8", "replace")[-3000:]))
            return None
        if os.path.exists(target):  # a broken earlier install, or one built for another Python
            shutil.rmtree(target, ignore_errors=True)
        os.rename(scratch, target)
        log("installed %s==%s" % (tool.package, tool.version))
    _found[name] = target
    return target


def playwright(install: bool = True) -> Optional[str]:
    """Return the directory holding Playwright for Python at its pin (put it on sys.path)."""
    return pip_tool("playwright", install)


def hypothesis(install: bool = True) -> Optional[str]:
    """Return the directory holding Hypothesis at its pin (put it on sys.path)."""
    return pip_tool("hypothesis", install)


def setuptools(install: bool = True) -> Optional[str]:
    """Return the directory holding setuptools at its pin (the wheel build's backend)."""
    return pip_tool("setuptools", install)


FINDERS: Dict[str, Callable[..., Optional[str]]] = {
    "tmux": tmux, "claude": claude_bin, "codex": codex_bin, "chromium": chromium,
    "playwright": playwright, "hypothesis": hypothesis, "setuptools": setuptools,
    "sshd": sshd}


def require(name: str) -> str:
    """Return tool `name`'s path; if it is missing, skip the test, or fail it under CI=true."""
    path = FINDERS[name]()
    if path:
        return path
    message = "required test tool %r is missing and could not be installed" % name
    if name in NPM_TOOLS:
        tool = NPM_TOOLS[name]
        message += " (wanted %s@%s in %s; needs node + npm and the npm registry)" % (
            tool.package, tool.version, npm_dir(tool))
    elif name == "chromium":
        message += " (wanted Debian's chromium at %s; needs apt-get and root/sudo)" % (
            CHROMIUM_PATHS[0],)
    elif name == "sshd":
        message += " (wanted Debian's openssh-server at %s; needs apt-get and root/sudo)" % (
            SSHD_PATHS[0],)
    elif name in PIP_TOOLS:
        tool = PIP_TOOLS[name]
        message += " (wanted %s==%s in %s; needs pip and PyPI)" % (
            tool.package, tool.version, pip_dir(tool))
    if in_ci():
        raise ToolMissing(message + "; CI=true, so this is a failure, not a skip")
    raise unittest.SkipTest(message)


def ensure_all(verbose: bool = True) -> Dict[str, Optional[str]]:
    """Find or install every tool up front; return name -> path (None when unavailable)."""
    found = {name: FINDERS[name]() for name in TOOLS}
    if verbose:
        for name in TOOLS:
            log("%-10s %s" % (name, found[name] or "MISSING"))
    return found


if __name__ == "__main__":
    missing = [n for n, p in ensure_all().items() if not p]
    sys.exit(1 if missing and in_ci() else 0)
