"""Runs the MicroPython side of the suite from pytest and counts tests per runtime.

- tests/mp/mp_test_*.py run only inside MicroPython's unix port.
- tests/portable/test_*.py run under CPython (as ordinary pytest modules) and
  again inside MicroPython.
A MicroPython module runs once, in one interpreter, and each of its test_*
functions becomes a pytest item named NAME[micropython]. A module may set
HEAPSIZE = "256k" and NEEDS_EMULATOR = True (then it gets UONEP_EMULATOR_URL
pointing at a fresh emulator seeded with tests/seeds/default.json, or with
the seed file named by SEED = "tests/seeds/NAME.json"). Every module gets an
empty scratch folder in UONEP_TMP. HELPER = "name" starts tests/name.py's
Helper(scratch) around the module and adds its .env to the environment.

MicroPython modules are independent processes: they all start in the
background as soon as collection ends, on as many workers as there are
cores, while pytest goes on with the CPython tests. A long campaign module
may set SHARDS = N: it then runs as N processes with UONEP_SHARD="i/N"
(see campaign.shard()), each doing its share of the cut points; a test
passes when it passes in every shard, and the campaign counts add up. A
line is printed as each MicroPython module ends, so a long run shows progress.
"""
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import campaign

from mpharness import DEFAULT_HEAPSIZE, ROOT, RUNNER, owned_environment, run_micropython


def _module_settings(path):
    tree = ast.parse(path.read_text())
    settings = {"HEAPSIZE": DEFAULT_HEAPSIZE, "NEEDS_EMULATOR": False,
                "SEED": "tests/seeds/default.json", "SHARDS": 1, "HELPER": None}
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            names.append(node.name)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in settings:
                settings[target.id] = ast.literal_eval(node.value)
    return sorted(names), settings


class MicroPythonModule(pytest.File):
    def collect(self):
        names, self.settings = _module_settings(self.path)
        for name in names:
            yield MicroPythonItem.from_parent(self, name=name + "[micropython]", test_name=name)

    def start(self, pool):
        """Submit every shard of this module to the pool."""
        shards = self.settings["SHARDS"]
        self.futures = [pool.submit(self._run_shard, index, shards) for index in range(shards)]

    def outcome(self):
        """{test name: (status, trace)} over every shard, waiting for them."""
        if not hasattr(self, "outcomes"):
            if not hasattr(self, "futures"):
                # Run alone (a module given by node id to a custom session).
                self.futures = [_inline(self._run_shard, index, self.settings["SHARDS"])
                                for index in range(self.settings["SHARDS"])]
            merged = {}
            output = []
            for future in self.futures:
                while not future.done():
                    # Waiting on a long campaign: say which modules ended meanwhile.
                    _show_progress()
                    time.sleep(0.5)
                results, text = future.result()
                output.append(text)
                for name, (status, trace) in results.items():
                    if name not in merged or status != "PASS":
                        merged[name] = (status, trace)
            merged["__output__"] = "".join(output)
            self.outcomes = merged
        return self.outcomes

    def _run_shard(self, index, shards):
        # Whatever goes wrong here (a helper that cannot start, output that
        # cannot be parsed) must reach the report as this module's failure
        # with its cause, not as a pytest-internal traceback.
        try:
            return self._run_shard_unguarded(index, shards)
        except Exception:
            import traceback
            return {}, "the module's run failed in the test harness:\n" + traceback.format_exc()

    def _run_shard_unguarded(self, index, shards):
        started = time.monotonic()
        scratch = tempfile.mkdtemp(prefix="uonep-mp-")
        # MicroPython's os has no getpid or mkdtemp: each process gets its own folder.
        env = {"UONEP_TMP": scratch, "UONEP_SHARD": "%d/%d" % (index, shards)}
        emulator = None
        if self.settings["NEEDS_EMULATOR"]:
            emulator = _EmulatorProcess(ROOT / self.settings["SEED"])
            env["UONEP_EMULATOR_URL"] = emulator.url
        helper = None
        if self.settings["HELPER"]:
            import importlib
            helper = importlib.import_module(self.settings["HELPER"]).Helper(scratch).start()
            env.update(helper.env)
        try:
            done = run_micropython([str(RUNNER), str(self.path)],
                                   heapsize=self.settings["HEAPSIZE"], env=env)
        finally:
            if emulator is not None:
                emulator.stop()
            if helper is not None:
                helper.stop()
            shutil.rmtree(scratch, ignore_errors=True)
        results = {}
        counts = []
        for line in done.stdout.splitlines():
            if line.startswith("@@CAMPAIGN "):
                counts.append(json.loads(line[len("@@CAMPAIGN "):]))
            if line.startswith("@@MPTEST "):
                name, status, trace = json.loads(line[len("@@MPTEST "):])
                results[name] = (status, trace)
        with _LOCK:
            for name, numbers in counts:
                campaign.record(name, **numbers)
        failed = sum(1 for status, _ in results.values() if status != "PASS")
        label = self.path.name + ("" if shards == 1 else " [shard %d/%d]" % (index + 1, shards))
        _PROGRESS.append("MicroPython %s: %d tests, %d failed, %.0f s%s" % (
            label, len(results), failed, time.monotonic() - started,
            "".join("; %s %s" % (name, numbers) for name, numbers in counts)))
        return results, done.stdout[-4000:] + done.stderr[-4000:]


class _EmulatorProcess:
    """An emulator in a process of its own: in this one it would share the
    GIL with the CPython tests running meanwhile, and answer late."""

    _SCRIPT = ("import sys; from uonep_host.emulator import Emulator; "
               "e = Emulator(seed=sys.argv[1]).start(); print(e.url, flush=True); "
               "sys.stdin.read(); e.stop()")

    def __init__(self, seed):
        self.process = subprocess.Popen(
            [sys.executable, "-c", self._SCRIPT, str(seed)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env=owned_environment())
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.stop()
            raise RuntimeError("the emulator for MicroPython tests did not start")

    def stop(self):
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


class _inline:
    """A finished future, for a module run outside the pool."""

    def __init__(self, function, *args):
        self.value = function(*args)

    def done(self):
        return True

    def result(self):
        return self.value


_LOCK = threading.Lock()
_PROGRESS = []
_POOL = []


class MicroPythonItem(pytest.Item):
    runtime = "MicroPython"

    def __init__(self, *, test_name, **kwargs):
        super().__init__(**kwargs)
        # Not `function`: pytest's -k matching reads item.function.__dict__.
        self.test_name = test_name
        # `make test-cpython` / `make test-micropython` select by this marker.
        self.add_marker("micropython")

    def runtest(self):
        results = self.parent.outcome()
        if self.test_name not in results:
            raise MicroPythonFailure("no result: the module crashed before this test\n"
                                     + results["__output__"])
        status, trace = results[self.test_name]
        if status != "PASS":
            raise MicroPythonFailure(trace)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return "MicroPython: " + str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, "micropython: " + self.name


class MicroPythonFailure(Exception):
    pass


def pytest_collect_file(parent, file_path):
    relative = file_path.relative_to(ROOT).as_posix()
    if file_path.suffix != ".py":
        return None
    if relative.startswith("tests/mp/mp_test_") or relative.startswith("tests/portable/test_"):
        return MicroPythonModule.from_parent(parent, path=file_path, name=file_path.name + "::mp")
    return None


def pytest_collection_modifyitems(items):
    """MicroPython results are collected last: the CPython tests run while
    the MicroPython processes work in the background."""
    items.sort(key=lambda item: isinstance(item, MicroPythonItem))


def pytest_collection_finish(session):
    """Start every MicroPython module in the background, longest first."""
    if session.config.option.collectonly:
        return
    modules = []
    for item in session.items:
        module = item.parent if isinstance(item, MicroPythonItem) else None
        if module is not None and module not in modules:
            modules.append(module)
    if not modules:
        return
    workers = int(os.environ.get("UONEP_MP_WORKERS") or os.cpu_count() or 2)
    pool = ThreadPoolExecutor(max_workers=workers)
    _POOL.append(pool)
    # Campaigns (sharded, big heaps) first: the pool drains the short ones after.
    modules.sort(key=lambda module: -module.settings["SHARDS"])
    for module in modules:
        module.start(pool)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("MicroPython: %d modules started on %d workers" % (
            len(modules), workers))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_logreport(report):
    yield
    _show_progress()


def _show_progress():
    """Print the lines of MicroPython modules that ended since last time."""
    while _PROGRESS:
        line = _PROGRESS.pop(0)
        reporter = _CONFIG[0].pluginmanager.get_plugin("terminalreporter") if _CONFIG else None
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(line)


_CONFIG = []


def pytest_configure(config):
    _CONFIG.append(config)


def pytest_sessionfinish(session):
    for pool in _POOL:
        pool.shutdown(wait=True)
    _show_progress()


def pytest_terminal_summary(terminalreporter):
    for line in campaign.summary_lines():
        terminalreporter.write_line(line)
    counts = {"CPython": {}, "MicroPython": {}}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome == "passed":
                continue
            runtime = "MicroPython" if "[micropython]" in report.nodeid else "CPython"
            counts[runtime][outcome] = counts[runtime].get(outcome, 0) + 1
    for runtime in ("CPython", "MicroPython"):
        parts = counts[runtime]
        total = sum(parts.values())
        terminalreporter.write_line("%s: %d tests ran (%s)" % (
            runtime, total, ", ".join("%d %s" % (n, k) for k, n in sorted(parts.items())) or "none"))


class _NotForCPython(pytest.File):
    def collect(self):
        return []


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path, parent):
    """tests/mp files given on the command line are MicroPython-only: keep
    CPython's collector from importing them."""
    if module_path.relative_to(ROOT).as_posix().startswith("tests/mp/"):
        return _NotForCPython.from_parent(parent, path=module_path)
    return None
