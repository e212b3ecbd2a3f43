"""Time series procedures: read, write, writegroup, record, recordbatch,
flush, wait; formats and retention. The clock stands still at T0 unless moved."""

import threading
import time

from emulator_helpers import CIK, T0

TEMP = {"alias": "temp"}
COUNT = {"alias": "count"}
STATUS = {"alias": "status"}


def test_write_then_read_latest(rpc, emu):
    assert rpc.ok("write", TEMP, 21.5) is None
    assert rpc.ok("read", TEMP, {}) == [[T0, 21.5]]
    assert emu.points(CIK, "temp") == [[T0, 21.5]]


def test_write_answer_has_no_result_key(rpc):
    # "result is absent for procedures with nothing to return"
    assert rpc.call("write", TEMP, 1.0) == {"id": 1, "status": "ok"}


def test_write_accepts_pyonep_trailing_options(rpc):
    rpc.ok("write", STATUS, "on", {})
    assert rpc.ok("read", STATUS, {}) == [[T0, "on"]]


def test_documented_read_example(rpc, emu):
    # the RPC reference's example: a window, ascending, limit 10
    rpc.ok("recordbatch", TEMP, [[T0 - 30, 1], [T0 - 20, 2], [T0 - 10, 3], [T0, 4]])
    answer = rpc.ok("read", TEMP, {"starttime": T0 - 25, "endtime": T0 - 5, "sort": "asc",
                                   "limit": 10})
    assert answer == [[T0 - 20, 2.0], [T0 - 10, 3.0]]


def test_read_defaults_desc_limit_one_until_now(rpc, emu):
    rpc.ok("recordbatch", TEMP, [[T0 - 2, 1], [T0 - 1, 2], [T0 + 100, 9]])
    # endtime defaults to now: the future point is not read
    assert rpc.ok("read", TEMP, {}) == [[T0 - 1, 2.0]]
    assert rpc.ok("read", TEMP) == [[T0 - 1, 2.0]]


def test_read_limit_applies_after_sorting(rpc):
    rpc.ok("recordbatch", TEMP, [[T0 - 3, 1], [T0 - 2, 2], [T0 - 1, 3]])
    assert rpc.ok("read", TEMP, {"limit": 2}) == [[T0 - 1, 3.0], [T0 - 2, 2.0]]
    assert rpc.ok("read", TEMP, {"limit": 2, "sort": "asc"}) == [[T0 - 3, 1.0], [T0 - 2, 2.0]]
    assert rpc.ok("read", TEMP, {"limit": 0}) == []


def test_read_bounds_are_inclusive(rpc):
    rpc.ok("recordbatch", TEMP, [[T0 - 3, 1], [T0 - 2, 2], [T0 - 1, 3]])
    got = rpc.ok("read", TEMP, {"starttime": T0 - 3, "endtime": T0 - 1, "limit": 9, "sort": "asc"})
    assert [point[0] for point in got] == [T0 - 3, T0 - 2, T0 - 1]


def test_read_givenwindow_one_point_per_part(rpc):
    # window [T0-99, T0] in 4 parts of 25 s; part 3 (T0-49..T0-25) is empty
    rpc.ok("recordbatch", TEMP, [[T0 - 99, 1], [T0 - 80, 2], [T0 - 70, 3], [T0 - 10, 4],
                                 [T0 - 5, 5]])
    got = rpc.ok("read", TEMP, {"starttime": T0 - 99, "endtime": T0, "limit": 4,
                                "selection": "givenwindow", "sort": "asc"})
    # the oldest point of each non-empty part
    assert got == [[T0 - 99, 1.0], [T0 - 70, 3.0], [T0 - 10, 4.0]]


def test_read_autowindow_samples_evenly(rpc):
    rpc.ok("recordbatch", TEMP, [[T0 - 10 + step, step] for step in range(9)])
    got = rpc.ok("read", TEMP, {"starttime": T0 - 10, "limit": 3, "selection": "autowindow",
                                "sort": "asc"})
    assert got == [[T0 - 10, 0.0], [T0 - 6, 4.0], [T0 - 2, 8.0]]
    everything = rpc.ok("read", TEMP, {"starttime": T0 - 10, "limit": 50,
                                       "selection": "autowindow"})
    assert len(everything) == 9 and everything[0][0] == T0 - 2


def test_read_bad_options_are_501(rpc):
    error = rpc.call("read", TEMP, {"sort": "sideways"})["error"]
    assert error["code"] == 501 and error["context"] == "arguments"


def test_two_writes_in_one_second_keep_the_later(rpc, emu):
    # One Platform keeps one point per timestamp per dataport: the later write replaces
    rpc.ok("write", TEMP, 1)
    rpc.ok("write", TEMP, 2)
    assert emu.points(CIK, "temp") == [[T0, 2.0]]


def test_write_formats(rpc, emu):
    assert rpc.status("write", TEMP, "warm") == "invalid"
    rpc.ok("write", TEMP, 3)                     # an int to a float dataport is fine...
    assert emu.points(CIK, "temp") == [[T0, 3.0]]  # ...and is stored as a float
    assert rpc.status("write", COUNT, 2.5) == "invalid"
    rpc.ok("write", COUNT, 7.0)                  # an integral float is stored as int
    assert emu.points(CIK, "count") == [[T0, 7]]
    rpc.ok("write", COUNT, "7")                  # a numeric string is stored as the number
    assert emu.points(CIK, "count") == [[T0, 7]]
    assert rpc.status("write", COUNT, "seven") == "invalid"
    assert rpc.status("write", STATUS, 5) == "invalid"   # no number-to-string conversion
    assert rpc.status("write", TEMP, True) == "invalid"
    assert rpc.status("write", TEMP, None) == "invalid"
    assert rpc.status("write", COUNT, 1 << 63) == "invalid"


def test_write_unknown_alias_and_client_target(rpc):
    assert rpc.status("write", {"alias": "nope"}, 1) == "invalid"
    # the calling client itself is not a dataport
    assert rpc.status("write", {"alias": ""}, 1) == "invalid"


def test_writegroup_shares_one_timestamp(rpc, emu):
    rpc.ok("writegroup", [[TEMP, 20.5], [COUNT, 4], [STATUS, "ok"]])
    assert emu.points(CIK, "temp") == [[T0, 20.5]]
    assert emu.points(CIK, "count") == [[T0, 4]]
    assert emu.points(CIK, "status") == [[T0, "ok"]]


def test_writegroup_is_all_or_nothing(rpc, emu):
    assert rpc.status("writegroup", [[TEMP, 1.0], [COUNT, "x"]]) == "invalid"
    assert emu.points(CIK, "temp") == []


def test_record_documented_example(rpc, emu):
    rpc.ok("record", TEMP, [[T0 - 60, 1.5], [-30, 2.5]], {})
    assert emu.points(CIK, "temp") == [[T0 - 60, 1.5], [T0 - 30, 2.5]]


def test_record_refuses_everything_if_one_point_is_bad(rpc, emu):
    assert rpc.status("record", TEMP, [[T0 - 60, 1.5], [T0 - 30, "x"]], {}) == "invalid"
    assert emu.points(CIK, "temp") == []


def test_recordbatch_relative_and_absolute(rpc, emu):
    rpc.ok("recordbatch", COUNT, [[-10, 1], [T0 - 5, 2], [-1, 3]])
    assert emu.points(CIK, "count") == [[T0 - 10, 1], [T0 - 5, 2], [T0 - 1, 3]]


def test_recordbatch_partial_invalid_stores_the_rest(rpc, emu):
    entry = rpc.call("recordbatch", COUNT, [[T0 - 3, 1], [T0 - 2, "two"], [-1, 1.5],
                                            [T0, 4]])
    assert entry["status"] == [[T0 - 2, "invalid"], [-1, "invalid"]]
    assert emu.points(CIK, "count") == [[T0 - 3, 1], [T0, 4]]


def test_recordbatch_malformed_entries_are_501(rpc, emu):
    error = rpc.call("recordbatch", COUNT, [[T0, 1, 2]])["error"]
    assert error["code"] == 501


def test_retention_by_count(rpc, emu):
    rpc.ok("update", TEMP, {"retention": {"count": 3}})
    rpc.ok("recordbatch", TEMP, [[T0 - step, step] for step in range(6)])
    assert emu.points(CIK, "temp") == [[T0 - 2, 2.0], [T0 - 1, 1.0], [T0, 0.0]]


def test_retention_by_duration_hours(rpc, emu):
    rpc.ok("update", TEMP, {"retention": {"duration": 1}})
    rpc.ok("recordbatch", TEMP, [[T0 - 7200, 1], [T0 - 3599, 2]])
    assert emu.points(CIK, "temp") == [[T0 - 3599, 2.0]]
    emu.set_clock(advance=10)
    rpc.ok("write", TEMP, 3)  # retention is enforced on insert
    assert emu.points(CIK, "temp") == [[T0 + 10, 3.0]]


def test_retention_on_create(rpc, emu):
    rid = rpc.ok("create", "dataport", {"format": "integer",
                                         "retention": {"count": 1, "duration": "infinity"}})
    rpc.ok("recordbatch", rid, [[T0 - 1, 1], [T0, 2]])
    assert rpc.ok("read", rid, {"limit": 5}) == [[T0, 2]]


def test_flush_everything(rpc, emu):
    rpc.ok("recordbatch", TEMP, [[T0 - 2, 1], [T0 - 1, 2]])
    rpc.ok("flush", TEMP)
    assert emu.points(CIK, "temp") == []


def test_flush_bounds_are_exclusive(rpc, emu):
    rpc.ok("recordbatch", TEMP, [[T0 - step, step] for step in range(5)])
    rpc.ok("flush", TEMP, {"newerthan": T0 - 4, "olderthan": T0})
    assert emu.points(CIK, "temp") == [[T0 - 4, 4.0], [T0, 0.0]]
    rpc.ok("flush", TEMP, {"olderthan": T0})
    assert emu.points(CIK, "temp") == [[T0, 0.0]]
    rpc.ok("flush", TEMP, {"newerthan": T0 - 1})
    assert emu.points(CIK, "temp") == []


def test_flush_bad_window_is_501(rpc):
    assert rpc.call("flush", TEMP, {"after": 3})["error"]["code"] == 501


def test_wait_returns_a_point_newer_than_since_at_once(rpc):
    rpc.ok("recordbatch", TEMP, [[T0 - 5, 1]])
    assert rpc.ok("wait", TEMP, {"since": T0 - 10, "timeout": 5000}) == [T0 - 5, 1.0]


def test_wait_expires(rpc):
    started = time.monotonic()
    assert rpc.status("wait", TEMP, {"timeout": 200}) == "expire"
    assert 0.15 < time.monotonic() - started < 2


def test_wait_wakes_on_write(rpc, emu):
    from emulator_helpers import Rpc
    writer = Rpc(emu.session())
    timer = threading.Timer(0.2, lambda: writer.ok("write", TEMP, 42))
    started = time.monotonic()
    timer.start()
    try:
        # without since: a point written after the call started
        assert rpc.ok("wait", TEMP, {"timeout": 5000}) == [T0, 42.0]
    finally:
        timer.join()
    assert time.monotonic() - started < 2


def test_wait_without_since_ignores_old_points(rpc):
    rpc.ok("write", TEMP, 1)
    assert rpc.status("wait", TEMP, {"timeout": 100, "since": None}) == "expire"
