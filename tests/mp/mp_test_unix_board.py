"""The unix board's glue (boards/unix): a profile that schedules nothing of
the simulated world runs on the plain glue alone (WiFi always up, HTTP
straight through uonep.http, no watchdog) and never loads simulation.py;
a schedule (outages, faults, an emulator control URL) or simulate() loads
it, from the glue's folder, which is not on sys.path after the import."""
import os
import sys

import app
import appconfig

HEAPSIZE = "512k"


def _profile(changes):
    folder = os.getenv("UONEP_TMP") + "/unix-board-" + "".join(
        "%02x" % byte for byte in os.urandom(4))
    appconfig.makedirs(folder)
    settings = {"storage.image": folder + "/flash.img", "storage.mount": "/" + folder[-8:],
                "journal.path": "/" + folder[-8:] + "/journal"}
    settings.update(changes)
    return appconfig.load_profile("boards/unix", settings)


def _board(changes):
    sys.modules.pop("simulation", None)
    return app.load_board("boards/unix", _profile(changes))


def test_a_board_without_a_schedule_loads_only_the_plain_glue():
    board = _board({"simulation.control": None})
    assert "simulation" not in sys.modules and board.world is None
    assert board.wifi_connect("home", "secret", 15) and board.wifi_connected()
    assert board.watchdog(60) is None
    from uonep.http import HTTP
    http = board.http(False)
    assert isinstance(http, HTTP) and board.http(False) is http
    # Another verify: a new HTTP, the old one's connection closed.
    assert board.http(True) is not http
    board.sleep("light", 90)
    assert board.clock().ticks_ms() == 90000 and not board.clock().valid()
    assert "simulation" not in sys.modules
    read = board.sensor({"kind": "simulated", "middle": 10.0, "amplitude": 1.0})
    assert 8.8 < read() < 11.2
    try:
        board.sensor({"kind": "adc"})
    except ValueError as failure:
        assert "adc" in str(failure)
    else:
        raise AssertionError("an unknown sensor kind was accepted")


def test_a_scheduled_outage_loads_the_world_and_takes_wifi_down():
    board = _board({"simulation.outages": [[0, 120]]})
    world = board.world
    assert "simulation" in sys.modules and world is not None
    assert board.http() is world
    # A failed association takes the whole timeout.
    assert not board.wifi_connect("home", "secret", 15)
    assert board.clock().ticks_ms() == 15000
    try:
        world.request("GET", "http://127.0.0.1:9/")
    except OSError as failure:
        assert "simulated WiFi down" in str(failure)
    else:
        raise AssertionError("a request went out during an outage")
    assert world.sent == 0
    board.sleep("light", 120)
    assert board.wifi_connect("home", "secret", 15) and board.wifi_connected()
    assert board.watchdog(60) is world.watchdogs[0]


def test_simulate_finds_the_world_off_sys_path():
    board = _board({"simulation.control": None})
    assert not any(place.endswith("boards/unix") for place in sys.path), sys.path
    path = list(sys.path)
    world = board.simulate()
    assert sys.path == path and board.simulate() is world
    assert board.wifi_connect("home", "secret", 15) and board.wifi_connected()
    world.start_outage(30)
    assert not board.wifi_connected()
    board.sleep("light", 30)
    # Over, but the association was lost with it: the app connects again.
    assert not board.wifi_connected()
    assert board.wifi_connect("home", "secret", 15) and board.wifi_connected()
    assert world.now() == 1735689600 + 30
