# Remote settings (firmware/settings.py) under MicroPython: the unix board
# against the emulator, seeded with tests/seeds/remote.json (the default seed
# plus the settings and settings_status dataports of client 1111). The
# settings are written as a vendor would, with an RPC write; the device reads
# them after a push, applies the keys that pass the profile's checks, refuses
# the others and says so in settings_status, and keeps sampling throughout.
import json

from emulator_control import url
from mp_test_app_support import finish, make_app, points, text, wifi_secrets
from settings import apply

from uonep import Client

NEEDS_EMULATOR = True
HEAPSIZE = "1024k"
SEED = "tests/seeds/remote.json"
CIK = "1" * 40
DAY = 86400
FIRST_DAY = 1767225600


def _write(value, at):
    """The settings at Unix time `at`: the emulator's clock follows the
    simulated one, and a read sees nothing newer than its "now"."""
    Client(CIK, url()).recordbatch("settings", [[at, value]])


def _status(day):
    """The last settings_status of the test's simulated day."""
    start = FIRST_DAY + day * DAY
    found = [value for stamp, value in points(CIK, "settings_status")
             if start <= stamp < start + DAY]
    return json.loads(found[-1]) if found else None


def _app(day):
    return make_app({"simulation.world_start": FIRST_DAY + day * DAY,
                     "settings.alias": "settings", "push.every_samples": 2},
                    secrets=wifi_secrets(cik=CIK))


def _in_day(alias, day):
    start = FIRST_DAY + day * DAY
    return [stamp for stamp, _ in points(CIK, alias) if start <= stamp < start + DAY]


def test_settings_applied_and_refused_key_by_key():
    _write(json.dumps({
        "sample_interval": 30, "push": {"every_samples": 4}, "sensors": {"temp": False},
        "push.max_points": 0, "watchdog": 1, "sensors.nothing": True}), FIRST_DAY)
    device, board, logs = _app(0)
    device.run(1200)
    status = _status(0)
    assert status["applied"] == {"sample_interval": 30, "push.every_samples": 4,
                                 "sensors.temp": False}, status
    refused = status["refused"]
    assert sorted(refused) == ["push.max_points", "sensors.nothing", "watchdog"], refused
    assert "push.max_points must be a whole number from 1 (got 0)" in refused["push.max_points"]
    assert refused["watchdog"] == "cannot be changed remotely"
    assert device.profile["sample_interval"] == 30 and device.profile["push"]["max_points"] == 500
    # Applied after the first push (at sample 1): sample 2 comes 60 s on, the
    # next ones every 30 s; the counter keeps coming, the temperature stops.
    counts = _in_day("count", 0)
    temps = _in_day("temp", 0)
    assert len(temps) == 1, temps
    assert counts[1] - counts[0] == 60 and counts[-1] - counts[-2] == 30, counts
    assert len(counts) >= 30, len(counts)
    assert "settings: applied push.every_samples, sample_interval, sensors.temp" in text(logs)
    finish(device, logs, CIK)


def test_bad_settings_are_refused_and_sampling_goes_on():
    _write("{not json", FIRST_DAY + DAY)
    device, board, logs = _app(1)
    device.run(900)
    assert _status(1)["refused"] == {"settings": "must be a JSON object {...}"}
    assert device.profile["sample_interval"] == 60
    assert len(_in_day("count", 1)) == 15 and len(_in_day("temp", 1)) == 15
    # Sensors come back, out-of-range interval refused, the rest applied.
    _write(json.dumps({"sensors": {"temp": True}, "sample_interval": -5,
                       "push.backlog_bytes": 100}), board.world.now())
    device.run(300)
    status = _status(1)
    assert status["applied"] == {"sensors.temp": True, "push.backlog_bytes": 100}, status
    assert "sample_interval must be" in status["refused"]["sample_interval"]
    assert device.samples == device.committed == 20
    finish(device, logs, CIK)


def test_apply_is_key_by_key_on_a_profile():
    import appconfig
    profile = appconfig.load_profile("boards/unix")
    report = apply(profile, {"push": {"every_samples": 3, "max_interval": "soon"},
                             "sensors": {"count": "no"}, "journal.path": "/x"})
    assert report["applied"] == {"push.every_samples": 3}
    assert sorted(report["refused"]) == ["journal.path", "push.max_interval", "sensors.count"]
    assert profile["push"]["every_samples"] == 3 and profile["push"]["max_interval"] == 900
    assert apply(profile, "[1]")["refused"] == {"settings": "must be a JSON object {...}"}
