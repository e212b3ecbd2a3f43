"""Runs MicroPython's unix port with the project's path (used by conftest and tests)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MICROPYTHON = Path(sys.executable).parent / "micropython"
RUNNER = ROOT / "tests" / "mp" / "runner.py"
DEFAULT_HEAPSIZE = "512k"
MODULE_TIMEOUT = 900


def micropython_path():
    """sys.path for MicroPython tests: the core, the test helpers, the boards,
    and shim/ for the emulator's control client (the one module of
    uonep_host written to run under MicroPython too)."""
    return ":".join(str(ROOT / part) for part in
                    ("firmware", "tests", "tests/mp", "tests/portable", "boards", "shim"))


def owned_environment():
    """A copy of the environment for a child started from a background
    thread. Without env= the child is given the C library's live `environ`,
    and a test in the main thread that sets a variable meanwhile (monkeypatch
    .setenv) can free it under the exec: the spawn fails with EFAULT ("Bad
    address"), as a CI run did."""
    return dict(os.environ)


def run_micropython(args, heapsize=DEFAULT_HEAPSIZE, env=None, timeout=MODULE_TIMEOUT, cwd=None):
    """Run the unix port with the project's path; returns CompletedProcess.
    Output bytes that are not UTF-8 (a test printing what a server sent)
    come out as U+FFFD instead of failing the whole module."""
    environment = owned_environment()
    environment["MICROPYPATH"] = micropython_path() + ":.frozen"
    environment.update(env or {})
    return subprocess.run([str(MICROPYTHON), "-X", "heapsize=" + heapsize] + list(args),
                          capture_output=True, text=True, errors="replace", timeout=timeout,
                          env=environment, cwd=cwd or str(ROOT))
