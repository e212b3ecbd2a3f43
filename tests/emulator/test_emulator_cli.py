"""The command lines as a user runs them (real subprocesses): the server
works from any folder, makes its --db folder, uses the packaged default
seed unless told otherwise, and every failure is one line, never a
traceback, with a non-zero exit status."""

import json
import signal
import socket
import subprocess
import sys

import pytest

from emulator_helpers import over_http

SERVER = [sys.executable, "-m", "uonep_host.emulator"]
FAULTS = [sys.executable, "-m", "uonep_host.emulator.faults"]
# serving fails at once: the run loop must say so in one line and exit 1
FAILING_SERVER = ("import sys; from uonep_host.emulator import server\n"
                  "def fail(self, poll_interval): raise OSError('the socket broke')\n"
                  "server._Server.serve_forever = fail\n"
                  "from uonep_host.emulator.__main__ import main\n"
                  "sys.exit(main(['--seed', 'none', '--quiet']))")


def start(arguments, cwd):
    """A running server and the URL its first line names."""
    process = subprocess.Popen(SERVER + arguments, cwd=str(cwd), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    if "http://" not in first:
        process.kill()
        raise AssertionError("no listening line: %r %r" % (first, process.communicate()))
    return process, first, first[first.index("http://"):].split()[0]


def stop(process):
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    return process.returncode, out, err


def test_runs_anywhere_with_the_default_seed_and_makes_the_db_folder(tmp_path):
    process, first, url = start(["--port", "0", "--db", ".state/deep/onep.sqlite", "--quiet"],
                                tmp_path)
    try:
        assert "seed default" in first and (tmp_path / ".state" / "deep").is_dir()
        rpc = over_http(url)
        rpc.ok("write", {"alias": "temp"}, 20.5)      # the default seed's client
        assert rpc.ok("read", {"alias": "count"}, {}) == []
    finally:
        status, out, err = stop(process)
    assert status == 0 and out == "uonep emulator stopped\n" and err == ""
    assert (tmp_path / ".state" / "deep" / "onep.sqlite").is_file()


def test_seed_none_starts_empty(tmp_path):
    process, first, url = start(["--seed", "none", "--quiet"], tmp_path)
    try:
        assert "seed none" in first
        assert over_http(url).call("read", {"alias": "temp"}, {})["error"]["code"] == 401
    finally:
        assert stop(process)[0] == 0


def _occupied_port():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    return holder


def _closed_port():
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cases(tmp_path, holder):
    (tmp_path / "not-json.json").write_text("{oops")
    (tmp_path / "bad-seed.json").write_text(json.dumps({"clients": [{"cik": "short"}]}))
    (tmp_path / "odd-seed.json").write_text(json.dumps({"clients": 5}))
    (tmp_path / "text.sqlite").write_text("not a database " * 100)
    (tmp_path / "a-file").write_text("")
    return {
        "missing seed": (SERVER + ["--seed", "nowhere.json"], "nowhere.json"),
        "seed not JSON": (SERVER + ["--seed", "not-json.json"], "not a JSON file"),
        "seed not a seed": (SERVER + ["--seed", "bad-seed.json"], "not a valid seed"),
        "seed of a wrong shape": (SERVER + ["--seed", "odd-seed.json"], "not a valid seed"),
        "db is a folder": (SERVER + ["--db", str(tmp_path)], "is a folder"),
        "db is not SQLite": (SERVER + ["--db", "text.sqlite"], "not a usable SQLite file"),
        "db under a file": (SERVER + ["--db", "a-file/onep.sqlite"], "is not a folder"),
        "port taken": (SERVER + ["--port", str(holder.getsockname()[1])], "cannot listen"),
        "port out of range": (SERVER + ["--port", "70000"], "0 to 65535"),
        "port not a number": (SERVER + ["--port", "eighty"], "not a port number"),
        "unknown argument": (SERVER + ["--colour", "red"], "unrecognized arguments"),
        "server stops serving": ([sys.executable, "-c", FAILING_SERVER], "the socket broke"),
        "faults: no server": (FAULTS + ["--url", "http://127.0.0.1:%d" % _closed_port(), "list"],
                              "cannot reach the emulator at http://127.0.0.1:"),
    }


@pytest.fixture(scope="module")
def failures(tmp_path_factory):
    """Every failing command line, run at once: {case: (status, stdout, stderr, expected)}."""
    folder = tmp_path_factory.mktemp("cli")
    holder = _occupied_port()
    try:
        cases = _cases(folder, holder)
        running = {name: (subprocess.Popen(command, cwd=str(folder), stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True), expected)
                   for name, (command, expected) in cases.items()}
        results = {}
        for name, (process, expected) in running.items():
            try:
                out, err = process.communicate(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
            results[name] = (process.returncode, out, err, expected)
        return results
    finally:
        holder.close()


@pytest.mark.parametrize("case", ["missing seed", "seed not JSON", "seed not a seed",
                                  "seed of a wrong shape", "db is a folder", "db is not SQLite",
                                  "db under a file", "port taken", "port out of range",
                                  "port not a number", "unknown argument",
                                  "server stops serving", "faults: no server"])
def test_a_failure_is_one_line_and_a_non_zero_exit(failures, case):
    status, out, err, expected = failures[case]
    assert status != 0, (out, err)
    assert "Traceback" not in err, err
    if case != "server stops serving":
        assert "listening" not in out, out
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert expected in err, err


def test_exit_statuses(failures):
    assert failures["port out of range"][0] == 2 and failures["unknown argument"][0] == 2
    assert failures["missing seed"][0] == 1 and failures["port taken"][0] == 1
    assert failures["server stops serving"][0] == 1 and failures["faults: no server"][0] == 1
