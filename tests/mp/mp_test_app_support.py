# Helpers for the app's MicroPython tests (no test_* here). The device is the
# unix board: its WiFi, clock and flash (LittleFS in a file) are simulated,
# and that is the only edge. Behind its WiFi is the real emulator the harness
# started (UONEP_EMULATOR_URL), whose clock follows the simulated one; what
# arrived is read back over the emulator's control API.
import json
import os

import app
import appconfig
import emulator_control

PASSWORD = "correct-horse-battery"
# Where the simulated world starts (the unix board's default): 2025-01-01.
WORLD_START = 1735689600
# The unix board profile's vendor and model: the app seed's devices.
FIRST_BOOT_SERIAL = "a4cf00000001"
ACTIVATED_SERIAL = "a4cf00000002"
DISABLED_SERIAL = "a4cf00000003"
UNKNOWN_SERIAL = "a4cf0000ffff"
# Known to no emulator: the server answers 401.
FOREIGN_CIK = "4444444444444444444444444444444444444444"


def seeded_cik(number):
    """The CIK of client `number` of tests/seeds/app.json (one per test)."""
    return "c0de" + "%036d" % number


def device_cik(number):
    """The CIK that activating device a4cf0000000N hands out."""
    return "d0e5" + "%036d" % number


def scratch():
    """A fresh folder for one test, inside the module's UONEP_TMP."""
    folder = "%s/app-%s" % (os.getenv("UONEP_TMP") or "/tmp",
                            "".join("%02x" % byte for byte in os.urandom(4)))
    appconfig.makedirs(folder)
    return folder


def wifi_secrets(**extra):
    secrets = {"wifi": {"ssid": "home", "password": PASSWORD}}
    secrets.update(extra)
    return secrets


def make_app(changes=None, secrets=None, folder=None, board=None):
    """(app, board, logs): an App on the unix board profile with `changes`
    ({"dotted.key": value}), its own flash image and mount point in `folder`,
    talking to the emulator. secrets: a dict, a text, or None (no file)."""
    folder = folder or scratch()
    url = emulator_control.url()
    mount = "/flash-" + folder[-8:]
    settings = {"storage.image": folder + "/flash.img", "storage.mount": mount,
                "journal.path": mount + "/journal", "server": url,
                "simulation.control": url}
    settings.update(changes or {})
    profile = appconfig.load_profile("boards/unix", settings)
    if board is None:
        board = app.load_board("boards/unix", profile)
    secrets_path = folder + "/secrets.json"
    if secrets is not None:
        with open(secrets_path, "w") as stream:
            stream.write(secrets if isinstance(secrets, str) else json.dumps(secrets))
    logs = []
    instance = app.App(profile, secrets_path, board, log=logs.append)
    board.log = logs.append
    return instance, board, logs


def points(cik, alias):
    """[[ts, value], ...] of the client's dataport, ascending, as stored by
    the emulator (its control API: independent of its clock)."""
    return emulator_control.points(cik, alias)


def values(cik, alias="count"):
    return sorted(value for _, value in points(cik, alias))


def text(logs):
    return "\n".join(logs)


def assert_no_secrets(logs, *ciks):
    """Neither the WiFi password nor any of the CIKs is in the log (line by
    line: a joined long log needs a large block of a small heap)."""
    for line in logs:
        assert PASSWORD not in line, "the WiFi password was logged: " + line
        for cik in ciks:
            assert cik not in line, "a CIK was logged"


def finish(device, logs, *ciks):
    """End a test: nothing secret in the log or the status, storage released."""
    assert_no_secrets(logs, *ciks)
    assert_no_secrets([repr(device.status()), repr(device)], *ciks)
    device.close()


def starved(board):
    return sum(dog.starved for dog in board.world.watchdogs)


class TightHeap:
    """The device's own HTTP library running out of heap on the first RPC
    requests: a fault inside the device, which no server can cause."""

    def __init__(self, failures):
        import requests
        self.requests = requests
        self.failures = failures

    def request(self, method, url, **options):
        if "/onep:v1/rpc/process" in url and self.failures:
            self.failures -= 1
            raise MemoryError("memory allocation failed")
        return self.requests.request(method, url, **options)

    def post(self, url, **options):
        return self.requests.post(url, **options)
