"""uonep.forward.Uplink inside MicroPython against a fake sender (the true
edge: what would go on the wire), with the real Journal on the unix port's
file system and the ManualClock: staging, commits, the push report, what is
kept, dead-lettered or acknowledged for each kind of answer."""
import gc
import json
import os

from check import raises

from uonep.errors import CallError, RecordBatchError, TransportError, ValidationError
from uonep.forward import Uplink, decode_commit
from uonep.journal import Journal
from uonep.manualclock import UNSET, ManualClock

HEAPSIZE = "256k"
NOW = 1790000000


class FakeSender:
    """Records each request's groups as [resource, [[ts, value], ...]] and
    answers from a script: per request, a list of outcomes by resource
    (None: "ok") or an exception to raise."""

    def __init__(self):
        self.requests = []
        self.script = []

    def __call__(self, groups):
        sent = [[resource, json.loads(b"[" + bytes(points) + b"]")]
                for resource, points in groups]
        self.requests.append(sent)
        answer = self.script.pop(0) if self.script else {}
        if isinstance(answer, Exception):
            raise answer
        return [answer.get(resource) for resource, _ in groups], 100 * len(groups)


_count = [0]


def uplink(clock=None):
    _count[0] += 1
    journal = Journal("%s/uplink%d" % (os.getenv("UONEP_TMP"), _count[0]))
    sender = FakeSender()
    return Uplink(sender, journal, clock or ManualClock(NOW)), sender


def test_staging_last_value_wins_and_bad_input_is_refused_before_the_journal():
    link, sender = uplink()
    assert link.commit() == 0
    link.add_value("temp", 1.0)
    link.add_value("temp", 2.5)
    link.add_value({"alias": "count"}, 7)
    raises(ValidationError, link.add_value, "temp", float("nan"))
    raises(ValidationError, link.add_value, "", 1)
    assert link.commit() == 2
    [(_, payload)] = list(link.journal.pending())
    timestamp, _, _, points = decode_commit(payload)
    assert timestamp == NOW and sorted(points) == [["count", 7], ["temp", 2.5]]
    report = link.push()
    assert report == {"sent": 2, "requests": 1, "bytes": 200, "dead_lettered": 0,
                      "remaining": 0}, report
    assert sorted(sender.requests[0]) == [["count", [[NOW, 7]]], ["temp", [[NOW, 2.5]]]]
    assert link.push()["requests"] == 0


def test_sent_counts_delivered_points_and_dead_letters_apart():
    link, sender = uplink()
    for step in range(3):
        link.add_value("temp", float(step))
        link.add_value("bad", "x")
        link.commit()
    sender.script = [{"bad": CallError("recordbatch", 2, "invalid")}]
    report = link.push()
    assert report["sent"] == 3 and report["dead_lettered"] == 3, report
    assert len(list(link.journal.dead_letters())) == 3
    assert link.journal.stats()["pending"] == 0


def test_a_partly_refused_recordbatch_dead_letters_only_the_refused_points():
    link, sender = uplink()
    clock = link.clock
    for step in range(4):
        link.add_value("temp", float(step))
        link.commit()
        clock.advance(60)
    sender.script = [{"temp": RecordBatchError("recordbatch", 1, [[NOW + 60, "invalid"]])}]
    report = link.push()
    assert report["sent"] == 3 and report["dead_lettered"] == 1, report
    [(payload, reason)] = list(link.journal.dead_letters())
    assert reason == "invalid" and decode_commit(payload)[0] == NOW + 60


def test_a_call_that_may_pass_later_is_kept_and_its_error_raised():
    link, sender = uplink()
    link.add_value("temp", 1.0)
    link.add_value("count", 1)
    link.commit()
    sender.script = [{"count": CallError("recordbatch", 2, "fail")}]
    failure = raises(CallError, link.push)
    assert failure.status == "fail"
    # temp went through and is not sent again; count waits in the journal.
    report = link.push()
    assert report["sent"] == 1 and sender.requests[-1] == [["count", [[NOW, 1]]]], sender.requests


def test_no_answer_keeps_everything_for_the_next_push():
    link, sender = uplink()
    for step in range(5):
        link.add_value("temp", float(step))
        link.commit()
    sender.script = [TransportError("down")]
    raises(TransportError, link.push)
    assert link.journal.stats()["pending"] == 5
    assert link.push()["sent"] == 5
    assert sender.requests[0] == sender.requests[1]


def test_max_points_and_max_bytes_bound_each_push_and_each_request():
    link, sender = uplink()
    for step in range(50):
        link.add_value("temp", float(step))
        link.commit()
        link.clock.advance(1)
    report = link.push(max_points=20)
    assert report["sent"] == 20 and report["remaining"] == 30, report
    report = link.push(max_bytes=300)
    assert report["sent"] == 30 and report["requests"] > 1, report
    values = [value for request in sender.requests for _, points in request
              for _, value in points]
    assert values == [float(step) for step in range(50)]


def test_untimed_commits_are_dated_from_their_ticks_at_push():
    clock = ManualClock(UNSET)
    link, sender = uplink(clock)
    link.add_value("temp", 1.0)
    link.commit()
    clock.advance(90)
    # Pushed before the clock is set: a time relative to the server's now.
    sender.script = [TransportError("down")]
    raises(TransportError, link.push)
    assert sender.requests[0] == [["temp", [[-90, 1.0]]]], sender.requests
    clock.set_unix_time(NOW)
    clock.advance(10)
    assert link.push()["sent"] == 1
    assert sender.requests[1] == [["temp", [[NOW + 10 - 100, 1.0]]]], sender.requests


def test_a_client_is_a_sender_too():
    from uonep import Client
    client = Client("1" * 40, "http://127.0.0.1:9")
    link = Uplink(client, Journal(os.getenv("UONEP_TMP") + "/as-client"), ManualClock(NOW))
    link.add_value("temp", 1.0)
    link.commit()
    # Nothing listens on port 9: the Client's own error, the data kept.
    raises(TransportError, link.push)
    assert link.journal.stats()["pending"] == 1



def test_a_memory_error_while_batching_keeps_the_commit_in_the_journal():
    """Short of heap is not a broken record: nothing is dead-lettered."""
    from uonep import forward
    link, sender = uplink()
    link.add_value("temp", 1.0)
    link.add_value("count", 2)
    link.commit()
    original = forward._field

    def starved(payload, at):
        raise MemoryError("memory allocation failed")
    forward._field = starved
    try:
        raises(MemoryError, link.push)
    finally:
        forward._field = original
    assert list(link.journal.dead_letters()) == [] and link.journal.stats()["pending"] == 1
    assert link.push()["sent"] == 2 and sender.requests == [sender.requests[0]]


def test_a_push_of_many_requests_holds_one_batch_at_a_time():
    link, _ = uplink()
    for n in range(1500):
        link.add_value("temp", n / 8)
        link.commit(NOW + n)
    live = []

    def sender(groups):
        gc.collect()
        live.append(gc.mem_alloc())
        return [None] * len(groups), 100
    link.send = sender
    gc.collect()
    before = gc.mem_alloc()
    report = link.push()
    gc.collect()
    after = gc.mem_alloc()
    assert report["sent"] == 1500 and report["requests"] > 5, report
    # Each request sees the same live heap: one batch buffer serves the
    # whole push, and nothing of the batches before is held (their groups,
    # the walk that read them).
    assert max(live) - min(live) < 256, live
    # And the push lets go of its batch buffer when it returns.
    assert after - before < 256, (before, after)


def test_an_earlier_boots_untimed_commit_is_dead_lettered_once():
    """Even after a batch that stopped over its limit (a first commit larger
    than max_points): it waits for the next batch, not dead-lettered twice."""
    earlier, _ = uplink(ManualClock(UNSET))
    earlier.add_value("hum", 40)
    earlier.commit()
    link, sender = uplink()
    for name in ("temp", "count"):
        link.add_value(name, 1)
    link.commit()
    link.journal.commit(list(earlier.journal.pending())[0][1])
    link.add_value("temp", 2)
    link.commit()
    assert link.push(max_points=1) == {"sent": 2, "requests": 1, "bytes": 200,
                                       "dead_lettered": 0, "remaining": 2}
    assert link.push() == {"sent": 1, "requests": 1, "bytes": 100, "dead_lettered": 1,
                           "remaining": 0}
    [(payload, reason)] = list(link.journal.dead_letters())
    assert "earlier boot" in reason and decode_commit(payload)[3] == [["hum", 40]]
    assert [len(request) for request in sender.requests] == [2, 1]


def test_a_push_that_goes_well_leaves_the_rare_paths_unloaded():
    import sys
    sys.modules.pop("uonep.forward_rare", None)
    link, _ = uplink(ManualClock(UNSET))
    link.add_value("temp", 1.0)
    link.commit()                    # untimed, dated at push
    link.clock.set_unix_time(NOW)
    link.add_value("temp", 2.0)
    link.add_value("count", 3)
    link.commit()
    assert link.push()["sent"] == 3
    assert "uonep.forward_rare" not in sys.modules
    link.add_value("temp", 4.0)
    link.commit()
    link.send.script.append({"temp": CallError("recordbatch", 1, "invalid")})
    assert link.push()["dead_lettered"] == 1 and "uonep.forward_rare" in sys.modules
