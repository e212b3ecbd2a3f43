# The device loop against bad profiles, bad secrets files and failures
# inside its own failure handling, under MicroPython on the unix board
# (simulated WiFi, clock and flash) against the real emulator seeded with
# tests/seeds/app.json (this module's own emulator: client N is test N's).
#
# A bad board profile is refused at boot with one ConfigError naming the
# field; a bad secrets file never stops sampling and is read again every
# cycle; nothing ends App.run().
import gc
import json
import sys

import app
import appconfig
from mp_test_app_support import (PASSWORD, TightHeap, finish, make_app, seeded_cik,
                                 starved, text, values, wifi_secrets)

NEEDS_EMULATOR = True
SEED = "tests/seeds/app.json"
HEAPSIZE = "1024k"
HOUR = 3600


def _refused(field, value):
    """The message of the ConfigError that loading the unix profile with
    field=value raises; it must name the field."""
    try:
        appconfig.load_profile("boards/unix", {field: value})
    except appconfig.ConfigError as failure:
        message = str(failure)
        assert (": %s must" % field) in message, (field, value, message)
        assert "boards/unix/profile.json" in message, message
        return message
    raise AssertionError("the profile was accepted with %s=%r" % (field, value))


def _accepted(field, value):
    profile = appconfig.load_profile("boards/unix", {field: value})
    section, _, key = field.partition(".")
    assert (profile[section][key] if key else profile[section]) == value, (field, value)


# -- the board profile: refused at boot, field named ------------------------------

def test_a_negative_watchdog_is_refused_at_boot_with_one_line():
    assert "got -5" in _refused("watchdog", -5)
    _refused("watchdog", "120")
    _refused("watchdog", True)
    _accepted("watchdog", 0)
    lines = []
    assert app.boot(["--board", "boards/unix", "--set", "watchdog=-5"], log=lines.append) is None
    assert len(lines) == 1, lines
    assert lines[0].startswith("uonep app cannot start: board profile "
                               "boards/unix/profile.json: watchdog must be"), lines


def test_a_negative_watchdog_cannot_make_rest_endless():
    # A profile that did not go through the check (built in code): rest()
    # still ends, in pieces that move the clock forward.
    device, board, logs = make_app(secrets=wifi_secrets(cik=seeded_cik(1)))
    device.profile["watchdog"] = -5
    naps = []

    def sleep(mode, seconds):
        naps.append(seconds)
        if len(naps) > 1000:
            raise RuntimeError("rest() is not ending")
        board.sleep(mode, seconds)
    device.sleep_function = sleep
    device.rest(60)
    assert 0 < len(naps) <= 60 and sum(naps) >= 60, naps[:5]
    finish(device, logs)


def test_a_string_backoff_cap_is_refused():
    _refused("wifi.backoff_cap", "600")
    _refused("wifi.backoff_base", "5")
    _refused("wifi.backoff_cap", 0)
    # The cap below the base would make every retry wait the cap.
    _refused("wifi.backoff_cap", 2)


def test_a_failure_inside_failure_handling_does_not_end_the_loop():
    # A string backoff cap (a profile built in code, past the check) raises
    # TypeError inside the network's and then the cycle's failure handling.
    cik = seeded_cik(2)
    device, board, logs = make_app({"simulation.outages": [[300, 600]]},
                                   secrets=wifi_secrets(cik=cik))
    device.connection.backoff.cap = "600"
    device.run(HOUR)
    assert "error in loop: TypeError" in text(logs)
    # Sampling went on through the outage at its pace, and not faster.
    assert device.samples == 60, device.samples
    assert values(cik) == list(range(1, 61))
    assert starved(board) == 0
    finish(device, logs, cik)


def test_max_points_zero_or_negative_is_refused():
    for value in (0, -1, 2.5, "500", None):
        _refused("push.max_points", value)
    _accepted("push.max_points", 1)
    # An object given for a section (--set 'push={...}') is merged into it,
    # as in a profile file: the field named is the one that is wrong.
    try:
        appconfig.load_profile("boards/unix", {"push": {"max_points": 0}})
        raise AssertionError("push.max_points 0 was accepted")
    except appconfig.ConfigError as failure:
        assert ": push.max_points must be a whole number from 1 (got 0)" in str(failure)


def test_capacity_bytes_is_at_least_512_or_auto():
    for value in (256, 511, 1024.5, "64k", True, None, -65536):
        _refused("journal.capacity_bytes", value)
    assert "got 256" in _refused("journal.capacity_bytes", 256)
    _accepted("journal.capacity_bytes", 512)
    _accepted("journal.capacity_bytes", "auto")


def test_timeout_is_a_positive_number():
    for value in (-1, 0, "10", None, 10 ** 9):
        _refused("timeout", value)
    _accepted("timeout", 0.5)


def test_push_must_be_an_object():
    for value in (5, [1, 2], None, "often"):
        assert "push must be an object" in _refused("push", value)


def test_every_other_field_is_checked():
    bad = (("sample_interval", 0), ("sample_interval", "60"), ("sample_interval", 10 ** 7),
           ("name", 7), ("glue", ["unix"]), ("vendor", 5), ("model", {}),
           ("server", "127.0.0.1:8080"), ("server", 8080),
           ("push.every_samples", 0), ("push.every_samples", 1.5),
           ("push.max_interval", -900), ("push.backlog_bytes", -1),
           ("journal", "flash"), ("journal.path", ""), ("journal.path", 3),
           ("journal.policy", "keep"), ("storage", None), ("storage.mount", 1),
           ("storage.blocks", 1), ("storage.image", 5),
           ("sleep", "nap"), ("sleep", None),
           ("wifi", []), ("wifi.timeout", "20"), ("wifi.timeout", 0),
           ("ntp", "pool.ntp.org"), ("ntp.host", 123), ("ntp.host", ""),
           ("sensors", {"alias": "temp"}), ("sensors", [{"alias": "temp"}]),
           ("sensors", [{"alias": "", "kind": "counter"}]),
           ("sensors", [{"alias": "a", "kind": 3}]),
           ("sensors", [{"alias": "a", "kind": "counter"}, {"alias": "a", "kind": "uptime"}]),
           ("sensors", ["temp"]),
           ("run_for", -1), ("run_for", "forever"),
           ("simulation", []), ("simulation.outages", [[0]]),
           ("simulation.outages", "none"), ("simulation.faults", [[10, "drop"]]),
           ("simulation.unique_id", 42), ("simulation.world_start", "2025"),
           ("simulation.control", 8080),
           ("verify", 1), ("verify", ""), ("verify", None))
    for field, value in bad:
        _refused(field, value)
    # A timeout the watchdog cannot outlast would reset the board mid-request.
    try:
        appconfig.load_profile("boards/unix", {"watchdog": 10, "timeout": 20})
        raise AssertionError("a watchdog shorter than a request was accepted")
    except appconfig.ConfigError as failure:
        assert ": watchdog must be" in str(failure), failure


def test_good_profiles_load():
    for name in ("unix", "esp32", "esp32s3", "esp32c3"):
        appconfig.load_profile("boards/" + name)
    # The check's code is dropped after boot: it costs no heap while running.
    assert "profilecheck" not in sys.modules
    for value in (True, False, "/ca.der"):
        _accepted("verify", value)
    _accepted("run_for", None)
    _accepted("sample_interval", 0.5)
    _accepted("sleep", "deep")


# -- the secrets file: sampling goes on, the file is read again every cycle ---------

def _write(path, chunks):
    with open(path, "wb") as stream:
        for chunk in chunks:
            stream.write(chunk)


def _bad_secrets_then_fixed(number, chunks, expected):
    """Boot with a bad secrets file (written from chunks): the device samples
    offline, says once what is wrong (never the file's content), arms its
    watchdog, and pushes everything once a good file is written."""
    cik = seeded_cik(number)
    device, board, logs = make_app()
    _write(device.secrets_path, chunks)
    device.run(600)
    complaints = [line for line in logs if "config: secrets file" in line]
    assert len(complaints) == 1, complaints
    assert expected in complaints[0], complaints
    assert device.committed == 10 and board.http().sent == 0
    assert device.status()["config_error"] and len(board.world.watchdogs) == 1
    with open(device.secrets_path, "w") as stream:
        stream.write(json.dumps(wifi_secrets(cik=cik)))
    device.run(900)
    assert "secrets loaded" in text(logs)
    assert values(cik) == list(range(1, 26))
    finish(device, logs, cik)


def test_a_secrets_file_of_two_megabytes():
    head = ('{"wifi": {"ssid": "home", "password": "%s"}, "note": "' % PASSWORD).encode()
    _bad_secrets_then_fixed(3, [head] + [b"x" * 65536] * 32 + [b'"}'], "larger than")


def test_a_secrets_file_nested_50000_deep():
    _bad_secrets_then_fixed(4, [b"[" * 50000, b"]" * 50000], "larger than")


def test_a_secrets_file_nested_deep_within_the_size_bound():
    _bad_secrets_then_fixed(5, [b"[" * 1000, b"]" * 1000], "must be a JSON object")


def test_a_secrets_file_that_is_not_utf8():
    body = '{"wifi": {"ssid": "caf', '", "password": "%s"}}' % PASSWORD
    _bad_secrets_then_fixed(6, [body[0].encode(), b"\xe9", body[1].encode()],
                            "is not UTF-8 text")


def test_a_memory_error_while_reading_the_secrets():
    # A heap too fragmented for the file's buffer: a MemoryError where the
    # read happens, then the same file read again once the heap is back.
    cik = seeded_cik(7)
    secrets = wifi_secrets(cik=cik)
    secrets["note"] = "n" * 1500
    device, board, logs = make_app(secrets=secrets)
    hog = [None] * 8192
    gc.collect()
    try:
        for index in range(len(hog)):
            hog[index] = bytearray(256)
    except MemoryError:
        pass
    # Scattered room: enough for a log line, no 2 KB in one piece for the file.
    for index in range(0, 40, 2):
        hog[index] = None
    gc.collect()
    try:
        loaded = device.load_secrets()
    finally:
        hog = None
        gc.collect()
    assert loaded is False
    assert "MemoryError" in device.config_error, device.config_error
    device.start()
    device.run(600)
    assert device.config_error is None and "secrets loaded" in text(logs)
    assert values(cik) == list(range(1, device.committed + 1))
    finish(device, logs, cik)


# -- the loop's pace and its push size -------------------------------------------------

def _failing_flash(board, profile):
    """The board's flash, refusing every program and erase while .failing
    is set (a worn or browned-out chip): LittleFS sees EIO, as from a
    board's flash driver."""
    import blockdev  # loaded by the unix board's glue

    class FailingFlash(blockdev.FileBlockDevice):
        failing = False

        def writeblocks(self, block, buffer, offset=None):
            if self.failing:
                return -5
            return super().writeblocks(block, buffer, offset)

        def ioctl(self, operation, argument):
            if self.failing and operation == 6:
                return -5
            return super().ioctl(operation, argument)
    storage = profile["storage"]
    flash = FailingFlash(storage["image"], storage["blocks"])
    board.devices[storage["mount"]] = flash
    return flash


def test_a_failed_commit_waits_for_the_next_sample_slot():
    cik = seeded_cik(8)
    device, board, logs = make_app(secrets=wifi_secrets(cik=cik))
    flash = _failing_flash(board, device.profile)
    device.run(600)
    flash.failing = True
    before = len(logs)
    device.run(1800)
    failed = [line for line in logs[before:] if "error in cycle" in line]
    # One failed commit per sample slot: 30 in 30 minutes, not one a second.
    assert 29 <= len(failed) <= 31, len(failed)
    flash.failing = False
    device.run(900)
    assert device.samples == 55 and device.committed == 25, (device.samples, device.committed)
    # What was committed arrived; the samples the flash refused are gone, and said so.
    assert values(cik) == list(range(1, 11)) + list(range(41, 56)), values(cik)
    finish(device, logs, cik)


def test_a_memory_error_shrinks_the_push_only_until_a_push_succeeds():
    from uonep import forward
    cik = seeded_cik(9)
    device, board, logs = make_app({"simulation.outages": [[0, 1200]]},
                                   secrets=wifi_secrets(cik=cik))
    board.world.requests = TightHeap(2)
    device.run(1800)
    # Halved at each of the two failures.
    assert "low memory: pushing in requests of at most %d bytes" % (
        forward.MAX_BYTES // 4) in text(logs)
    # The push that succeeded at a quarter of the default gave it back.
    assert device.connection.push_bytes == forward.MAX_BYTES
    assert "requests back to %d bytes" % forward.MAX_BYTES in text(logs)
    device.run(1800)
    assert device.last_push["requests"] == 1
    assert values(cik) == list(range(1, 61))
    finish(device, logs, cik)


# -- memory, said truthfully -----------------------------------------------------------

def test_status_reports_the_heap_free_now_and_what_it_could_grow_into():
    device, board, logs = make_app(secrets=wifi_secrets(cik=seeded_cik(10)))
    device.run(120)
    status = device.status()
    measured = gc.mem_free()
    # The unix port's heap is fixed (-X heapsize): it cannot grow.
    assert status["mem_grow"] == 0, status
    assert abs(status["mem_free"] - measured) < 4096, (status["mem_free"], measured)
    finish(device, logs)


class _Module:
    """A stand-in for a hardware module of the ESP32 port."""


def test_esp32_memory_leaves_out_the_heap_it_could_still_grow_into():
    # On the ESP32 port (MicroPython 1.21 and later) gc.mem_free() adds the
    # largest free block of the IDF heap, which the Python heap may take on
    # demand; the board glue reports the two apart. The hardware modules
    # are the edge: stand-ins with the port's documented answers.
    esp32 = _Module()
    esp32.HEAP_DATA = 4
    esp32.idf_heap_info = lambda capabilities: [(7288, 0, 0, 0), (113840, 40960, 36864, 30000),
                                                (15072, 15036, 15036, 15036)]
    machine = _Module()
    saved = {name: sys.modules.get(name) for name in ("esp32", "machine", "board")}
    sys.modules["esp32"] = esp32
    sys.modules["machine"] = machine
    sys.modules.pop("board", None)
    sys.path.insert(0, "boards/esp32")
    try:
        import board as esp32_board
        glue = esp32_board.Board(appconfig.load_profile("boards/esp32"))
        expected = gc.mem_free() - 36864
        free, grow = glue.memory()
    finally:
        sys.path.pop(0)
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    assert grow == 36864
    assert abs(free - max(0, expected)) < 4096, (free, expected)
