"""The arrival log: which points each write request stored, when they
arrived (server clock), and whether the same point had arrived before.

A store-and-forward device resends a batch whose acknowledgement it lost;
the platform keeps one value per dataport and second, so the resend is
invisible in the time series. The log keeps it visible: every point a
write, writegroup, record or recordbatch call stores is noted with its
sample time, the server time it arrived and how it met the store:

- "new": no point at that timestamp in that dataport yet;
- "duplicate": a point with the same timestamp and the same value was
  already stored (a resend);
- "replaced": a point with the same timestamp but another value was there
  (and is overwritten, as the platform does).

The judgement is against the points the dataport holds (and those before
it in the same call): a point that retention or flush removed meanwhile
counts as new when it comes again.

It lives in the emulator's SQLite database (table `arrivals`, so a `--db`
file keeps it across restarts, and a call rolled back leaves no trace) and
is bounded: the newest KEPT_REQUESTS requests per client, a client being
the owner of the dataport written (a request writing into two clients'
dataports is noted under each). Points copied by subscriptions and seeded
points are not noted: they did not arrive.

A door groups the points of one request by opening it around the calls
(`with store.arrivals.request("recordbatch"):`, per thread); points stored
outside an open request form a request of their own.
"""

import contextlib
import json
import threading

# requests kept per client; older ones are deleted as new ones arrive
KEPT_REQUESTS = 20
SEEN = ("new", "duplicate", "replaced")

SCHEMA = """
CREATE TABLE IF NOT EXISTS arrivals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client TEXT NOT NULL,
    request INTEGER NOT NULL,
    calls TEXT NOT NULL,
    rid TEXT NOT NULL,
    ts INTEGER NOT NULL,
    value TEXT NOT NULL,
    arrived INTEGER NOT NULL,
    seen TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS arrivals_client ON arrivals (client, request);
"""


class ArrivalLog:
    """The arrival log of one Store (reached as `store.arrivals`); every
    method but request() runs with the store's lock held by the caller."""

    def __init__(self, store, kept=KEPT_REQUESTS):
        self.store = store
        self.kept = kept
        self._current = threading.local()
        self._numbers = threading.Lock()
        with store.lock:
            store.connection.executescript(SCHEMA)
            store.connection.commit()
            row = store.connection.execute("SELECT MAX(request) FROM arrivals").fetchone()
        self._last = row[0] or 0

    def _next(self):
        with self._numbers:
            self._last += 1
            return self._last

    @contextlib.contextmanager
    def request(self, calls):
        """Group the points stored in this thread until the block ends as one
        request; `calls` names what it ran ("recordbatch", "write,write")."""
        # numbered when it stores its first point: requests that store none leave no gap
        self._current.open = [None, calls]
        try:
            yield
        finally:
            self._current.open = None

    def note(self, client, rid, noted, arrived):
        """Record the points [(ts, value, seen), ...] one call stored in the
        dataport `rid` of `client`, then trim the client's log."""
        current = getattr(self._current, "open", None) or [None, ""]
        if current[0] is None:
            current[0] = self._next()
        number, calls = current
        self.store.connection.executemany(
            "INSERT INTO arrivals (client, request, calls, rid, ts, value, arrived, seen)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(client, number, calls, rid, ts, json.dumps(value), arrived, seen)
             for ts, value, seen in noted])
        self.store.connection.execute(
            "DELETE FROM arrivals WHERE client = ? AND request < (SELECT MIN(request) FROM"
            " (SELECT DISTINCT request FROM arrivals WHERE client = ?"
            " ORDER BY request DESC LIMIT ?))", (client, client, self.kept))

    def recent(self, client, points=None):
        """The client's kept requests, newest first: [{"request", "calls",
        "arrived", "count", "duplicates", "replaced", "points": [{"rid",
        "ts", "value", "arrived", "seen"}, ...]}], a request's points in the
        order they were stored, at most `points` of them (None: all)."""
        connection = self.store.connection
        requests = []
        for row in connection.execute(
                "SELECT request, calls, MIN(arrived) AS arrived, COUNT(*) AS count,"
                " SUM(seen = 'duplicate') AS duplicates, SUM(seen = 'replaced') AS replaced"
                " FROM arrivals WHERE client = ? GROUP BY request ORDER BY request DESC",
                (client,)).fetchall():
            found = dict(row)
            found["points"] = [
                {"rid": point["rid"], "ts": point["ts"], "value": json.loads(point["value"]),
                 "arrived": point["arrived"], "seen": point["seen"]}
                for point in connection.execute(
                    "SELECT rid, ts, value, arrived, seen FROM arrivals WHERE client = ?"
                    " AND request = ? ORDER BY seq LIMIT ?",
                    (client, row["request"], -1 if points is None else points)).fetchall()]
            requests.append(found)
        return requests

    def forget(self, rid):
        """Drop what was noted about a dropped resource (a dataport or client)."""
        self.store.connection.execute("DELETE FROM arrivals WHERE rid = ? OR client = ?",
                                      (rid, rid))


def seen(stored, timestamp, value):
    """How a point met the store: "new", "duplicate" or "replaced"; `stored`
    is {ts: value} of what the dataport holds at the points' timestamps."""
    if timestamp not in stored:
        return "new"
    return "duplicate" if stored[timestamp] == value else "replaced"
