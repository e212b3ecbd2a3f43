"""The reliability campaign's fault matrix, inside MicroPython: every fault
kind the emulator can inject, at every request of a multi-request push, over
many commit/push cycles. Afterwards: nothing committed is lost (it is on the
server, or in the dead-letter store when the server refused it), no point is
sent again after the server acknowledged it, and the loop recovered on its
own as soon as the fault stopped."""
import json
import os

import requests
from emulator_control import CIK, arm, clear, points, url

from uonep import Client
from uonep.errors import OnepError
from uonep.forward import Uplink, decode_commit
from uonep.journal import Journal
from uonep.manualclock import ManualClock

NEEDS_EMULATOR = True
HEAPSIZE = "4m"

KINDS = (
    ("drop_before_body", {}),
    ("drop_after_body", {}),
    ("stall", {"seconds": 0.6}),
    ("http_status", {"status": 500}),
    ("http_status", {"status": 502}),
    ("http_status", {"status": 503}),
    ("truncate", {}),
    ("auth", {}),
    ("call_status", {"call_status": "fail", "procedure": "recordbatch"}),
    ("partial_invalid", {}),
)
ROUNDS = 17
REQUESTS_PER_PUSH = 3
COMMITS_PER_CYCLE = 6


class RecordingHTTP:
    """The network edge: forwards to `requests`, arms the planned fault
    right before the chosen request of a push, and logs what was sent."""

    def __init__(self):
        self.planned = None      # (request number in this push, kind, options)
        self.count = 0
        self.sent = {}           # (alias, ts) -> times sent in a request answered "ok"

    def request(self, method, address_url, data=None, headers=None, timeout=None):
        self.count += 1
        if self.planned is not None and self.planned[0] == self.count:
            kind, options = self.planned[1], self.planned[2]
            if kind != "partial_invalid":
                arm(kind, **options)
            self.planned = None
        response = requests.request(method, address_url, data=data, headers=headers,
                                    timeout=timeout)
        if response.status_code == 200 and data:
            self._note(data, response)
        return response

    def _note(self, body, response):
        # Only answers that parse as a list of "ok" count as acknowledged.
        try:
            answer = json.loads(response.content)
        except ValueError:
            return
        if not isinstance(answer, list):
            return
        calls = json.loads(body)["calls"]
        for call, entry in zip(calls, answer):
            if entry.get("status") == "ok":
                alias = call["arguments"][0]["alias"]
                for point in call["arguments"][1]:
                    key = (alias, point[0])
                    self.sent[key] = self.sent.get(key, 0) + 1


def _journal_dir():
    return os.getenv("UONEP_TMP") + "/fault-matrix"


def _server_points(alias):
    return dict((point[0], point[1]) for point in points(CIK, alias))


def _cycle(client, clock, committed, refused, invalid):
    for step in range(COMMITS_PER_CYCLE):
        clock.advance(60)
        now = clock.now()
        client.add_value("temp", float(now % 1000) / 4)
        client.add_value("count", now % 977)
        if invalid and step == COMMITS_PER_CYCLE // 2:
            client.add_value("count", "oops")  # the server refuses this point
            refused.append(("count", now))
        else:
            committed.append(("count", now, now % 977))
        committed.append(("temp", now, float(now % 1000) / 4))
        client.commit()


def _lost(committed, refused, journal, letters_seen):
    """Committed points neither on the server nor in the dead-letter store."""
    lost = 0
    for alias in ("temp", "count"):
        stored = _server_points(alias)
        for name, timestamp, value in committed:
            if name == alias and stored.get(timestamp) != value:
                lost += 1
    dead = set()
    for index, (payload, _) in enumerate(journal.dead_letters()):
        if index >= letters_seen:
            record = decode_commit(payload)
            dead.add((record[3][0][0], record[0]))
    return lost + len([key for key in refused if key not in dead])


def test_fault_matrix():
    http = RecordingHTTP()
    clock = ManualClock(1790000000)
    journal = Journal(_journal_dir(), capacity_bytes=1 << 20)
    client = Uplink(Client(CIK, url(), timeout=0.4, http=http), journal, clock)
    faults = recovered = lost = refused_total = 0
    resent_after_ack = []
    for _ in range(ROUNDS):
        # Checked round by round: long lists fragment MicroPython's heap.
        committed, refused = [], []
        letters_seen = journal.stats()["dead_lettered"]
        http.sent = {}
        for kind, options in KINDS:
            for point in range(1, REQUESTS_PER_PUSH + 1):
                _cycle(client, clock, committed, refused, kind == "partial_invalid")
                http.count = 0
                http.planned = (point, kind, options)
                try:
                    client.push(max_bytes=420)
                except OnepError:
                    pass
                faults += 1
                clear()
                http.count = 0
                report = client.push(max_bytes=420)   # fault gone: recovers by itself
                assert report["remaining"] == 0, (kind, point, report)
                recovered += 1
        lost += _lost(committed, refused, journal, letters_seen)
        refused_total += len(refused)
        resent_after_ack.extend(key for key, times in http.sent.items() if times > 1)
    from campaign import report as campaign_report
    campaign_report("reliability", faults=faults, lost=lost)
    assert faults >= 500 and recovered == faults
    assert lost == 0
    assert not resent_after_ack, resent_after_ack[:5]
    assert journal.stats()["dead_lettered"] == refused_total
