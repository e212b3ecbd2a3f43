"""The HTTP Data API, the lightest way a device reads and writes its
dataports (no JSON, no timestamps), and GET /ip.

Every request names its client by `X-Exosite-CIK` (401 when missing,
unknown or expired). Values travel form-encoded
(application/x-www-form-urlencoded; charset=utf-8) and are stored through
the same path as the JSON-RPC writes (ingest.py): a numeric string is a
number to a float or integer dataport, preprocess runs, subscribers get a
copy. So a form-encoded write is what an RPC `read` returns, and an RPC
`write` is what a form-encoded read answers.

- POST /onep:v1/stack/alias, body `a1=v1&a2=v2`: every value is stored at
  the server's time (one timestamp for all) -> 204. An alias the client
  does not have is skipped, as documented ("aliases that are not found are
  not considered errors"); a value that does not fit its dataport, or an
  alias that names something other than a dataport, answers 400 with the
  reason and nothing is stored.
- GET /onep:v1/stack/alias?a1&a2: the latest value of each alias that has
  one -> 200 `a2=v2&a1=v1`, in the reverse order of the query, as the
  platform answered Exosite's own command-line tool; 204 when none of them
  has a value.
- POST /onep:v1/stack/alias?r1&r2 with writes in the body: the writes,
  then the reads (hybrid write/read).
- Long polling: GET /onep:v1/stack/alias?a1 with `Request-Timeout: <ms>`
  (at most 300000) waits for a new point of one alias -> 200 `a1=value`
  with `Last-Modified`, or 304 when the time runs out; `If-Modified-Since`
  (Unix time or HTTP date) waits for a point newer than that instead of one
  written after the request arrived (one already stored answers at once).
- POST /onep:v1/stack/waitalias?a1 with body `timeout=<ms>` (or the
  Request-Timeout header; default 30000, at most 300000): the earlier form
  of the long poll -> 200 `a1=value`, or 200 `a1=expire:<server time>`
  when the time runs out.
- POST /onep:v1/stack/record, body `alias=a1&<ts>=<v>&<ts>=<v>&alias=a2&...`:
  points at given timestamps (negative: seconds before now) -> 204; 409
  with `a1=<ts>&...` when an alias gets two points in the same second (then
  nothing is stored).
- GET /ip: the server's address and port as six comma-separated numbers
  ("127,0,0,1,31,144" is 127.0.0.1 port 8080).
"""

import email.utils
import time

from .access import is_key
from .answers import Form, empty, form, text
from .calls import SERIES
from .ingest import prepare, store_points
from .series import WAIT_DEFAULT_MS, WAIT_MAX_MS
from .timeseries import Invalid

ALIAS_PATH = "/onep:v1/stack/alias"
WAIT_PATH = "/onep:v1/stack/waitalias"
RECORD_PATH = "/onep:v1/stack/record"
PATHS = (ALIAS_PATH, WAIT_PATH, RECORD_PATH)


class Refused(Exception):
    """A request the Data API refuses: `status` and a plain-text reason."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


def handle(store, now, stopping, request):
    """The Answer to a request on one of PATHS."""
    try:
        client = _client(store, request.headers.get("X-Exosite-CIK"))
        reads = [name for name, _ in Form.parse(request.raw_query).pairs]
        if request.path == WAIT_PATH:
            return _waitalias(store, now, stopping, client, request, reads)
        if request.path == RECORD_PATH:
            return _record(store, now, client, request)
        if request.method == "POST":
            _write(store, now, client, Form.parse(request.body()).pairs)
            return _read(store, client, reads) if reads else empty(204)
        if request.method != "GET":
            return text(405, "GET or POST")
        if request.headers.get("Request-Timeout") is not None:
            return _long_poll(store, stopping, client, request, reads)
        return _read(store, client, reads)
    except Refused as refusal:
        return text(refusal.status, str(refusal))


def _client(store, cik):
    with store.lock:
        client = store.client_by_cik(cik) if is_key(cik) else None
    if client is None or client["status"] == "expired":
        raise Refused(401, "no or invalid CIK")
    return client["rid"]


def _value_text(value):
    """A stored value as the form answers carry it."""
    return value if isinstance(value, str) else repr(value)


def _target(store, client, alias):
    """(rid, resource) of a time series the client calls `alias`, or None."""
    rid = store.alias_target(client, alias)
    found = store.resource(rid) if rid is not None else None
    if found is None or found["type"] not in SERIES:
        return None
    return rid, found


def _writable(store, client, alias):
    """(rid, dataport) the client calls `alias`, None when it has no such
    alias; Refused 400 when the alias names something else."""
    rid = store.alias_target(client, alias)
    if rid is None:
        return None
    found = store.resource(rid)
    if found["type"] != "dataport":
        raise Refused(400, "%r is a %s, which takes no points" % (alias, found["type"]))
    return rid, found


# -- write, read ---------------------------------------------------------------------------

def _write(store, now, client, pairs):
    """Store every value at `now`, or none of them (Refused 400)."""
    with store.transaction():
        checked = []
        for alias, value in pairs:
            target = _writable(store, client, alias)
            if target is None:
                continue
            rid, found = target
            if value is None:
                raise Refused(400, "%r has no value (write alias=value)" % alias)
            try:
                checked.append((rid, found, prepare(store, found, value)))
            except Invalid as problem:
                raise Refused(400, "%r: %s" % (alias, problem))
        for rid, found, value in checked:
            store_points(store, now, rid, found, [(now, value)])


def _read(store, client, aliases):
    """200 with the latest value of each alias that has one (reverse query
    order), 204 when none has."""
    pairs = []
    with store.lock:
        for alias in reversed(aliases):
            target = _target(store, client, alias)
            point = store.latest_point(target[0]) if target else None
            if point is not None:
                pairs.append((alias, _value_text(point[1])))
    return form(pairs) if pairs else empty(204)


# -- long polls ------------------------------------------------------------------------------

def _long_poll(store, stopping, client, request, aliases):
    if len(aliases) != 1:
        raise Refused(400, "a long poll reads exactly one alias")
    timeout = _milliseconds(request.headers.get("Request-Timeout"))
    since = _since(request.headers.get("If-Modified-Since"))
    point = _wait(store, stopping, client, aliases[0], timeout, since)
    if point is None:
        return empty(304)
    if point is False:
        return empty(204)
    answer = form([(aliases[0], _value_text(point[1]))])
    answer.headers["Last-Modified"] = email.utils.formatdate(point[0], usegmt=True)
    return answer


def _waitalias(store, now, stopping, client, request, aliases):
    if not aliases:
        raise Refused(400, "name the alias to wait for: waitalias?<alias>")
    given = Form.parse(request.body()).first("timeout")
    if given is None:
        given = request.headers.get("Request-Timeout")
    timeout = WAIT_DEFAULT_MS if given is None else _milliseconds(given)
    since = _since(request.headers.get("If-Modified-Since"))
    point = _wait(store, stopping, client, aliases[0], timeout, since)
    if point is False:
        return empty(204)
    if point is None:
        return form([(aliases[0], "expire:%d" % now)])
    return form([(aliases[0], _value_text(point[1]))])


def _milliseconds(given):
    try:
        timeout = int(given)
    except (TypeError, ValueError):
        raise Refused(400, "a timeout is a whole number of milliseconds")
    if timeout < 0:
        raise Refused(400, "a timeout is a whole number of milliseconds")
    return min(timeout, WAIT_MAX_MS)


def _since(header):
    """If-Modified-Since as a Unix time (a number or an HTTP date), or None."""
    if header is None:
        return None
    header = header.strip()
    if header.lstrip("-").isdigit():
        return int(header)
    try:
        return int(email.utils.parsedate_to_datetime(header).timestamp())
    except (TypeError, ValueError, IndexError):
        raise Refused(400, "If-Modified-Since is a Unix time or an HTTP date")


def _wait(store, stopping, client, alias, timeout, since):
    """The newest point of `alias` after `since` (or written after the
    call began), None when `timeout` ms pass first, False for an alias the
    client does not have."""
    deadline = time.monotonic() + timeout / 1000.0
    with store.condition:
        target = _target(store, client, alias)
        if target is None:
            return False
        start_seq = store.last_seq(target[0]) if since is None else None
        while True:
            point = store.newest_point_after(target[0], since=since, seq=start_seq)
            if point is not None:
                return point
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stopping.is_set():
                return None
            store.condition.wait(remaining)


# -- record ----------------------------------------------------------------------------------

def _record(store, now, client, request):
    if request.method != "POST":
        raise Refused(405, "POST")
    batches, order, alias = {}, [], None
    for name, value in Form.parse(request.body()).pairs:
        if name == "alias":
            alias = value
            if alias not in batches:
                batches[alias] = []
                order.append(alias)
            continue
        if alias is None:
            raise Refused(400, "name the alias before its points: alias=<alias>&<ts>=<value>")
        try:
            stamp = int(name)
        except ValueError:
            raise Refused(400, "%r is not a timestamp" % name)
        batches[alias].append((now + stamp if stamp < 0 else stamp, value))
    conflicts = [(name, _first_clash(batches[name])) for name in order]
    conflicts = [(name, stamp) for name, stamp in conflicts if stamp is not None]
    if conflicts:
        return form(conflicts, status=409)
    with store.transaction():
        checked = []
        for name in order:
            target = _writable(store, client, name)
            if target is None:
                continue
            rid, found = target
            try:
                points = [(stamp, prepare(store, found, value)) for stamp, value in batches[name]]
            except Invalid as problem:
                raise Refused(400, "%r: %s" % (name, problem))
            checked.append((rid, found, points))
        for rid, found, points in checked:
            store_points(store, now, rid, found, points)
    return empty(204)


def _first_clash(points):
    """The first timestamp given twice in a batch, or None."""
    seen = set()
    for stamp, _ in points:
        if stamp in seen:
            return stamp
        seen.add(stamp)
    return None


# -- /ip ---------------------------------------------------------------------------------

def ip(server):
    """GET /ip: (host, port) of the server as "a,b,c,d,high,low"."""
    host, port = server
    octets = host.split(".")
    if len(octets) != 4 or not all(part.isdigit() for part in octets):
        octets = ["127", "0", "0", "1"]
    return text(200, ",".join(octets + [str(port >> 8), str(port & 255)]))
