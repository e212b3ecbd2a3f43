"""The make targets, the platform check `make setup` starts with, and what
`make bench` writes: every declared target does something, an unsupported
platform is refused at once in one line, and a plain bench leaves tracked
files alone."""
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def run(args, **options):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          **options)


def make(*args):
    # The interpreter running the tests stands in for python3.
    return run(["make", "--no-print-directory", "PYTHON=" + PYTHON] + list(args))


# -- tools/checkplatform -----------------------------------------------------------

SUPPORTED = [
    ("3.10", "Linux", "x86_64", "glibc-2.28"),
    ("3.11", "Linux", "x86_64", "glibc-2.36"),
    ("3.14", "Linux", "x86_64", "glibc-2.39"),
    ("3.10", "Darwin", "arm64", "other"),
    ("3.13", "Darwin", "arm64", "other"),
]
UNSUPPORTED = [
    ("3.8", "Linux", "x86_64", "glibc-2.36", "CPython 3.8"),
    ("3.9", "Linux", "x86_64", "glibc-2.36", "CPython 3.9"),
    ("3.15", "Linux", "x86_64", "glibc-2.36", "CPython 3.15"),
    ("3.11", "Linux", "aarch64", "glibc-2.36", "Linux aarch64"),
    ("3.11", "Linux", "armv7l", "glibc-2.36", "Linux armv7l"),
    ("3.11", "Linux", "x86_64", "musl-1.2.4", "musl-1.2.4"),
    ("3.11", "Linux", "x86_64", "glibc-2.17", "glibc-2.17"),
    ("3.11", "Windows", "AMD64", "other", "Windows AMD64"),
    ("3.11", "Darwin", "x86_64", "other", "Darwin x86_64"),
]


def check(python, system, machine, libc):
    return run([PYTHON, "tools/checkplatform", "--python", python, "--system", system,
                "--machine", machine, "--libc", libc])


@pytest.mark.parametrize("python, system, machine, libc", SUPPORTED)
def test_the_platform_check_passes_where_the_wheels_are(python, system, machine, libc):
    done = check(python, system, machine, libc)
    assert done.returncode == 0 and done.stdout == done.stderr == ""


@pytest.mark.parametrize("python, system, machine, libc, named", UNSUPPORTED)
def test_the_platform_check_says_why_in_one_line(python, system, machine, libc, named):
    done = check(python, system, machine, libc)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("make setup cannot work here: ") and named in lines[0]
    assert lines[0].endswith("still installs: pip install .")


def test_the_platform_check_passes_on_this_machine():
    # The suite runs here, so make setup worked here.
    assert run([PYTHON, "tools/checkplatform"]).returncode == 0


def test_make_setup_on_an_unsupported_platform_fails_at_once():
    done = make("setup", "PLATFORM=--machine aarch64")
    assert done.returncode != 0
    assert "make setup cannot work here: Linux aarch64" in done.stderr
    # Nothing else ran: no venv, no pip.
    assert done.stdout.strip() == "", done.stdout


def test_python_requires_is_what_the_check_promises():
    setup = (ROOT / "setup.py").read_text()
    assert 'python_requires=">=3.8"' in setup
    assert "Python 3.8 or newer) still installs" in (ROOT / "tools" / "checkplatform").read_text()


# -- the make targets ----------------------------------------------------------------

def declared_targets():
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    phony = re.search(r"^\.PHONY:(.*)$", text, re.M).group(1).split()
    return phony


def test_make_help_lists_every_declared_target_with_one_line():
    done = make("help")
    assert done.returncode == 0, done.stderr
    listed = dict(re.findall(r"^  (\S+) +(\S.*)$", done.stdout, re.M))
    assert sorted(listed) == sorted(declared_targets())
    # Plain `make` says the same.
    assert make().stdout == done.stdout


def test_every_declared_target_has_a_recipe():
    for target in declared_targets():
        done = make("-n", target)
        assert done.returncode == 0, (target, done.stderr)
        # A target without a recipe: "Nothing to be done for 'build'."
        assert done.stdout.strip() and "Nothing to be done" not in done.stdout, target


def test_make_test_cpython_and_test_micropython_split_the_suite():
    assert '-m "not micropython" tests' in make("-n", "test-cpython").stdout
    assert "-m micropython tests" in make("-n", "test-micropython").stdout
    files = ["tests/mp/mp_test_app_robust.py", "tests/portable/test_rpc.py",
             "tests/test_appconfig_cpython.py"]
    collect = [PYTHON, "-m", "pytest", "--collect-only", "-o", "addopts=", "-q",
               "-p", "no:cacheprovider", "-m"]
    cpython = run(collect + ["not micropython"] + files).stdout
    micropython = run(collect + ["micropython"] + files).stdout
    items = [line for line in cpython.splitlines() if "::" in line]
    assert items and not any("[micropython]" in line for line in items)
    assert any("test_appconfig_cpython.py" in line for line in items)
    assert any("portable/test_rpc.py::" in line for line in items)
    items = [line for line in micropython.splitlines() if "::" in line]
    assert items and all(line.endswith("[micropython]") for line in items)
    assert any("mp_test_app_robust.py" in line for line in items)


def test_make_build_builds_a_board(tmp_path):
    done = make("build", "BOARD=esp32c3", "DIST=" + str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "esp32c3" / "app.mpy").read_bytes()[:1] == b"M"
    assert json.loads((tmp_path / "esp32c3" / "board.json").read_text())["name"] == "esp32c3"


# -- what make bench writes -------------------------------------------------------------

@pytest.fixture
def bench(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("uonep_bench", ROOT / "tools" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- BENCH:START -->\nold table\n<!-- BENCH:END -->\nrest\n")
    monkeypatch.setattr(module, "README", readme)
    monkeypatch.setattr(module, "RESULTS", tmp_path / "bench" / "results.json")
    monkeypatch.setattr(module, "LOCAL_RESULTS", tmp_path / ".state" / "bench" / "results.json")
    return module


def _results(bench):
    return {"machine": bench.machine(), "date": "2026-01-01 00:00 UTC", "metrics": {
        "wire_bytes_per_sample": bench.metric(20.0, 360.0, "one write per sample",
                                              "bytes/sample")}}


def test_plain_bench_leaves_the_tracked_files_alone(bench, capsys):
    before = bench.README.read_text()
    bench.report(_results(bench), {"rpc.py": (8000, 20000)}, update=False)
    assert bench.README.read_text() == before and not bench.RESULTS.exists()
    written = json.loads(bench.LOCAL_RESULTS.read_text())
    assert written["metrics"]["wire_bytes_per_sample"]["ratio"] == 0.0556
    out = capsys.readouterr().out
    assert "| wire_bytes_per_sample | 20.0 | 360.0 | 0.0556 |" in out
    assert "ratio = uonep / baseline" in out and "lower is better" in out


def test_bench_update_writes_the_results_and_the_readme_table(bench):
    bench.report(_results(bench), {"rpc.py": (8000, 20000)}, update=True)
    readme = bench.README.read_text()
    assert readme.startswith("intro\n<!-- BENCH:START -->\nMeasured 2026-01-01 00:00 UTC on ")
    assert readme.endswith("<!-- BENCH:END -->\nrest\n") and "old table" not in readme
    assert json.loads(bench.RESULTS.read_text())["date"] == "2026-01-01 00:00 UTC"
    assert not bench.LOCAL_RESULTS.exists()


def test_bench_names_the_micropython_release_not_the_language_level(bench):
    done = run([str(Path(PYTHON).parent / "micropython"), "-c",
                "import sys; print('%d.%d.%d' % sys.implementation.version[:3])"])
    release = done.stdout.strip()
    assert re.fullmatch(r"1\.\d+\.\d+", release), release
    assert bench.micropython_version().startswith("MicroPython %s" % release)
    assert "MicroPython 3.4" not in bench.machine()
