"""Start, stop, persistence, seeds, provisioning, /timestamp, the page,
the CLI and the pytest fixtures. What does not need a socket runs in
process; provisioning, /timestamp, the page and unknown paths run through
both front doors (`door`)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulator_helpers import CIK, T0, Rpc, over_http
from uonep_host.emulator import DEFAULT_SEED, Emulator

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_JSON = ROOT / "tests" / "seeds" / "default.json"
ACTIVATE = "/provision/activate"


def test_default_json_is_the_builtin_seed():
    assert json.loads(DEFAULT_JSON.read_text()) == DEFAULT_SEED


def test_data_survives_a_restart_on_the_same_file(tmp_path):
    db = tmp_path / "onep.sqlite"
    first = Emulator(db=str(db), seed=DEFAULT_JSON, clock=lambda: T0)
    Rpc(first.session()).ok("write", {"alias": "temp"}, 19.5)
    child = Rpc(first.session()).ok("create", "client", {"name": "kept"})
    first.stop()
    second = Emulator(db=str(db), seed=DEFAULT_JSON, clock=lambda: T0)
    try:
        assert second.points(CIK, "temp") == [[T0, 19.5]]
        rpc = Rpc(second.session())
        # seeding again is idempotent: still one client with the CIK, same dataports
        listed = rpc.ok("listing", {"alias": ""}, ["client", "dataport"], {})
        assert listed["client"] == [child] and len(listed["dataport"]) == 3
    finally:
        second.stop()


def test_two_files_share_nothing(tmp_path):
    one = Emulator(db=str(tmp_path / "a.sqlite"), seed=DEFAULT_SEED)
    other = Emulator(db=str(tmp_path / "b.sqlite"), seed=DEFAULT_SEED)
    Rpc(one.session()).ok("write", {"alias": "temp"}, 1.0)
    assert other.points(CIK, "temp") == []
    assert one.rid(CIK) != other.rid(CIK)
    one.stop()
    other.stop()


def test_activation_once(door):
    form = {"vendor": "acme", "model": "m1", "sn": "0001"}
    answer = door.post(ACTIVATE, data=form)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.text == "2" * 40
    device = door.rpc(answer.text)
    device.ok("write", {"alias": "temp"}, 4.5)            # created with its dataports
    assert device.ok("lookup", "alias", "") != answer.text  # a RID is not the CIK
    assert door.post(ACTIVATE, data=form).status_code == 409


def test_activation_refusals(door):
    def activate(**form):
        return door.post(ACTIVATE, data=form).status_code
    assert activate(vendor="acme", model="m1", sn="9999") == 404
    assert activate(vendor="acme", model="m1", sn="0002") == 409   # not enabled
    assert activate(vendor="acme") == 400


def test_activation_under_an_owner():
    seed = {"clients": [{"cik": "a" * 40}],
            "devices": [{"vendor": "v", "model": "m", "sn": "1", "owner": "a" * 40,
                         "name": "sensor", "dataports": [{"alias": "x", "format": "integer"}]}]}
    emulator = Emulator(seed=seed)
    cik = emulator.session().post(ACTIVATE, data="vendor=v&model=m&sn=1").text
    owner = Rpc(emulator.session(), "a" * 40)
    child = owner.ok("listing", {"alias": ""}, ["client"], {})["client"]
    assert child == [emulator.rid(cik)]
    assert owner.ok("info", child[0], {"key": True})["key"] == cik
    emulator.stop()


def test_timestamp(door):
    answer = door.get("/timestamp")
    assert answer.status_code == 200 and answer.text == str(T0)
    assert answer.headers["Content-Type"].startswith("text/plain")


def test_timestamp_follows_the_real_clock_by_default():
    emulator = Emulator()
    assert abs(int(emulator.session().get("/timestamp").text) - time.time()) < 5
    emulator.stop()


def test_page_lists_values_and_hides_ciks(door):
    rpc = door.rpc()
    rpc.ok("recordbatch", {"alias": "temp"}, [[T0 - 2, 1], [T0 - 1, 3], [T0, 2]])
    rpc.ok("write", {"alias": "status"}, "<script>alert(1)</script>")
    child = rpc.ok("create", "client", {"name": "<b>kid</b>"})
    key = rpc.ok("info", child, {"key": True})["key"]
    page = door.get("/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "temp" in html and "<svg" in html and "<polyline" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>kid</b>" not in html
    assert CIK not in html and key not in html and "1111\u2026" in html


def test_unknown_paths_are_404(door):
    assert door.get("/nothing").status_code == 404
    assert door.post("/nothing", data=b"x").status_code == 404
    assert door.get("/_emulator/nothing").status_code == 404
    assert door.get("/onep:v1/rpc/process").status_code == 404
    assert door.get("/timestamp").status_code == 200     # the connection still works


def test_bad_seed_is_refused():
    with pytest.raises(ValueError):
        Emulator(seed={"clients": [{"cik": "short"}]})
    with pytest.raises(ValueError):
        Emulator(seed={"clients": [{"cik": "a" * 40, "dataports": [{"format": "blob"}]}]})


@pytest.mark.parametrize("door_name", ["in_process", "http"])
def test_stop_ends_a_long_poll_quickly(emu, door_name):
    import threading
    rpc = Rpc(emu.session()) if door_name == "in_process" else over_http(emu.start().url)
    outcome = []
    waiter = threading.Thread(target=lambda: outcome.append(
        _quiet(lambda: rpc.call("wait", {"alias": "temp"}, {"timeout": 60000}))))
    waiter.start()
    time.sleep(0.2)
    started = time.monotonic()
    emu.stop()
    waiter.join(5)
    assert not waiter.is_alive() and time.monotonic() - started < 3
    if door_name == "in_process":
        # the long poll ended with its answer, before the database closed
        assert [entry["status"] for entry in outcome] == ["expire"]


def _quiet(action):
    try:
        return action()
    except Exception as failure:
        return failure


def test_cli_runs_and_stops_on_sigterm(tmp_path):
    db = tmp_path / "cli.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "uonep_host.emulator", "--port", "0", "--db", str(db),
         "--seed", str(DEFAULT_JSON)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        assert "http://127.0.0.1:" in first
        url = first[first.index("http://"):].split()[0]
        assert requests.get(url + "/timestamp").status_code == 200
        rpc = over_http(url)
        rpc.ok("write", {"alias": "temp"}, 1.25)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    # the request log goes to stdout, with the CIK masked
    assert "1111\u2026" in out and CIK not in out + first + err
    with Emulator(db=str(db)) as again:
        assert again.points(CIK, "temp")[0][1] == 1.25


def test_cli_stops_on_sigint():
    process = subprocess.Popen([sys.executable, "-m", "uonep_host.emulator", "--quiet"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert "http://127.0.0.1:" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0


# -- the pytest plugin's fixtures ------------------------------------------------


def test_plugin_fixture_default_seed(onep_emulator):
    assert onep_emulator.url.startswith("http://127.0.0.1:")
    rpc = over_http(onep_emulator.url)
    rpc.ok("write", {"alias": "count"}, 3)
    assert onep_emulator.points(CIK, "count")[0][1] == 3
    assert "faults" in dir(onep_emulator)


class TestSeedOverride:
    @pytest.fixture
    def onep_seed(self):
        return {"clients": [{"cik": "c" * 40, "dataports": [{"alias": "v", "format": "string"}],
                             "clients": [{"alias": "sub", "name": "nested"}]}]}

    def test_override(self, onep_emulator):
        rpc = over_http(onep_emulator.url, "c" * 40)
        rpc.ok("write", {"alias": "v"}, "x")
        sub = rpc.ok("lookup", "alias", "sub")
        assert rpc.ok("info", sub, {"description": True})["description"]["name"] == "nested"
        assert rpc.call("lookup", "alias", "", auth={"cik": CIK})["error"]["code"] == 401


class TestSeedFromPath:
    @pytest.fixture
    def onep_seed(self):
        return str(DEFAULT_JSON)

    def test_path(self, onep_emulator):
        assert over_http(onep_emulator.url).ok("read", {"alias": "temp"}, {}) == []
        assert os.path.exists(DEFAULT_JSON)


def test_seed_points_and_fixed_rids():
    seed = {"clients": [{"cik": "d" * 40, "rid": "e" * 40, "dataports": [
        {"alias": "t", "format": "float", "rid": "f" * 40, "points": [[-20, 1], [T0 - 10, 2]]}]}]}
    emulator = Emulator(seed=seed, clock=lambda: T0)
    assert emulator.rid("d" * 40) == "e" * 40 and emulator.rid("d" * 40, "t") == "f" * 40
    assert emulator.points("d" * 40, "t") == [[T0 - 20, 1.0], [T0 - 10, 2.0]]
    assert "<polyline" in emulator.session().get("/").text
    emulator.stop()
    with pytest.raises(ValueError):
        Emulator(seed={"clients": [{"cik": "d" * 40, "rid": "nope"}]})
