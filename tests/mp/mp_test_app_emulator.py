# The device application under MicroPython against the emulator's default
# seed (tests/seeds/default.json): a shared client, the acme/m1 devices, and
# server faults armed at given simulated times. The app's own cases (WiFi,
# clock, provisioning answers, secrets, journal) are in mp_test_app.py.
import emulator_control
from mp_test_app_support import finish, make_app, points, scratch, text, wifi_secrets

NEEDS_EMULATOR = True
HEAPSIZE = "1024k"
SEEDED_CIK = "1" * 40
# Each test runs in a simulated day of its own: the shared client's points
# of one test are told from another's by their time.
DAY = 86400
FIRST_DAY = 1767225600


def _app(secrets_extra, day, changes=None, folder=None):
    settings = {"simulation.world_start": FIRST_DAY + day * DAY}
    settings.update(changes or {})
    return make_app(settings, secrets=wifi_secrets(**secrets_extra), folder=folder)


def _counts(day):
    start = FIRST_DAY + day * DAY
    return [value for stamp, value in points(SEEDED_CIK, "count")
            if start <= stamp < start + DAY]


def test_pushes_reach_the_emulator_through_an_outage():
    device, board, logs = _app({"cik": SEEDED_CIK}, 0, {"simulation.outages": [[600, 600]]})
    device.run(1800)
    assert _counts(0) == list(range(1, 31))
    assert "outage" in text(logs)
    finish(device, logs, SEEDED_CIK)


def test_activation_with_vendor_and_model_from_the_secrets():
    # The secrets name another vendor/model than the profile (uonep/unix-sim).
    folder = scratch()
    device, board, logs = _app({"vendor": "acme", "model": "m1"}, 1,
                               {"simulation.unique_id": "0001",
                                "sensors": [{"alias": "temp", "kind": "simulated"}]},
                               folder=folder)
    device.run(600)
    assert "provision: activating vendor acme model m1 serial 0001" in text(logs)
    assert "provision: activated, CIK 2222..." in text(logs)
    with open(folder + "/cik") as stream:
        assert stream.read() == "2" * 40
    assert len(points("2" * 40, "temp")) == 10
    finish(device, logs, "2" * 40)


def test_server_faults_lose_nothing():
    device, board, logs = _app({"cik": SEEDED_CIK}, 2,
                               {"simulation.faults": [
                                   [290, {"kind": "drop_after_body", "count": 1}],
                                   [590, {"kind": "http_status", "status": 503, "count": 2}],
                                   [890, {"kind": "truncate", "count": 1}]]})
    try:
        device.run(1800)
    finally:
        emulator_control.clear()
    # A lost acknowledgement makes the device send a batch again: the
    # emulator stores a point per timestamp, so a repeat is no duplicate.
    assert _counts(2) == list(range(1, 31))
    assert device.errors >= 3
    finish(device, logs, SEEDED_CIK)
