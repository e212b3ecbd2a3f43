"""Store and forward end to end: add_value / commit / push against the
emulator and its fault injection, with the real Journal on disk."""
import json
import time

import pytest

from uonep.errors import (AuthError, CallError, HTTPError, JournalFullError, ProtocolError,
                          TransportError, ValidationError)
from uonep.forward import decode_commit
from uonep.forward import Uplink
from uonep.journal import Journal
from uonep.manualclock import UNSET, ManualClock
from uonep_host import Client
from uonep_host.emulator import DEFAULT_CIK

NOW = 1790000000


@pytest.fixture
def clock():
    return ManualClock(NOW)


def _client(emulator, path, clock, cik=DEFAULT_CIK, **journal_options):
    """The store and forward side of a device: an Uplink over a Client."""
    journal = Journal(str(path), **journal_options)
    return Uplink(Client(cik, emulator.url, timeout=2), journal, clock)


@pytest.fixture
def client(onep_emulator, tmp_path, clock):
    return _client(onep_emulator, tmp_path / "journal", clock, capacity_bytes=1 << 20)


def _commit_series(client, clock, count, alias="temp", start=0):
    for step in range(start, start + count):
        client.add_value(alias, float(step))
        client.commit()
        clock.advance(60)


def _stored(emulator, alias="temp"):
    return emulator.points(DEFAULT_CIK, alias)


def test_last_value_wins_and_commit_is_one_record(client, onep_emulator):
    client.add_value("temp", 1.0)
    client.add_value("temp", 2.0)
    client.add_value("count", 5)
    assert client.commit() == 2
    assert client.commit() == 0  # nothing staged
    [(position, payload)] = list(client.journal.pending())
    timestamp, _, _, points = decode_commit(payload)
    assert timestamp == NOW and sorted(points) == [["count", 5], ["temp", 2.0]]
    report = client.push()
    assert report["sent"] == 2 and report["remaining"] == 0
    assert _stored(onep_emulator) == [[NOW, 2.0]]
    assert _stored(onep_emulator, "count") == [[NOW, 5]]


def test_bad_values_never_reach_the_journal(client):
    for bad in (float("nan"), float("inf"), b"raw", None, [1], True):
        with pytest.raises(ValidationError):
            client.add_value("temp", bad)
    with pytest.raises(ValidationError):
        client.add_value("", 1.0)
    assert client.commit() == 0 and client.journal.stats()["pending"] == 0


def test_commits_survive_reopening(onep_emulator, tmp_path, clock):
    first = _client(onep_emulator, tmp_path / "j", clock)
    _commit_series(first, clock, 5)
    first.journal.close()
    second = _client(onep_emulator, tmp_path / "j", clock)
    assert second.push()["sent"] == 5
    assert [value for _, value in _stored(onep_emulator)] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_push_batches_points_into_few_requests(client, onep_emulator, clock):
    _commit_series(client, clock, 300)
    for step in range(300):
        client.add_value("count", step)
        client.add_value("status", "s%d" % step)
        client.commit()
        clock.advance(60)
    before = onep_emulator.request_count
    report = client.push(max_bytes=4096)
    assert report["sent"] == 900 and report["remaining"] == 0
    assert report["requests"] == onep_emulator.request_count - before
    assert report["requests"] <= 12
    assert len(_stored(onep_emulator)) == 300 and len(_stored(onep_emulator, "status")) == 300
    assert report["bytes"] <= report["requests"] * 4096
    for entry in onep_emulator.requests[-report["requests"]:]:
        # The emulator logs the CIK masked: count it at its real 40 characters.
        masked = entry["body"]["auth"]["cik"]
        text = json.dumps(entry["body"], separators=(",", ":"), ensure_ascii=False)
        assert len(text) - len(masked) + len(DEFAULT_CIK) <= 4096


def test_push_oldest_first_with_max_points(client, onep_emulator, clock):
    _commit_series(client, clock, 10)
    report = client.push(max_points=4)
    assert report["sent"] == 4 and report["remaining"] == 6
    assert [value for _, value in _stored(onep_emulator)] == [0.0, 1.0, 2.0, 3.0]
    assert client.push()["sent"] == 6


@pytest.mark.parametrize("fault, error", [
    ({"kind": "drop_before_body"}, TransportError),
    ({"kind": "http_status", "status": 500}, HTTPError),
    ({"kind": "http_status", "status": 502}, HTTPError),
    ({"kind": "http_status", "status": 503}, HTTPError),
    ({"kind": "truncate"}, ProtocolError),
    ({"kind": "stall", "seconds": 3}, TransportError),
])
def test_failed_push_keeps_everything(client, onep_emulator, clock, fault, error):
    _commit_series(client, clock, 20)
    onep_emulator.faults.arm(**fault)
    with pytest.raises(error) as caught:
        client.push()
    assert caught.value.retryable
    assert client.journal.stats()["pending"] == 20
    report = client.push()
    assert report["sent"] == 20
    assert [value for _, value in _stored(onep_emulator)] == [float(step) for step in range(20)]


def test_lost_acknowledgement_resends_without_duplicating(client, onep_emulator, clock):
    _commit_series(client, clock, 10)
    onep_emulator.faults.arm("drop_after_body")
    with pytest.raises(TransportError):
        client.push()
    assert len(_stored(onep_emulator)) == 10  # the calls ran, the answer was lost
    assert client.push()["sent"] == 10
    assert len(_stored(onep_emulator)) == 10  # same timestamps: stored once


def test_auth_error_keeps_everything(client, onep_emulator, clock):
    _commit_series(client, clock, 5)
    onep_emulator.faults.arm("auth")
    with pytest.raises(AuthError):
        client.push()
    assert client.journal.stats()["pending"] == 5
    assert client.push()["sent"] == 5


def test_wrong_cik_keeps_everything(onep_emulator, tmp_path, clock):
    wrong = _client(onep_emulator, tmp_path / "j", clock, cik="9" * 40)
    _commit_series(wrong, clock, 3)
    with pytest.raises(AuthError):
        wrong.push()
    wrong.journal.close()
    right = _client(onep_emulator, tmp_path / "j", clock)
    assert right.push()["sent"] == 3


def test_invalid_points_go_to_the_dead_letter_store(client, onep_emulator, clock):
    client.add_value("temp", 1.0)
    client.commit()
    clock.advance(60)
    client.add_value("count", "not an integer")
    client.add_value("temp", 2.0)
    client.commit()
    clock.advance(60)
    client.add_value("nosuchalias", 3.0)
    client.commit()
    report = client.push()
    assert report["dead_lettered"] == 2 and report["remaining"] == 0
    assert [value for _, value in _stored(onep_emulator)] == [1.0, 2.0]
    letters = list(client.journal.dead_letters())
    reasons = sorted(reason for _, reason in letters)
    assert len(letters) == 2 and "invalid" in reasons
    resources = sorted(decode_commit(payload)[3][0][0] for payload, _ in letters)
    assert resources == ["count", "nosuchalias"]
    assert client.journal.stats()["dead_lettered"] == 2
    assert client.push()["sent"] == 0  # never retried


def test_call_failure_that_may_pass_keeps_the_points(client, onep_emulator, clock):
    _commit_series(client, clock, 3)
    onep_emulator.faults.arm("call_status", procedure="recordbatch", call_status="fail")
    with pytest.raises(Exception) as caught:
        client.push()
    assert getattr(caught.value, "status", None) == "fail"
    # The failed call's points were committed again, with their own timestamps.
    [(_, payload)] = list(client.journal.pending())
    assert decode_commit(payload)[3] == [["temp", float(step), NOW + 60 * step]
                                         for step in range(3)]
    assert client.push()["sent"] == 3
    assert _stored(onep_emulator) == [[NOW + 60 * step, float(step)] for step in range(3)]


def test_only_the_failed_call_is_sent_again(client, onep_emulator, clock):
    for step in range(3):
        client.add_value("temp", float(step))
        client.add_value("count", step)
        client.commit()
        clock.advance(60)
    onep_emulator.faults.arm("call_status", procedure="recordbatch", call_status="fail")
    with pytest.raises(CallError):
        client.push()
    sent_before = len(onep_emulator.requests)
    assert client.push()["sent"] == 3
    [retry] = onep_emulator.requests[sent_before:]
    assert len(retry["body"]["calls"]) == 1  # only the call that failed
    assert len(_stored(onep_emulator)) == 3 and len(_stored(onep_emulator, "count")) == 3


def test_journal_full_refuse_keeps_values_staged(onep_emulator, tmp_path, clock):
    client = _client(onep_emulator, tmp_path / "j", clock, capacity_bytes=4096,
                     policy="refuse")
    committed = 0
    with pytest.raises(JournalFullError):
        for step in range(10000):
            client.add_value("temp", float(step))
            client.commit()
            committed += 1
            clock.advance(1)
    assert 0 < committed < 10000
    assert client.journal.stats()["pending"] == committed
    assert client.push()["sent"] == committed
    assert client.commit() == 1  # the refused value was still staged


def test_journal_full_drop_oldest_counts_what_it_dropped(onep_emulator, tmp_path, clock):
    client = _client(onep_emulator, tmp_path / "j", clock, capacity_bytes=4096,
                     policy="drop_oldest")
    _commit_series(client, clock, 500)
    stats = client.journal.stats()
    assert stats["dropped"] > 0 and stats["pending"] + stats["dropped"] == 500
    report = client.push()
    delivered = [value for _, value in _stored(onep_emulator)]
    assert report["sent"] == stats["pending"]
    assert delivered == [float(step) for step in range(stats["dropped"], 500)]


def test_commits_before_the_clock_is_valid_are_dated_at_push(client, onep_emulator, clock):
    clock.set_unix_time(UNSET)
    client.add_value("temp", 1.0)
    client.commit()
    clock.advance(120)
    client.add_value("temp", 2.0)
    client.commit()
    clock.advance(30)
    clock.set_unix_time(NOW)  # NTP arrived
    assert client.push()["sent"] == 2
    assert _stored(onep_emulator) == [[NOW - 150, 1.0], [NOW - 30, 2.0]]


def test_untimed_commits_pushed_before_the_clock_is_valid_use_offsets(client, onep_emulator,
                                                                       clock):
    clock.set_unix_time(UNSET)
    client.add_value("temp", 7.0)
    client.commit()
    clock.advance(300)
    server_now = int(time.time())
    assert client.push()["sent"] == 1
    [[timestamp, value]] = _stored(onep_emulator)
    assert value == 7.0 and abs(timestamp - (server_now - 300)) <= 3


def test_untimed_commits_of_an_earlier_boot_are_never_sent_as_1970(onep_emulator, tmp_path,
                                                                    clock):
    clock.set_unix_time(UNSET)
    before = _client(onep_emulator, tmp_path / "j", clock)
    before.add_value("temp", 1.0)
    before.commit()
    before.journal.close()
    clock.set_unix_time(NOW)
    after = _client(onep_emulator, tmp_path / "j", clock)  # a new boot
    report = after.push()
    assert report["dead_lettered"] == 1 and _stored(onep_emulator) == []
    [(payload, reason)] = list(after.journal.dead_letters())
    assert "clock" in reason and decode_commit(payload)[3] == [["temp", 1.0]]
