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
"""
import ast
import json
import shutil
import tempfile
from pathlib import Path

import pytest

import campaign

from mpharness import DEFAULT_HEAPSIZE, ROOT, RUNNER, run_micropython


def _module_settings(path):
    tree = ast.parse(path.read_text())
    settings = {"HEAPSIZE": DEFAULT_HEAPSIZE, "NEEDS_EMULATOR": False,
                "SEED": "tests/seeds/default.json", "HELPER": None}
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
        self.outcomes = None
        for name in names:
            yield MicroPythonItem.from_parent(self, name=name + "[micropython]", function=name)

    def outcome(self, name):
        if self.outcomes is None:
            self.outcomes = self._run()
        return self.outcomes

    def _run(self):
        scratch = tempfile.mkdtemp(prefix="uonep-mp-")
        # MicroPython's os has no getpid or mkdtemp: each module gets its own folder.
        env = {"UONEP_TMP": scratch}
        emulator = None
        if self.settings["NEEDS_EMULATOR"]:
            from uonep_host.emulator import Emulator
            emulator = Emulator(seed=str(ROOT / self.settings["SEED"])).start()
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
        for line in done.stdout.splitlines():
            if line.startswith("@@CAMPAIGN "):
                name, counts = json.loads(line[len("@@CAMPAIGN "):])
                campaign.record(name, **counts)
            if line.startswith("@@MPTEST "):
                name, status, trace = json.loads(line[len("@@MPTEST "):])
                results[name] = (status, trace)
        results["__output__"] = done.stdout[-4000:] + done.stderr[-4000:]
        return results


class MicroPythonItem(pytest.Item):
    runtime = "MicroPython"

    def __init__(self, *, function, **kwargs):
        super().__init__(**kwargs)
        self.function = function

    def runtest(self):
        results = self.parent.outcome(self.function)
        if self.function not in results:
            raise MicroPythonFailure("no result: the module crashed before this test\n"
                                     + results["__output__"])
        status, trace = results[self.function]
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
