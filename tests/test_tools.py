"""The developer tools: deploy (dry run), build, the mip package, the freeze
manifest, the .mpy bundle running on the unix port, and `make demo`."""

import json
import os
import re
import socket
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MICROPYTHON = str(Path(sys.executable).parent / "micropython")
PASSWORD = "wifi-password-of-the-test"


def run(args, **options):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          **options)


# -- deploy ---------------------------------------------------------------------

def test_deploy_dry_run_prints_the_commands(tmp_path):
    secrets = tmp_path / "secrets.json"
    secrets.write_text('{"wifi": {"ssid": "x", "password": "y"}}')
    done = run([PYTHON, "tools/deploy", "--board", "esp32s3", "--port", "/dev/ttyACM0",
                "--secrets", str(secrets), "--dry-run"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "mpy-cross" in out and "board.mpy" in out and "boards/esp32/board.py" in out
    assert "boards/esp32s3/profile.json" in out
    copy = [line for line in out.splitlines() if "cp -r lib :" in line][0]
    assert "mpremote connect /dev/ttyACM0" in copy
    assert ("cp app.mpy appconfig.mpy board.json board.mpy boardbase.mpy boot_select.mpy "
            "bringup.mpy configfiles.mpy connection.mpy launch.mpy main.py profilecheck.mpy report.mpy "
            "sampling.mpy scheduler.mpy settings.mpy startup.mpy update.mpy :") in copy
    assert str(secrets) + " :secrets.json" in copy and copy.rstrip(")").endswith("+ reset")
    assert any(line.rstrip(")").endswith("repl") for line in out.splitlines())
    assert "WARNING" not in done.stderr


def test_deploy_warns_when_the_secrets_file_is_tracked():
    tracked = run(["git", "ls-files", "README.md"]).stdout.strip()
    assert tracked == "README.md"
    done = run([PYTHON, "tools/deploy", "--secrets", "README.md", "--dry-run"])
    assert done.returncode == 0
    assert "WARNING: README.md is tracked by git" in done.stderr
    # A path relative to wherever the user stands, not to the repository.
    elsewhere = subprocess.run([PYTHON, str(ROOT / "tools" / "deploy"), "--secrets",
                                "../README.md", "--dry-run"], cwd=ROOT / "tools",
                               capture_output=True, text=True, timeout=300)
    assert "WARNING: ../README.md is tracked by git" in elsewhere.stderr


def test_deploy_refuses_a_missing_secrets_file(tmp_path):
    missing = str(tmp_path / "secrets.json")
    done = run([PYTHON, "tools/deploy", "--secrets", missing])
    assert done.returncode != 0 and "no secrets file" in done.stderr
    assert "mpremote" not in done.stdout


def test_deploy_prints_absolute_paths():
    done = subprocess.run([PYTHON, str(ROOT / "tools" / "deploy"), "--board", "esp32s3",
                           "--no-secrets", "--dry-run"], cwd=ROOT / "tools",
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    places = re.findall(r"^\(cd (\S+) && ", done.stdout, re.M)
    # The lines run as printed from anywhere, here from tools/.
    assert places == [str(ROOT / "dist" / "esp32s3")] * 2, done.stdout


def test_deploy_refuses_a_board_without_hardware():
    done = run([PYTHON, "tools/deploy", "--board", "unix", "--no-secrets", "--dry-run"])
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "deploy: board unix has no hardware to deploy to (the host simulates it): run it "
        "with `make demo` or `micropython firmware/main.py --board boards/unix`"]
    assert done.stdout == ""


def test_deploy_fails_when_the_copy_fails_without_following(tmp_path):
    # The real mpremote, on a serial port that is not there.
    done = run([PYTHON, "tools/deploy", "--board", "esp32", "--port", "/dev/uonep-no-such-port",
                "--no-secrets", "--no-follow", "--out", str(tmp_path)])
    assert done.returncode != 0
    assert "deploy: copying to the board failed (mpremote exited with" in done.stderr
    assert "(cd %s && " % (tmp_path / "esp32") in done.stdout
    assert (tmp_path / "esp32" / "app.mpy").exists()
    assert "Traceback" not in done.stderr


def test_deploy_fails_when_the_build_fails(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    done = run([PYTHON, "tools/deploy", "--board", "esp32", "--no-secrets", "--no-follow",
                "--out", str(blocked)])
    assert done.returncode != 0
    assert done.stderr.startswith("deploy: building %s failed: " % (blocked / "esp32"))
    assert "Traceback" not in done.stderr and "mpremote" not in done.stdout


def test_deploy_without_secrets_copies_none():
    done = run([PYTHON, "tools/deploy", "--no-secrets", "--no-follow", "--dry-run"])
    assert done.returncode == 0
    assert "secrets.json" not in done.stdout and " repl" not in done.stdout


# -- build ----------------------------------------------------------------------

def test_build_dry_run_lays_out_dist():
    done = run([PYTHON, "tools/build", "--board", "esp32c3", "--dry-run"])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    dist = str(ROOT / "dist" / "esp32c3")
    assert dist + "/lib/uonep/client.mpy " in done.stdout
    assert any(line.endswith("boards/esp32c3/profile.json " + dist + "/board.json")
               for line in lines)
    # Nothing is built: every line is a command it would run.
    assert all(line.startswith("cp ") or "mpy-cross " in line for line in lines)
    # The core without line numbers, the app and the glue with theirs.
    compiled = [line for line in lines if "mpy-cross " in line]
    core = [line for line in compiled if "/lib/uonep/" in line]
    assert len(core) > 10 and all("mpy-cross -O3 -s uonep/" in line for line in core)
    assert all("-O3" not in line for line in compiled if line not in core)
    assert any("mpy-cross -s app.py " in line for line in compiled)
    kept = run([PYTHON, "tools/build", "--board", "esp32c3", "--dry-run", "--lines"])
    assert kept.returncode == 0 and "mpy-cross -s uonep/journal.py " in kept.stdout
    assert "-O3" not in kept.stdout


@pytest.mark.parametrize("lines", [False, True])
def test_a_traceback_through_the_built_core_names_file_and_function(tmp_path, lines):
    # What -O3 leaves in the core's tracebacks: the file and the function,
    # without the line number (--lines keeps it).
    command = [PYTHON, "tools/build", "--board", "unix", "--out", str(tmp_path)]
    assert run(command + (["--lines"] if lines else [])).returncode == 0
    script = ("import sys\nfrom uonep.journal import Journal\n"
              "journal = Journal('%s/journal')\njournal.close()\n"
              "try:\n    journal.commit(b'x')\n"
              "except Exception as failure:\n    sys.print_exception(failure)\n" % tmp_path)
    done = run([MICROPYTHON, "-c", script],
               env=dict(os.environ, MICROPYPATH=str(tmp_path / "unix" / "lib")))
    assert done.returncode == 0, done.stderr
    found = re.findall(r'File "uonep/journal.py", line (\d+), in (\w+)', done.stdout)
    assert [name for _, name in found] == ["commit", "_check"], done.stdout
    assert "JournalError" in done.stdout and "closed" in done.stdout, done.stdout
    numbers = {int(number) for number, _ in found}
    assert (numbers != {1}) if lines else (numbers == {1}), done.stdout


def test_build_prints_sizes_per_file_and_total(tmp_path):
    done = run([PYTHON, "tools/build", "--board", "esp32", "--out", str(tmp_path)])
    assert done.returncode == 0, done.stderr
    sizes = dict(re.findall(r"^\s+(\S+)\s+(\d+) bytes$", done.stdout, re.M))
    total = int(sizes.pop("total"))
    assert total == sum(int(size) for size in sizes.values())
    for name in ("lib/uonep/rpc.mpy", "lib/uonep/journal.mpy", "app.mpy", "appconfig.mpy",
                 "board.mpy", "board.json", "main.py"):
        path = tmp_path / "esp32" / name
        assert path.stat().st_size == int(sizes[name]), name
    assert (tmp_path / "esp32" / "app.mpy").read_bytes()[:1] == b"M"
    assert json.loads((tmp_path / "esp32" / "board.json").read_text())["name"] == "esp32"


def test_the_mpy_bundle_runs_on_the_unix_port(tmp_path):
    from uonep_host.emulator import Emulator
    assert run([PYTHON, "tools/build", "--board", "unix", "--out", str(tmp_path)]).returncode == 0
    bundle = tmp_path / "unix"
    with Emulator(seed=str(ROOT / "tests" / "seeds" / "default.json")) as emulator:
        secrets = tmp_path / "secrets.json"
        secrets.write_text(json.dumps({"wifi": {"ssid": "x", "password": PASSWORD},
                                       "cik": "1" * 40, "server": emulator.url}))
        environment = dict(os.environ, MICROPYPATH="%s:.frozen" % (bundle / "lib"))
        done = run([MICROPYTHON, str(bundle / "main.py"), "--board", str(bundle),
                    "--secrets", str(secrets),
                    "--set", "storage.image=%s" % json.dumps(str(tmp_path / "flash.img")),
                    "--set", "simulation.control=%s" % json.dumps(emulator.url),
                    "--set", "run_for=600"], env=environment)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "committed=10" in done.stdout
        counts = [value for _, value in emulator.points("1" * 40, "count")]
        assert counts == list(range(1, 11))
        # The log a board prints on its console holds no secret.
        assert "1" * 40 not in done.stdout and PASSWORD not in done.stdout


def test_main_without_secrets_says_so_once_and_keeps_sampling(tmp_path):
    # The real entry point, as a board runs it: no crash, no reset loop.
    missing = tmp_path / "secrets.json"
    done = run([MICROPYTHON, "firmware/main.py", "--board", "boards/unix",
                "--secrets", str(missing),
                "--set", "storage.image=%s" % json.dumps(str(tmp_path / "flash.img")),
                "--set", "run_for=600"],
               env=dict(os.environ, MICROPYPATH="%s:.frozen" % (ROOT / "firmware")))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("config: secrets file %s is missing" % missing) == 1, done.stdout
    assert "committed=10" in done.stdout and "Traceback" not in done.stdout + done.stderr


# -- mip and freezing -------------------------------------------------------------

@pytest.fixture
def loopback_server():
    handler = partial(_QuietHandler, directory=str(ROOT))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_mip_installs_the_package_from_a_loopback_server(loopback_server, tmp_path):
    target = tmp_path / "lib"
    done = run([MICROPYTHON, "-c", "import mip; mip.install('%s/firmware/package.json', "
                "target='%s')" % (loopback_server, target)])
    assert done.returncode == 0 and "Done" in done.stdout, done.stdout + done.stderr
    package = json.loads((ROOT / "firmware" / "package.json").read_text())
    for destination, source in package["urls"]:
        assert (target / destination).read_bytes() == (ROOT / "firmware" / source).read_bytes()
    # Every module of the core is in the package.
    listed = {destination for destination, _ in package["urls"]}
    for path in (ROOT / "firmware" / "uonep").glob("*.py"):
        assert "uonep/" + path.name in listed, path.name
    imported = run([MICROPYTHON, "-c", "import uonep, app; print(uonep.__version__)"],
                   env=dict(os.environ, MICROPYPATH="%s:.frozen" % target))
    assert imported.stdout.strip() == package["version"], imported.stderr


def test_the_manifest_names_existing_files():
    calls = []
    names = {"include": lambda path, **kw: calls.append(("include", path, kw)),
             "package": lambda name, **kw: calls.append(("package", name, kw)),
             "module": lambda name, **kw: calls.append(("module", name, kw))}
    exec((ROOT / "firmware" / "manifest.py").read_text(), names)
    for kind, name, options in calls:
        base = (ROOT / "firmware" / options.get("base_path", ".")).resolve()
        if kind == "package":
            assert (base / name / "__init__.py").exists(), name
        elif kind == "module":
            assert (base / name).exists(), name
    assert ("package", "uonep", {}) in calls


# -- make demo ----------------------------------------------------------------------

def _processes_mentioning(text):
    """Commands mentioning text of processes started from this checkout
    (other checkouts on the machine may run their own demo meanwhile)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                here = str(ROOT) in command or (entry / "cwd").resolve() == ROOT
            except OSError:
                continue
            if text in command and here:
                found.append(command)
    return found


def test_demo_runs_end_to_end():
    done = run([PYTHON, "tools/demo.py"])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "outage" in out
    # The table: one row per point read back, (ISO time, dataport, value).
    rows = re.findall(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) +(temp|count|status) +(\S+)$",
                      out, re.M)
    counts = [int(value) for _, alias, value in rows if alias == "count"]
    assert counts == list(range(1, 61))
    assert len([row for row in rows if row[1] == "temp"]) == 60
    assert "%d points read back" % len(rows) in out
    assert "check: 60 samples committed, 60 arrived, none missing" in out
    url = re.search(r"emulator page: (https://127\.0\.0\.1:(\d+)/)", out)
    assert url
    # The device took the verified TLS path (an unverified or plain one
    # would not have needed the pinned CA).
    assert "emulator: https://" in out and "CertificateError" not in out
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(url.group(2))), timeout=1).close()
    assert not _processes_mentioning("boards/unix --secrets")
    assert "demo-password" not in out
    assert "d" * 8 + "0e5e" * 8 not in out  # the CIK activation handed out
