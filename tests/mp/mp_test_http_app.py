# The device app on the unix board against the emulator over TLS, the
# board's steps with "verify" set: the CA pinned in the secrets file pushes
# every sample; left at the default (the shipped CA set), the emulator's
# certificate is refused, the app says it is the certificate, keeps every
# sample, and delivers them all once booted with the CA pinned.
import json

import app
import appconfig
from http_support import CA, SERVERS, scratch, tls_client, values_since

HELPER = "hostile"
PASSWORD = "correct-horse-battery"
CIK = "1" * 40
# Each test's simulated world starts on a day of its own (2025-01-01 + n days).
DAY = 86400
WORLD = 1735689600


def make_app(folder, day, **secrets):
    url = "https://127.0.0.1:%d" % SERVERS["emulator_tls"]
    mount = "/flash-" + folder.rsplit("/", 1)[1]
    profile = appconfig.load_profile("boards/unix", {
        "storage.image": folder + "/flash.img", "storage.mount": mount,
        "journal.path": mount + "/journal", "server": url, "simulation.control": url,
        "simulation.world_start": WORLD + day * DAY})
    board = app.load_board("boards/unix", profile)
    path = folder + "/secrets.json"
    write_secrets(path, **secrets)
    logs = []
    device = app.App(profile, path, board, log=logs.append)
    board.log = logs.append
    return device, board, logs


def write_secrets(path, **secrets):
    secrets.update({"wifi": {"ssid": "home", "password": PASSWORD}, "cik": CIK})
    with open(path, "w") as stream:
        stream.write(json.dumps(secrets))


def delivered(day):
    client = tls_client()
    counts = values_since(client, "count", WORLD + day * DAY)
    client.transport.close()
    return counts


def test_a_board_with_the_ca_pinned_pushes_every_sample_over_tls():
    folder = scratch("pinned")
    appconfig.makedirs(folder)
    device, board, logs = make_app(folder, 1, verify=CA)
    device.run(1800)
    assert device.committed == 30 and device.status()["journal"]["pending"] == 0, logs
    assert delivered(1) == list(range(1, 31))
    assert CIK not in "\n".join(logs) and PASSWORD not in "\n".join(logs)
    device.finish()
    board.unmount_storage(device.profile["storage"]["mount"])


def test_the_default_ca_set_refuses_the_emulator_and_the_data_waits():
    folder = scratch("default")
    appconfig.makedirs(folder)
    device, board, logs = make_app(folder, 3)
    device.run(1200)
    assert device.committed == 20 and device.status()["journal"]["pending"] == 20
    assert "CertificateError" in device.status()["last_error"], device.status()
    assert "certificate refused" in "\n".join(logs)
    assert delivered(3) == []
    # The CA pinned in the secrets file, read again in the same boot: the 20
    # waiting samples go (dated by their ticks once the clock is set), then
    # 10 more.
    write_secrets(device.secrets_path, verify=CA)
    device.load_secrets()
    device.run(600)
    assert device.status()["journal"]["pending"] == 0, logs
    counts = delivered(3)
    assert counts == list(range(1, 31)), counts
    device.finish()
    board.unmount_storage(device.profile["storage"]["mount"])


class DateCheckedHTTP:
    """The board's TLS as mbedTLS on an ESP32 does it: the certificate's
    dates are checked against the board's own clock, so while that clock
    is unset (2000) every verified connection is refused."""

    def __init__(self, http, clock):
        self.http = http
        self.clock = clock
        self.refused = 0

    def request(self, method, url, **options):
        if not self.clock.valid():
            from uonep.errors import CertificateError
            self.refused += 1
            raise CertificateError("127.0.0.1: TLS certificate refused (not yet valid)")
        return self.http.request(method, url, **options)

    def close(self):
        self.http.close()


def test_a_board_with_an_unset_clock_gets_a_rough_time_unverified_then_verifies():
    folder = scratch("unset-clock")
    appconfig.makedirs(folder)
    device, board, logs = make_app(folder, 5, verify=CA)
    checked = DateCheckedHTTP(board.http(CA), board.clock())
    board.http = lambda verify=True: checked
    device.run(600)
    text = "\n".join(logs)
    assert checked.refused >= 1 and device.clock.valid(), text
    assert "time asked without a certificate check" in text, text
    # Everything after the clock was set went through the date-checked,
    # verified connection: the samples arrived, none lost.
    assert device.status()["journal"]["pending"] == 0, text
    assert delivered(5) == list(range(1, device.committed + 1))
    device.finish()
    board.unmount_storage(device.profile["storage"]["mount"])
