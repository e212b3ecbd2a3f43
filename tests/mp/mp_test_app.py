# The device application under MicroPython, on the unix board (simulated
# WiFi, clock and flash), against the real emulator seeded with
# tests/seeds/app.json: one client per test, devices for provisioning.
import json
import sys

import app
import appconfig
import emulator_control
import profilecheck
from mp_test_app_support import (ACTIVATED_SERIAL, DISABLED_SERIAL, FIRST_BOOT_SERIAL,
                                 FOREIGN_CIK, PASSWORD, UNKNOWN_SERIAL, WORLD_START, TightHeap,
                                 device_cik, finish, make_app, points, scratch, seeded_cik,
                                 starved, text, values, wifi_secrets)

NEEDS_EMULATOR = True
SEED = "tests/seeds/app.json"
HEAPSIZE = "1024k"
HOUR = 3600
# The server's clock follows the simulated one, but keeps running in real
# time between two updates: its answers may be a second or two ahead.
SKEW = 2


def _cik_app(number, changes=None):
    """An App with client `number` of the seed's CIK in its secrets."""
    cik = seeded_cik(number)
    device, board, logs = make_app(changes, secrets=wifi_secrets(cik=cik))
    return device, board, logs, cik


def _run_steps(device, board, count):
    """`count` samples a minute apart, one step at a time."""
    for _ in range(count):
        device.step()
        board.sleep("light", 60)


def test_an_hour_every_sample_arrives():
    device, board, logs, cik = _cik_app(1)
    device.run(HOUR)
    assert device.committed == 60
    assert values(cik) == list(range(1, 61))
    stamps = [stamp for stamp, _ in points(cik, "count")]
    assert all(later - earlier == 60 for earlier, later in zip(stamps, stamps[1:])), stamps
    assert len(points(cik, "temp")) == 60
    assert device.status()["journal"]["pending"] == 0
    assert starved(board) == 0
    finish(device, logs, cik)


def test_no_wifi_at_boot():
    device, board, logs, cik = _cik_app(2, {"simulation.outages": [[0, 900]]})
    device.run(HOUR)
    assert "cannot connect" in text(logs) and "outage" in text(logs)
    assert "network back after" in text(logs)
    # Nothing was sent while WiFi was down, yet nothing was lost.
    assert values(cik) == list(range(1, 61))
    # Sample 1 was taken at power-on, before the clock was set; it is dated
    # by its ticks once the server told the time.
    first = points(cik, "count")[0]
    assert first[1] == 1 and 0 <= first[0] - WORLD_START <= SKEW, first
    assert starved(board) == 0
    finish(device, logs, cik)


def test_backoff_is_exponential_and_capped():
    from connection import Backoff
    backoff = Backoff(5, 300)
    delays = [backoff.fail() for _ in range(10)]
    assert delays[:4] == [5, 10, 20, 40]
    assert max(delays) == 300 and delays[-1] == 300
    backoff.reset()
    assert backoff.delay() == 0


def test_wifi_lost_mid_push():
    # A backlog big enough for several requests, then WiFi drops after the first.
    device, board, logs, cik = _cik_app(3, {"push.every_samples": 200,
                                            "push.max_interval": profilecheck.MAX_SECONDS,
                                            "push.backlog_bytes": 10 ** 6})
    device.start()
    _run_steps(device, board, 150)
    # The first step brought WiFi up, set the clock and pushed sample 1.
    before = len(values(cik))
    board.world.drop_wifi_after(1, seconds=600)
    raised = None
    try:
        device.connection.push()
    except Exception as failure:
        raised = failure
    assert type(raised).__name__ == "TransportError", raised
    sent = len(values(cik)) - before
    assert 0 < sent < 150, sent
    assert device.journal.stats()["pending"] > 0
    device.run(HOUR)
    # Only what the server acknowledged left the journal: no gap, no repeat.
    assert values(cik) == list(range(1, device.committed + 1))
    finish(device, logs, cik)


def test_wifi_lost_mid_push_inside_the_loop():
    device, board, logs, cik = _cik_app(4, {"push.every_samples": 30})
    device.start()
    _run_steps(device, board, 29)
    board.world.drop_wifi_after(0, seconds=300)
    device.run(HOUR)
    assert "error in network: TransportError" in text(logs)
    assert "outage" in text(logs)
    assert values(cik) == list(range(1, device.committed + 1))
    assert device.committed >= 88
    finish(device, logs, cik)


def test_clock_not_valid_until_the_server_answers():
    device, board, logs, cik = _cik_app(5)
    # No NTP on the simulated network, and the server's /timestamp fails.
    emulator_control.arm("http_status", status=503, path="/timestamp", every=1)
    try:
        device.start()
        assert not device.clock.valid()
        _run_steps(device, board, 15)
        assert not device.clock.valid()
        assert "no time from the server" in text(logs)
        # Pushed all the same, dated relative to the server's "now".
        assert len(values(cik)) >= 10
    finally:
        emulator_control.clear()
    device.run(600)
    assert device.clock.valid()
    assert values(cik) == list(range(1, device.committed + 1))
    stamps = [stamp for stamp, _ in points(cik, "count")]
    assert stamps[0] >= WORLD_START - SKEW, stamps
    assert stamps[-1] <= board.world.now() + SKEW, stamps
    finish(device, logs, cik)


def _record_once(calls):
    """connection.once, recording the modules it loads."""
    import connection
    real = connection.once

    def recording(name, function, *args):
        calls.append(name)
        return real(name, function, *args)
    connection.once = recording
    return real


def test_the_common_bring_up_loads_bringup_for_the_wifi_and_the_clock_only():
    import connection
    device, board, logs, cik = _cik_app(16)
    calls = []
    real = _record_once(calls)
    try:
        device.start()
        assert not device.clock.valid()
        device.step()
    finally:
        connection.once = real
    assert device.clock.valid()
    assert "clock: set from the server" in text(logs), text(logs)
    # The simulated WiFi joined, then the clock set, each by bringup.py
    # loaded for the job and dropped after; the CIK is at hand: no activation.
    assert calls == ["bringup", "bringup"], calls
    assert "bringup" not in sys.modules and "no time from the server" not in text(logs)
    assert values(cik) == [1]
    finish(device, logs, cik)


def test_ntp_failing_then_the_server_answers():
    import connection
    device, board, logs, cik = _cik_app(17)

    def broken(host):
        raise OSError(110)
    board.sync_time = broken
    calls = []
    real = _record_once(calls)
    try:
        device.start()
        device.step()
    finally:
        connection.once = real
    assert "clock: NTP failed ([Errno 110] ETIMEDOUT); asking the server" in text(logs), \
        text(logs)
    assert device.clock.valid() and calls == ["bringup", "bringup"], calls
    finish(device, logs, cik)


def test_a_timestamp_that_is_no_number_is_reported_and_the_push_goes_on():
    device, board, logs, cik = _cik_app(18)
    device.start()
    request = device.client.request

    def garbled(method, path, *rest):
        if path == "/timestamp":
            return 200, b"soon"
        return request(method, path, *rest)
    device.client.request = garbled
    device.step()
    assert not device.clock.valid()
    assert "no time from the server (/timestamp answered something that is not a number); " \
        "pushing with relative times" in text(logs), text(logs)
    assert values(cik) == [1]
    finish(device, logs, cik)


def test_untimed_samples_are_dated_when_the_clock_is_set():
    device, board, logs, cik = _cik_app(6, {"simulation.outages": [[0, 600]]})
    device.run(1200)
    assert device.clock.valid()
    # Sample n was taken (n - 1) minutes after power-on, clock set or not
    # (a little later when a failing WiFi association held the loop).
    for stamp, value in points(cik, "count"):
        late = stamp - (WORLD_START + 60 * (value - 1))
        assert 0 <= late <= 15 + SKEW, (value, late)
    finish(device, logs, cik)


def test_provisioning_on_first_boot_stores_the_cik():
    folder = scratch()
    new_cik = device_cik(1)
    device, board, logs = make_app({"simulation.unique_id": FIRST_BOOT_SERIAL},
                                   secrets=wifi_secrets(), folder=folder)
    device.run(900)
    assert appconfig.load_cik(folder + "/cik") == new_cik
    assert "provision: activating vendor uonep model unix-sim serial a4cf00000001" in text(logs)
    assert "provision: activated, CIK d0e5..." in text(logs)
    assert values(new_cik) == list(range(1, 16))
    finish(device, logs, new_cik)
    # The next boot uses the stored CIK: no second activation (which the
    # server would refuse with 409 now).
    again, board, logs = make_app({"simulation.unique_id": FIRST_BOOT_SERIAL},
                                  secrets=wifi_secrets(), folder=folder, board=board)
    again.run(600)
    assert "provision" not in text(logs) and again.errors == 0
    assert len(values(new_cik)) == 25
    finish(again, logs, new_cik)


def test_provisioning_already_activated_409():
    # One board activates; another with the same serial but without the
    # stored CIK (a wiped flash) is refused.
    first, board, logs = make_app({"simulation.unique_id": ACTIVATED_SERIAL},
                                  secrets=wifi_secrets())
    first.run(120)
    assert first.cik == device_cik(2)
    finish(first, logs, device_cik(2))
    device, board, logs = make_app({"simulation.unique_id": ACTIVATED_SERIAL},
                                   secrets=wifi_secrets())
    device.run(HOUR)
    assert "activation refused (409)" in text(logs)
    assert "put its CIK in the secrets" in text(logs)
    assert device.cik is None
    # Retried at the backoff cap (300 s), not in a tight loop; every sample kept.
    attempts = text(logs).count("provision: activating")
    assert 2 <= attempts <= 1 + HOUR // 300, attempts
    assert device.journal.stats()["pending"] == 60
    assert device.status()["errors"] >= attempts
    finish(device, logs, device_cik(2))


def test_provisioning_not_enabled_409():
    device, board, logs = make_app({"simulation.unique_id": DISABLED_SERIAL},
                                   secrets=wifi_secrets())
    device.run(600)
    assert "activation refused (409)" in text(logs)
    assert device.cik is None and device.journal.stats()["pending"] == 10
    finish(device, logs, device_cik(3))


def test_provisioning_unknown_device_404():
    device, board, logs = make_app({"simulation.unique_id": UNKNOWN_SERIAL},
                                   secrets=wifi_secrets())
    device.run(900)
    assert "unknown device (404): add serial number a4cf0000ffff" in text(logs)
    assert device.cik is None and device.journal.stats()["pending"] == 15
    finish(device, logs)


def test_secrets_missing_keeps_sampling_and_recovers():
    folder = scratch()
    device, board, logs = make_app(folder=folder, secrets=None)
    device.run(600)
    assert "secrets file %s/secrets.json is missing" % folder in text(logs)
    # Said once, not once per cycle: no crash loop, no log flood.
    assert text(logs).count("config: secrets file") == 1
    assert device.committed == 10 and board.http().sent == 0
    cik = seeded_cik(7)
    with open(folder + "/secrets.json", "w") as stream:
        stream.write(json.dumps(wifi_secrets(cik=cik)))
    device.run(900)
    assert "secrets loaded" in text(logs)
    assert values(cik) == list(range(1, device.committed + 1))
    finish(device, logs, cik)


def test_secrets_malformed_says_what_and_not_the_content():
    broken = '{"wifi": {"ssid": "home", "password": "%s"' % PASSWORD
    device, board, logs = make_app(secrets=broken)
    device.run(300)
    assert "is not valid JSON" in text(logs)
    assert text(logs).count("config: secrets file") == 1
    assert device.committed == 5 and device.status()["config_error"]
    finish(device, logs)


def test_secrets_wrong_shape():
    cik = seeded_cik(1)
    for secrets, expected in (({"ssid": "home"}, "needs \"wifi\""),
                              ({"wifi": {"ssid": "x"}, "cik": "123"}, "cik must be 40"),
                              ("[1, 2]", "must be a JSON object"),
                              ({"wifi": {"ssid": "x"}, "cik": cik, "server": "ftp://x"},
                               "http:// or https://")):
        device, board, logs = make_app(secrets=secrets)
        device.run(120)
        assert expected in text(logs), (expected, logs)
        assert device.committed == 2 and board.http().sent == 0
        finish(device, logs, cik)


def test_journal_full_refuse():
    device, board, logs, cik = _cik_app(8, {"journal.capacity_bytes": 1024,
                                            "journal.policy": "refuse",
                                            "simulation.outages": [[0, 1800]]})
    device.run(HOUR)
    assert device.refused > 0
    assert "journal full (policy refuse)" in text(logs)
    assert device.committed + device.refused == 60
    # What was stored arrived; the loop never died.
    assert len(values(cik)) == device.committed
    finish(device, logs, cik)


def test_journal_full_drop_oldest():
    device, board, logs, cik = _cik_app(9, {"journal.capacity_bytes": 1024,
                                            "simulation.outages": [[0, 1800]]})
    device.run(HOUR)
    stats = device.journal.stats()
    assert stats["dropped"] > 0 and device.refused == 0
    counts = values(cik)
    # The newest samples survive; the oldest were given up for them.
    assert counts[-1] == 60 and counts[0] > 1
    assert len(counts) + stats["dropped"] == 60, (len(counts), stats)
    finish(device, logs, cik)


def test_auth_refused_keeps_the_data():
    device, board, logs = make_app(secrets=wifi_secrets(cik=FOREIGN_CIK))
    device.run(1800)
    assert "auth: the server refused CIK 4444..." in text(logs)
    assert device.journal.stats()["pending"] == 30
    finish(device, logs, FOREIGN_CIK)


def test_a_broken_sensor_does_not_stop_the_others():
    device, board, logs, cik = _cik_app(10)
    device.start()

    def broken():
        raise OSError(5, "EIO")
    device.sampler.sensors.append(("temp2", broken))
    device.run(600)
    assert "error in sensor temp2" in text(logs)
    assert values(cik) == list(range(1, 11))
    finish(device, logs, cik)


def test_deep_sleep_survives_resets():
    device, board, logs, cik = _cik_app(11, {"sleep": "deep"})
    device.run(1800)
    assert device.boots > 20 and "deep sleep" in text(logs)
    # A reset every minute; every sample still arrived, once.
    assert len(points(cik, "count")) == 30
    stamps = [stamp for stamp, _ in points(cik, "temp")]
    assert len(set(stamps)) == 30
    finish(device, logs, cik)


def test_status_for_the_repl():
    device, board, logs, cik = _cik_app(12)
    device.run(900)
    status = device.status()
    for key in ("journal", "last_push", "wifi", "clock_valid", "errors", "cik", "samples"):
        assert key in status, key
    assert status["wifi"] == "connected" and status["clock_valid"]
    assert status["cik"] == "c0de..."
    assert status["journal"]["pending"] == 0 and status["last_push"]["sent"] > 0
    finish(device, logs, cik)


def test_profiles_load_and_boot_rejects_a_bad_board():
    for name in ("unix", "esp32", "esp32s3", "esp32c3"):
        profile = appconfig.load_profile("boards/" + name)
        aliases = [sensor["alias"] for sensor in profile["sensors"]]
        assert aliases == ["temp", "count", "status"], (name, aliases)
    assert app.boot(["--board", "/nonexistent"]) is None
    options = appconfig.parse_args(["--board", "b", "--set", "push.every_samples=3",
                                    "--set", "name=x"])
    assert options["overrides"] == {"push.every_samples": 3, "name": "x"}


def test_boot_builds_the_app_and_keeps_none_of_the_boot_code():
    import sys
    folder = scratch()
    mount = "/flash-" + folder[-8:]
    secrets = folder + "/secrets.json"
    with open(secrets, "w") as stream:
        stream.write(json.dumps(wifi_secrets(cik=seeded_cik(30))))
    logs = []
    device = app.boot(["--board", "boards/unix", "--secrets", secrets,
                       "--set", "storage.image=" + folder + "/flash.img",
                       "--set", "storage.mount=" + mount, "--set", "journal.path=" + mount + "/j",
                       "--set", "server=" + emulator_control.url()], logs.append)
    assert device is not None, logs
    assert device.board.log == device.log
    # Building the App (launch) and starting it (startup) are each loaded
    # for their job and dropped: App.start loads startup alone.
    assert "launch" not in sys.modules and "startup" not in sys.modules
    loaded = []
    real = app.once
    app.once = lambda name, *rest: loaded.append(name) or real(name, *rest)
    try:
        device.start()
    finally:
        app.once = real
    assert loaded == ["startup"], loaded
    for name in ("launch", "startup", "configfiles", "profilecheck"):
        assert name not in sys.modules, name
    assert "boot 1: board unix" in text(logs), text(logs)
    device.close()


def test_appconfig_names_its_file_functions():
    import sys
    from appconfig import cik_path, exists, join, makedirs, mask, parent
    assert join(parent("/a/secrets.json"), "cik") == cik_path("/a/secrets.json") == "/a/cik"
    assert mask("c0de1234") == "c0de..." and exists("boards/unix/profile.json")
    assert callable(makedirs) and "configfiles" in sys.modules
    # The next job drops them again; a name no module has is refused.
    appconfig.parse_args([])
    assert "configfiles" not in sys.modules
    for name in ("no_such_function", "_private"):
        try:
            getattr(appconfig, name)
            raise AssertionError(name)
        except AttributeError:
            pass


def test_the_secrets_are_read_before_the_storage_is_mounted():
    # The file reader's passing need comes before what the mount keeps.
    device, board, logs, cik = _cik_app(31)
    seen = []
    mount = board.mount_storage
    board.mount_storage = lambda path: seen.append(device.cik) or mount(path)
    device.start()
    assert seen == [cik], seen
    device.close()


def test_cik_store_is_atomic_and_masked():
    folder = scratch()
    path = folder + "/cik"
    cik = seeded_cik(1)
    appconfig.store_cik(path, cik)
    appconfig.store_cik(path, "5" * 40)
    assert appconfig.load_cik(path) == "5" * 40
    import os
    assert "cik.tmp" not in os.listdir(folder)
    assert appconfig.mask(cik) == "c0de..." and appconfig.mask(None) == "(none)"


def test_memory_error_while_pushing_shrinks_requests_and_keeps_data():
    device, board, logs, cik = _cik_app(13, {"simulation.outages": [[0, 1200]]})
    board.world.requests = TightHeap(2)
    device.run(HOUR)
    # Halved at each of the two failures.
    from uonep.forward import MAX_BYTES
    assert "low memory: pushing in requests of at most %d bytes" % (MAX_BYTES // 4) in text(logs)
    # Only until a push succeeded (mp_test_app_robust.py says more).
    assert device.connection.push_bytes == MAX_BYTES
    assert values(cik) == list(range(1, 61))
    finish(device, logs, cik)


def test_an_error_in_the_cycle_neither_stops_sampling_nor_spins():
    device, board, logs, cik = _cik_app(14)
    device.start()
    commit = device.uplink.commit
    failures = [3]

    def flaky(timestamp=None):
        if failures[0]:
            failures[0] -= 1
            raise OSError(28, "ENOSPC")
        return commit(timestamp)
    device.uplink.commit = flaky
    device.run(HOUR)
    assert text(logs).count("error in cycle: OSError") == 3
    # Three samples failed to commit; the other 57 arrived, on schedule.
    assert device.samples >= 60 and len(values(cik)) == device.committed
    assert device.committed >= 57
    finish(device, logs, cik)


def test_a_storage_failure_at_boot_is_retried_not_fatal():
    device, board, logs, cik = _cik_app(15)
    mount = board.mount_storage
    failures = [2]

    def flaky(path):
        if failures[0]:
            failures[0] -= 1
            raise OSError(19, "ENODEV")
        mount(path)
    board.mount_storage = flaky
    device.run(600)
    assert text(logs).count("error in cycle: OSError") == 2
    # Retried after the backoff (5 s, then 10 s), then ran normally.
    assert device.journal is not None and device.committed >= 9
    finish(device, logs, cik)
