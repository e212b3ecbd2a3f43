"""The app's update end to end: tools/release publishes to the emulator, and
the unix board, firmware/main.py of the .mpy bundle under MicroPython, boots
again and again on one flash image (its journal) and one update folder:

1. version 2 (the app set as built) is fetched after a push and runs from
   the next boot, on trial until its first push confirms it;
2. version 3 raises at import: main.py rolls back to version 2 in the same
   boot, and version 3 is not fetched again;
3. version 4 imports but never pushes: after its 3 boots on trial the boot
   selector rolls back to version 2, which pushes the backlog.

Every sample committed in any boot reaches the emulator (each boot has a
simulated day of its own, so timestamps never collide)."""

import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MICROPYTHON = str(Path(sys.executable).parent / "micropython")
DEVICE_CIK = "2" * 40
TOKEN = "3" * 40
DAY = 86400
WORLD = 1767225600


def load_tool(name):
    loader = importlib.machinery.SourceFileLoader("uonep_" + name, str(ROOT / "tools" / name))
    spec = importlib.util.spec_from_loader("uonep_" + name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


release = load_tool("release")


def compiled(folder, name, source):
    """A module of the test's own, compiled as tools/release compiles the app."""
    folder = Path(folder) / "own"
    folder.mkdir(exist_ok=True)
    path = folder / (name + ".py")
    path.write_text(source)
    target = folder / (name + ".mpy")
    subprocess.run([load_tool("build").mpy_cross(), "-o", str(target), str(path)], check=True)
    return target


class Device:
    """The unix board as one device: a bundle, a flash image, an update
    folder, and a boot counter (each boot a new MicroPython process)."""

    def __init__(self, folder, url):
        self.folder = Path(folder)
        self.url = url
        self.boots = 0
        self.committed = 0
        self.logs = []
        done = subprocess.run([sys.executable, "tools/build", "--board", "unix", "--out",
                               str(self.folder)], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        self.bundle = self.folder / "unix"
        self.secrets = self.folder / "secrets.json"
        self.secrets.write_text(json.dumps({"wifi": {"ssid": "x", "password": "y"},
                                            "vendor": "acme", "model": "m1",
                                            "server": url}))
        self.update = self.folder / "update"

    def boot(self, seconds=300):
        self.boots += 1
        settings = {"storage.image": str(self.folder / "flash.img"),
                    "simulation.control": self.url,
                    "simulation.world_start": WORLD + self.boots * DAY,
                    # Serial 0001 of acme/m1: it activates on its first boot.
                    "simulation.unique_id": "0001",
                    "sensors": [{"alias": "temp", "kind": "simulated"}],
                    "push.every_samples": 2, "update.content_id": "app",
                    "update.every_pushes": 1, "run_for": seconds}
        command = [MICROPYTHON, "-X", "heapsize=256k", str(self.bundle / "main.py"), "--board",
                   str(self.bundle), "--secrets", str(self.secrets), "--update",
                   str(self.update)]
        for key, value in settings.items():
            command += ["--set", "%s=%s" % (key, json.dumps(value))]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              env=dict(os.environ,
                                       MICROPYPATH="%s:.frozen" % (self.bundle / "lib")))
        output = done.stdout + done.stderr
        self.logs.append(output)
        assert done.returncode == 0 and "Traceback" not in output, output
        found = re.findall(r"run over: .*\bcommitted=(\d+)", output)
        assert found, output
        self.committed += int(found[-1])
        return output

    def state(self):
        return json.loads((self.update / "state").read_text())


@pytest.fixture
def device(tmp_path):
    from uonep_host.emulator import DEFAULT_SEED, Emulator
    with Emulator(seed=DEFAULT_SEED) as emulator:
        yield Device(tmp_path, emulator.url), emulator


def publish(url, version, files):
    provision = release.provision_for(url)
    try:
        release.publish(provision, TOKEN, "m1", "app", version, release.package(files))
    finally:
        provision.close()


def test_an_update_is_applied_and_broken_ones_are_rolled_back(device, tmp_path):
    device, emulator = device
    app_set = release.compile_app(tmp_path)
    publish(device.url, "2", app_set)
    # Boot 1, the built-in set: fetches version 2, keeps running itself.
    output = device.boot()
    assert "update: version 2 ready in \"a\"; it runs from the next boot" in output, output
    assert device.state() == {"current": "a", "version": "2", "prior": "0", "trial": 0,
                              "boots": 3}
    assert not (device.update / "package").exists()
    for name, path in app_set:
        assert (device.update / "a" / name).read_bytes() == path.read_bytes()
    # Boot 2: version 2 on trial, confirmed by its first push.
    output = device.boot()
    assert "update: version 2 on trial, boot 1 of 3" in output
    assert "update: version 2 confirmed by a healthy push" in output
    assert device.state() == {"current": "a", "version": "2", "prior": "0", "boots": 3}

    # Version 3 raises at import: rolled back in the boot that tries it.
    broken = [(name, compiled(tmp_path, "broken", "raise ImportError('broken on purpose')")
               if name == "app.mpy" else path) for name, path in app_set]
    publish(device.url, "3", broken)
    assert "update: version 3 ready in \"b\"" in device.boot()
    output = device.boot()
    assert "update: the new app failed to import (ImportError); rolled back" in output
    assert device.state() == {"current": "a", "version": "2", "failed": "3"}
    assert "push:" in output and "update: version 3 ready" not in output

    # Version 4 never pushes: three boots on trial, then back to version 2.
    base = [("app_base.mpy" if name == "app.mpy" else name, path) for name, path in app_set]
    never = compiled(tmp_path, "app", "from app_base import *\n\n\ndef _never(self):\n"
                                      "    raise OSError('this version never pushes')\n\n\n"
                                      "Connection.push = _never\n")
    publish(device.url, "4", base + [("app.mpy", never)])
    assert "update: version 4 ready in \"b\"" in device.boot()
    for trial in (1, 2, 3):
        output = device.boot()
        assert "update: version 4 on trial, boot %d of 3" % trial in output
        assert "this version never pushes" in output and "confirmed" not in output
    output = device.boot()
    assert "update: version 4 had no healthy push in 3 boots; rolling back" in output
    assert device.state() == {"current": "a", "version": "2", "failed": "4"}
    assert "push:" in output and "update: version 4 ready" not in output
    # No committed sample lost through any of it. The first sample of each
    # boot that never pushed was taken before its clock was set: nothing can
    # date it in a later boot, and the core keeps it in the dead-letter store.
    temps = emulator.points(DEVICE_CIK, "temp")
    dead = int(re.findall(r"journal=\{[^}]*'dead_lettered': (\d+)", output)[-1])
    assert device.committed == device.boots * 5 == 45
    assert dead == 3 and len(temps) == device.committed - dead, output


def test_release_packages_what_the_device_unpacks(tmp_path):
    sys.path.insert(0, str(ROOT / "firmware"))
    try:
        import update
    finally:
        sys.path.pop(0)
    out = tmp_path / "app.pkg"
    done = subprocess.run([sys.executable, "tools/release", "--version", "1.2", "--out",
                           str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert update.unpack(str(out), str(tmp_path / "slot")) == 14
    names = sorted(path.name for path in (tmp_path / "slot").iterdir())
    assert names == ["app.mpy", "appconfig.mpy", "boardbase.mpy", "bringup.mpy",
                     "configfiles.mpy", "connection.mpy", "launch.mpy", "profilecheck.mpy", "report.mpy",
                     "sampling.mpy", "scheduler.mpy", "settings.mpy", "startup.mpy",
                     "update.mpy"]
    assert "version=1.2 sha256=" in done.stdout
    refused = subprocess.run([sys.executable, "tools/release", "--version", "two"], cwd=ROOT,
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "dotted whole numbers" in refused.stderr
    (tmp_path / "bad.pkg").write_bytes(b"uonep-app 1\n../evil 3\nabc")
    with pytest.raises(update.PackageError):
        update.unpack(str(tmp_path / "bad.pkg"), str(tmp_path / "slot"))
